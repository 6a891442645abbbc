"""The suite's own configuration: what tests/conftest.py marks slow exists."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import SLOW_MODULES, SLOW_TESTS

HERE = Path(__file__).resolve().parent


def test_every_test_marked_slow_by_name_exists() -> None:
    # A renamed test or module would otherwise slip back into `make check` unnoticed.
    for module in SLOW_MODULES:
        assert (HERE / module).is_file(), module
    for test in SLOW_TESTS:
        module, name = test.split("::")
        assert re.search(rf"^def {name}\(", (HERE / module).read_text("utf-8"), re.M), test
