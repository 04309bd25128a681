"""``railcount demo``: a synthetic Tumangang series, batched and judged, in under a minute."""

from __future__ import annotations

from pathlib import Path

import typer


def demo(
    out: Path = typer.Option(
        Path("railcount-demo"), "--out", "-o", help="Folder for scenes, store and report."
    ),
    dates: int = typer.Option(60, "--dates", help="How many dates (the last is the surge on 2023-10-05)."),
    workers: int | None = typer.Option(
        None, "--workers", "-w", help="Processes for generating and counting (default: the cores)."
    ),
) -> None:
    """Generate ~60 synthetic Tumangang scenes (2018-2023, a surge on 2023-10-05), count and judge them.

    Example:
    railcount demo --out railcount-demo
    """
    from railcount.demo import run_demo
    from railcount.io.outputs import check_output_dir

    check_output_dir(out)  # before anything is drawn (run_demo makes it once the options are checked)

    res = run_demo(out, n_dates=dates, workers=workers, log=lambda msg: typer.echo(msg, err=True))
    typer.echo(f"{res.verdict}: {res.sentence}")
    for note in res.caveats:  # as railcount report prints them
        typer.echo(f"  caveat: {note}")
    typer.echo(f"report: {res.html}  ({res.seconds:.0f} s)")
    typer.echo(f"again from the store: railcount report --station Tumangang --db {res.db} --date 2023-10-05")
