"""Every command of the Typer app, run with bad paths and bad values, fails with one `error:`
line, a documented exit code and no traceback; outputs are checked before any work is done.

The commands and their parameters are read from the app itself, so a new command or option is
covered (or fails `test_every_option_is_classified`) without editing this file.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main

from fourhour.cli import app, main
from fourhour.errors import EXIT_CODES, OutputError, ReaderError, WarehouseError
from fourhour.warehouse import open_warehouse

ROOT = Path(__file__).resolve().parents[1]

# Values that make each text option wrong (by option name, whatever the command).
BAD_TEXT = {
    "--week-ending": "2025-02-30",
    "--month": "2025-13",
    "--quarter": "2016Q9",
    "--fy": "FY16",
    "--format": "bogus",
    "--level": "bogus",
    "--period": "bogus",
    "--engine": "bogus",
    "--status": "bogus",
    "--role": "bogus",
    "--kind": "bogus",
    "--from": "bogus",
    "--to": "bogus",
    "--on": "bogus",
    "--start": "bogus",
    "--beds": "bogus",
    "--demand": "bogus",
    "--los": "bogus",
    "--streaming": "bogus",
    "--spc-preset": "excel",
    "--winter": "2017-19",
    "--models": "prophet",
    "--reconcile": "bogus",
    "--origin": "2026-13",
    "--discharge": "bogus",
    "--weekend": "bogus",
}
# Free text: any value is valid (names, notes, codes looked up later, addresses).
FREE_TEXT = {"--provider", "--system", "--trust", "--note", "--name", "--host", "--base-url"}
# Valid values for required options, so that the command gets as far as the bad one.
GOOD_TEXT = {
    "--week-ending": "2025-01-05",
    "--quarter": "2016-17Q2",
    "--from": "2025-01",
    "--provider": "RAA",
    "--name": "someone",
    "--status": "open",
}
PERIODS = ("--week-ending", "--month", "--quarter", "--fy")
CHECKS = {
    "_check_file_output": "file output",
    "_check_folder_output": "folder output",
    "_check_file_input": "file input",
    "_check_file_or_folder_input": "file input",
}


def commands() -> Iterator[tuple[tuple[str, ...], object]]:
    def walk(cmd: object, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], object]]:
        subs = getattr(cmd, "commands", None)
        if subs is None:
            yield path, cmd
            return
        for name, sub in sorted(subs.items()):
            yield from walk(sub, (*path, name))

    yield from walk(typer.main.get_command(app), ())


COMMANDS = {" ".join(path): cmd for path, cmd in commands()}


def kind(param) -> str:
    """What a parameter is: warehouse, file/folder input/output, flag, int, float, text, enum."""
    if param.name == "warehouse":
        return "warehouse"
    if param.name == "help" or getattr(param, "is_flag", False):
        return "flag"
    callback = param.type_descriptor.parameter_info.callback
    if callback is not None and callback.__name__ in CHECKS:
        return CHECKS[callback.__name__]
    bare = param.bare_type()
    if "Path" in bare:
        return "unchecked path"
    if bare in ("int", "float", "str"):
        return bare
    return "enum"


@pytest.fixture(scope="module")
def empty_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new, empty warehouse, made once: each test works on a copy (creating one each time
    was half of this module's run time)."""
    path = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    open_warehouse(path).close()
    return path


@pytest.fixture
def place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_warehouse: Path
) -> dict[str, Path]:
    """A working folder with a good (empty) warehouse, a CSV and a plain file. Compiling the
    capacity engine fails here: inputs are checked before that work, not after it."""

    def too_soon() -> None:
        raise RuntimeError("the engine was compiled before the inputs were checked")

    engine = importlib.import_module("fourhour.capacity.simulate")  # a function shadows it
    monkeypatch.setattr(engine, "warm_up_engine", too_soon)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FOURHOUR_WAREHOUSE", raising=False)
    monkeypatch.setenv("FOURHOUR_LOCK_WAIT", "0")
    good = tmp_path / "good.duckdb"
    shutil.copyfile(empty_warehouse, good)
    csv = tmp_path / "some.csv"
    csv.write_text("a,b\n1,2\n")
    return {"root": tmp_path, "good": good, "csv": csv}


def good_value(param, place: dict[str, Path]) -> str:
    k = kind(param)
    name = param.opts[0]
    if k == "file output":
        return str(place["root"] / "ok-out.csv")
    if k == "folder output":
        return str(place["root"] / "ok-folder")
    if k == "file input":
        return str(place["csv"])
    if k == "int":
        return "1"
    return GOOD_TEXT[name]


