"""The command line: thin commands over the library; errors become one message and exit code.

Start-up is kept short: this module and the command modules import only Typer, Rich and
fourhour's light modules (errors, settings, periods, outputs, constants); each command imports
what it needs when it runs (bench/cli_bench.py times `fourhour --help` and a bulletin).
"""

from __future__ import annotations

import functools
import os
import sys

import typer
from rich.console import Console

from fourhour.errors import FourhourError

app = typer.Typer(
    name="fourhour",
    help=(
        "Oversee A&E performance in the English NHS against the four-hour standard: ingest NHS "
        "England's returns into a DuckDB warehouse, measure performance, publish bulletins. "
        "Exit codes: docs/cli.md."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: Rich's help panels showed `--help <bool>` and swallowed [brackets] as markup.
    rich_markup_mode=None,
)

PIPED_WIDTH = 200  # columns for tables written to a file or pipe, so numbers are never cut


def _console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    interactive = hasattr(stream, "isatty") and stream.isatty()
    if interactive or os.environ.get("COLUMNS"):
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=PIPED_WIDTH)


console = _console()
err_console = _console(stderr=True)


def _version(value: bool) -> None:
    if value:
        from fourhour import __version__

        typer.echo(f"fourhour {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print fourhour's version and exit.", is_eager=True,
        callback=_version,
    ),
) -> None:  # fmt: skip
    # Options of `fourhour` itself; the help text is the app's, above.
    return None


def _register() -> None:
    # Each module adds its commands to `app`; imported here so that `fourhour --help` lists all.
    # The modules import nothing heavy at the top (pandas, Ibis, numba, Altair): see above.
    from fourhour.cli import (  # noqa: F401
        bulletin_cmd,
        capacity_cmd,
        demo_cmd,
        escalate_cmd,
        evidence_cmd,
        fetch_cmd,
        forecast_cmd,
        funding_cmd,
        ingest_cmd,
        leaders_cmd,
        measures_cmd,
        orgs_cmd,
        patients_cmd,
        report_cmd,
        serve_cmd,
        tokens_cmd,
        warehouse_cmd,
    )


_register()

INTERRUPTED = 130
UNEXPECTED = 70  # EX_SOFTWARE: a fault in fourhour itself, not in what it was given
DEBUG_ENV = "FOURHOUR_DEBUG"


def _error(message: str, hint: str | None = None) -> None:
    err_console.print(f"[bold red]error:[/] {message}", markup=True, highlight=False,
                      soft_wrap=True)  # fmt: skip
    if hint:
        err_console.print(f"[dim]hint:[/] {hint}", highlight=False, soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@functools.cache
def _command() -> typer._click.Command:
    """The Click command made from `app`, built once a process (some 50 ms of CPU: Typer
    reads every command's signature), however often `main` runs in it."""
    return typer.main.get_command(app)


def main(argv: list[str] | None = None) -> None:
    """Run the command line; every failure ends in one `error:` line (and maybe a hint line)."""
    from typer import _click

    command = _command()
    try:
        code = command.main(args=argv, prog_name="fourhour", standalone_mode=False)
    except FourhourError as exc:
        _error(_escape(exc.message), _escape(exc.hint) if exc.hint else None)
        sys.exit(exc.exit_code)
    except _click.exceptions.NoArgsIsHelpError as exc:
        typer.echo(exc.ctx.get_help() if exc.ctx else "")
        sys.exit(0)
    except _click.exceptions.ClickException as exc:
        message = " ".join(exc.format_message().split())
        ctx = getattr(exc, "ctx", None)
        hint = f"see `{ctx.command_path} --help`" if ctx is not None else None
        _error(_escape(message), hint)
        sys.exit(exc.exit_code)
    except typer.Abort:
        _error("interrupted")
        sys.exit(INTERRUPTED)
    except KeyboardInterrupt:
        _error("interrupted; nothing half-written was kept")
        sys.exit(INTERRUPTED)
    except BrokenPipeError:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115  (the reader went away: stop quietly)
        sys.exit(1)
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        _error(
            _escape(f"unexpected {type(exc).__name__}: {' '.join(str(exc).split())}"),
            f"this is a fault in fourhour; {DEBUG_ENV}=1 shows the traceback",
        )
        sys.exit(UNEXPECTED)
    if code == INTERRUPTED:  # Typer turns Ctrl-C during a command into exit status 130
        _error("interrupted; nothing half-written was kept")
    sys.exit(code if isinstance(code, int) else 0)
