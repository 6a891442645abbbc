"""Options shared by every command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fourhour.settings import SETTINGS

_WAREHOUSE = next(s for s in SETTINGS if s.name == "warehouse")

WarehouseOption = Annotated[
    Path | None,
    typer.Option(
        "--warehouse",
        "-w",
        help=f"{_WAREHOUSE.help} Default: ${_WAREHOUSE.env} or {_WAREHOUSE.default}.",
        envvar=_WAREHOUSE.env,
        show_default=False,
    ),
]