def argv_with(path: tuple[str, ...], cmd, place, bad_param, bad_value: str) -> list[str]:
    """The command with every required parameter given a good value, and `bad_param` the bad.

    Commands that take one period of several (--week-ending, --month, ...) get --month."""
    argv = list(path)
    period_options = [p for p in cmd.params if p.opts[0] in PERIODS and not p.required]
    needs_period = len(period_options) > 1 and bad_param not in period_options
    for p in cmd.params:
        if p is bad_param:
            value = bad_value
        elif p.name == "warehouse":
            value = str(place["good"])
        elif p.required:
            value = good_value(p, place)
        elif needs_period and p.opts[0] == "--month":
            value = "2025-01"
        else:
            continue
        if p.param_type_name == "argument":
            argv.append(value)
        else:
            argv += [p.opts[0], value]
    return argv


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    code = info.value.code
    return (0 if code is None else code), out, err


def assert_clean_failure(code: int, err: str, argv: list[str]) -> str:
    """One `error:` line (and at most a hint), a documented non-zero code, no traceback."""
    where = " ".join(argv)
    assert "Traceback" not in err, where
    assert code in EXIT_CODES and code not in (0, 130), f"{where}: exit {code}\n{err}"
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, f"{where}: {err!r}"
    assert "unexpected" not in errors[0], f"{where}: {errors[0]}"
    after = lines[lines.index(errors[0]) + 1 :]
    assert all(line.startswith("hint: ") for line in after) and len(after) <= 1, where
    return errors[0]


def bad_path_cases() -> Iterator[tuple[str, str, str]]:
    for name, cmd in COMMANDS.items():
        for p in cmd.params:
            k = kind(p)
            if k == "file output":
                yield name, p.name, "missing folder"
                yield name, p.name, "read-only folder"
                yield name, p.name, "a folder"
            elif k == "folder output":
                yield name, p.name, "under a file"
            elif k in ("file input", "warehouse"):
                yield name, p.name, "missing"
                if k == "warehouse":
                    yield name, p.name, "a CSV"


def bad_value_cases() -> Iterator[tuple[str, str]]:
    for name, cmd in COMMANDS.items():
        for p in cmd.params:
            k = kind(p)
            if k in ("int", "float", "enum") or (k == "str" and p.opts[0] in BAD_TEXT):
                yield name, p.name


def test_every_option_is_classified() -> None:
    """New options must be checked paths, typed values, or named above as bad or free text."""
    for name, cmd in COMMANDS.items():
        for p in cmd.params:
            k = kind(p)
            assert k != "unchecked path", f"{name} {p.opts[0]}: use output_option/input_option"
            if k == "str":
                assert p.opts[0] in BAD_TEXT or p.opts[0] in FREE_TEXT, f"{name} {p.opts[0]}"


BAD_PATHS = list(bad_path_cases())


@pytest.mark.parametrize(("command", "param", "case"), BAD_PATHS)
def test_bad_path(command: str, param: str, case: str, place, capsys) -> None:
    cmd = COMMANDS[command]
    bad = next(p for p in cmd.params if p.name == param)
    root = place["root"]
    value = {
        "missing folder": root / "missing-folder" / "x.csv",
        "read-only folder": Path("/sys/fourhour-x.csv"),
        "a folder": root,
        "under a file": place["csv"] / "sub",
        "missing": root / ("nope.db" if param == "warehouse" else "nope.csv"),
        "a CSV": place["csv"],
    }[case]
    before = sorted(os.listdir(root))
    argv = argv_with(tuple(command.split()), cmd, place, bad, str(value))
    code, _, err = run(argv, capsys)
    line = assert_clean_failure(code, err, argv)
    shown = {"missing folder": "missing-folder", "read-only folder": "/sys", "a folder": str(root)}
    assert shown.get(case, value.name) in line, line
    expected = {
        "file output": OutputError.exit_code,
        "folder output": OutputError.exit_code,
        "file input": ReaderError.exit_code,
        "warehouse": WarehouseError.exit_code,
    }[kind(bad)]
    assert code == expected, f"{argv}: {err}"
    assert sorted(os.listdir(root)) == before, "a failed command left files behind"


@pytest.mark.parametrize(("command", "param"), list(bad_value_cases()))
def test_bad_value(command: str, param: str, place, capsys) -> None:
    cmd = COMMANDS[command]
    bad = next(p for p in cmd.params if p.name == param)
    k = kind(bad)
    value = {"int": "many", "float": "lots", "enum": "bogus"}.get(k) or BAD_TEXT[bad.opts[0]]
    argv = argv_with(tuple(command.split()), cmd, place, bad, value)
    code, _, err = run(argv, capsys)
    assert_clean_failure(code, err, argv)


def test_out_of_range_values(place, capsys) -> None:
    for argv in (
        ["warehouse", "log", "--last", "-5", "-w", str(place["good"])],
        ["tokens", "audit", "--last", "0", "-w", str(place["good"])],
        ["patients", "generate", "--out", "g", "--rows", "0"],
        ["bulletin", "--month", "2025-01", "--threshold", "120", "-w", str(place["good"])],
    ):
        code, _, err = run(argv, capsys)
        assert_clean_failure(code, err, argv)


