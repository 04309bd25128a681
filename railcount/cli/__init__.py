"""The ``railcount`` command line: a thin typer layer over the library.

Errors are handled here and only here: a :class:`~railcount.errors.RailcountError`
becomes one line on stderr and its exit code (2 usage, 1 data); the
parser's own usage errors become one line too (exit 2, :func:`main`);
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import typer

from railcount import __version__
from railcount.errors import RailcountError, RailcountWarning

app = typer.Typer(
    name="railcount",
    help="Count freight railcars in rail yards on high-resolution satellite imagery.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"railcount {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Count freight railcars in rail yards on high-resolution satellite imagery."""


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a RailcountError raised by a command into one line on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with warnings.catch_warnings():
                # railcount's own warnings (e.g. a slow striped file) as one line each, no source echo.
                warnings.simplefilter("always", RailcountWarning)
                warnings.showwarning = _show_warning
                return func(*args, **kwargs)
        except RailcountError as exc:
            print(f"railcount: error: {exc}", file=sys.stderr)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            print("railcount: interrupted", file=sys.stderr)
            raise typer.Exit(130) from None

    return wrapper


def _show_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, *args: Any, **kwargs: Any
) -> None:
    if issubclass(category, RailcountWarning):
        print(f"railcount: warning: {message}", file=sys.stderr)
    else:
        print(f"{filename}:{lineno}: {category.__name__}: {message}", file=sys.stderr)


def _register() -> None:
    from railcount.cli.batch import batch
    from railcount.cli.count import count
    from railcount.cli.demo import demo
    from railcount.cli.evaluate import evaluate
    from railcount.cli.export import export
    from railcount.cli.report import report
    from railcount.cli.synth import synth

    app.command("count")(handle_errors(count))
    app.command("evaluate")(handle_errors(evaluate))
    app.command("synth")(handle_errors(synth))
    app.command("batch")(handle_errors(batch))
    app.command("export")(handle_errors(export))
    app.command("report")(handle_errors(report))
    app.command("demo")(handle_errors(demo))


_register()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code (the console script exits with it).

    A usage error the parser finds (an unknown option, a value of the wrong type, a missing
    argument) is one line on stderr, as railcount's own errors are, with where to read the usage;
    exit code 2.
    """
    from railcount.runtime import tune_memory

    try:  # typer vendors click since 0.2x; before, it raised click's own exceptions
        from typer._click import exceptions as parser
    except ImportError:  # pragma: no cover - older typer
        from click import exceptions as parser  # type: ignore[no-redef]

    tune_memory()
    try:
        code = app(args=None if argv is None else list(argv), standalone_mode=False)
    except parser.NoArgsIsHelpError as exc:  # bare `railcount` or `railcount count`: the help
        exc.show()
        return 2
    except parser.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "railcount"
        message = " ".join(exc.format_message().split())  # one line, whatever the parser wrapped
        message = message.replace("Value error, ", "")  # the validator's prefix says nothing
        if "does not match the formats" in message:  # also a day no calendar has (2023-02-30)
            message = message.rstrip(".") + ", or is not a date that exists."
        print(f"railcount: error: {message} (see '{where} --help')", file=sys.stderr)
        return 2
    except typer.Abort:
        print("railcount: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return int(code) if isinstance(code, int) else 0
