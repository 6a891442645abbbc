"""Options shared by every command, and the checks every path option goes through.

Outputs (`--out`, `--csv`, `--records`, `--dest`, ...) are checked by `output_option` while the
command line is parsed, so a missing or read-only folder is reported before any work is done or
recorded; inputs by `input_option` / `input_argument`. The rules themselves are in
fourhour.outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from fourhour.outputs import check_input, check_output
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


def _name(param: typer.CallbackParam) -> str:
    longs = [o for o in param.opts if o.startswith("--")]
    return longs[0] if longs else (param.name or "output")


def _paths(value: Any) -> list[Path]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [Path(v) for v in value]
    return [Path(value)]


def _check_file_output(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
    if not ctx.resilient_parsing:
        for path in _paths(value):
            check_output(path, option=_name(param))
    return value


def _check_folder_output(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
    if not ctx.resilient_parsing:
        for path in _paths(value):
            check_output(path, option=_name(param), folder=True)
    return value


def _check_file_input(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
    if not ctx.resilient_parsing:
        for path in _paths(value):
            check_input(path)
    return value


def _check_file_or_folder_input(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
    if not ctx.resilient_parsing:
        for path in _paths(value):
            check_input(path, folder_ok=True)
    return value


def output_option(*names: str, folder: bool = False, **kwargs: Any) -> Any:
    """A typer.Option for a file (or, with `folder`, a folder) fourhour writes, checked first."""
    callback = _check_folder_output if folder else _check_file_output
    return typer.Option(*names, callback=callback, **kwargs)


def input_option(*names: str, **kwargs: Any) -> Any:
    """A typer.Option for a file fourhour reads: a missing file is a one-line error."""
    return typer.Option(*names, callback=_check_file_input, **kwargs)


def input_argument(*, folders: bool = False, **kwargs: Any) -> Any:
    """A typer.Argument for files (or, with `folders`, files and folders) fourhour reads."""
    callback = _check_file_or_folder_input if folders else _check_file_input
    return typer.Argument(callback=callback, **kwargs)