def test_exit_codes_are_documented() -> None:
    doc = (ROOT / "docs" / "cli.md").read_text()
    for code, meaning in EXIT_CODES.items():
        assert re.search(rf"^\| {code} \| {re.escape(meaning)}", doc, re.M), (code, meaning)


def test_unexpected_faults_are_one_line_too(place, capsys, monkeypatch) -> None:
    import fourhour.report.bulletin as bulletin

    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(bulletin, "build_bulletin", broken)
    code, _, err = run(["bulletin", "--month", "2025-01", "-w", str(place["good"])], capsys)
    assert code == 70 and "Traceback" not in err
    assert err.splitlines()[0] == "error: unexpected RuntimeError: boom second line"


def test_interrupt_prints_one_line_and_writes_nothing(place, capsys, monkeypatch) -> None:
    import fourhour.report.bulletin as bulletin

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(bulletin, "render", interrupted)
    out = place["root"] / "b.txt"
    argv = ["bulletin", "--month", "2025-01", "-w", str(place["good"]), "--out", str(out)]
    monkeypatch.setattr(bulletin, "build_bulletin", lambda *a, **k: {})
    code, _, err = run(argv, capsys)
    assert code == 130
    assert err.strip().startswith("error: interrupted") and "Traceback" not in err
    assert not out.exists() and not [p for p in place["root"].iterdir() if "partial" in p.name]


def test_entry_point_in_a_subprocess_has_no_traceback(place) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "fourhour", "bulletin", "--month", "2025-01", "-w", "some.csv"],
        capture_output=True,
        text=True,
        check=False,
        cwd=place["root"],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.returncode == WarehouseError.exit_code
    assert proc.stderr.splitlines()[0] == (
        "error: some.csv is not a fourhour warehouse (not a DuckDB database file)"
    )


def test_version(capsys) -> None:
    from fourhour import __version__

    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.strip() == f"fourhour {__version__}"


def test_help_shows_no_type_for_flags(capsys) -> None:
    """`--help <bool>` and `--exact <bool>`: flags take no value, and help must not suggest one."""
    for argv in (["warehouse", "log", "--help"], ["patients", "measures", "--help"]):
        code, out, _ = run(argv, capsys)
        assert code == 0 and "<bool>" not in out
        assert re.search(r"^\s+--help\s+Show this message", out, re.M)


def test_demo_help_and_usage_agree(capsys) -> None:
    code, out, _ = run(["demo", "--help"], capsys)
    assert code == 0 and "--dir DIR" in out


def test_readme_warehouse_claim_is_true() -> None:
    """README and docs/cli.md name the commands without --warehouse; exactly those lack it."""
    takes = {n for n, cmd in COMMANDS.items() if any(p.name == "warehouse" for p in cmd.params)}
    without = sorted(set(COMMANDS) - takes)
    for doc in (ROOT / "README.md", ROOT / "docs" / "cli.md"):
        text = doc.read_text()
        claim = re.search(r"Every command except (.+?)\s+takes\s+`--warehouse PATH`", text, re.S)
        assert claim, f"{doc.name} should say which commands take --warehouse"
        assert sorted(re.findall(r"`([a-z -]+)`", claim.group(1))) == without, doc.name


@pytest.mark.parametrize(
    "argv",
    [["frobnicate"], ["bulletin", "--bogus"], ["bulletin", "--month"], ["escalate"]],
)
def test_usage_errors_are_one_line(argv: list[str], capsys) -> None:
    code, _, err = run(argv, capsys)
    assert code == 2
    assert_clean_failure(code, err, argv)


HEAVY = ("pandas", "numpy", "duckdb", "ibis", "numba", "altair", "pyarrow", "jinja2", "httpx")


def test_help_imports_nothing_heavy() -> None:
    """The fast CLI: listing and describing commands loads no engine (bench/cli_bench.py times
    it); each command imports what it uses when it runs."""
    code = (
        "import sys\n"
        "from fourhour.cli import main\n"
        "for argv in (['--help'], ['bulletin', '--help'], ['patients', 'generate', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_precompute_needs_a_warehouse_and_does_nothing_on_an_empty_one(place, capsys) -> None:
    """`fourhour precompute` of a path with no warehouse is refused (nothing is created); on a
    warehouse with no returns yet it computes nothing and says so (it once failed inside)."""
    missing = place["root"] / "new.duckdb"
    argv = ["precompute", "--warehouse", str(missing)]
    code, _, err = run(argv, capsys)
    line = assert_clean_failure(code, err, argv)
    assert code == WarehouseError.exit_code and "new.duckdb" in line
    assert not missing.exists()
    code, out, err = run(["precompute", "--warehouse", str(place["good"])], capsys)
    assert code == 0, err
    said = " ".join(out.split())  # Rich wraps at the terminal's width
    assert "web pages: 0 computed" in said and "0 unchanged" in said
