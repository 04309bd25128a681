"""``railcount demo`` and the quickstart notebook: generate, batch, judge, end to end."""

from __future__ import annotations

import itertools
import json
from datetime import date
from pathlib import Path

import pytest

from railcount.cli import main
from railcount.demo import SURGE_CARS, SURGE_DATE, demo_series
from railcount.store import read_counts

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "quickstart.ipynb"


def test_demo_series_is_ordinary_then_a_surge():
    series = demo_series(60)
    assert len(series) == 60 and series == demo_series(60)
    days = [d for d, _ in series]
    assert days == sorted(set(days)) and days[0] >= date(2018, 1, 1)
    assert series[-1] == (SURGE_DATE, SURGE_CARS) == (date(2023, 10, 5), 73)
    ordinary = [n for _, n in series[:-1]]
    assert max(ordinary) < SURGE_CARS / 1.5 and min(ordinary) >= 10
    # About monthly: no two ordinary dates a quarter apart.
    assert max((b - a).days for a, b in itertools.pairwise(days[:-1])) < 60


BAD_DEMO = [(["--workers", "0"], "--workers"), (["--dates", "1"], "--dates")]


@pytest.mark.parametrize(("args", "needle"), BAD_DEMO)
def test_demo_refuses_bad_options_before_any_work(tmp_path, capsys, args, needle):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--dates", "2", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("railcount: error: ") and needle in err
    assert not out.exists()  # nothing generated


@pytest.mark.slow
def test_demo_command_end_to_end(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--dates", "8", "--workers", "1"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    report = json.loads((out / "report" / "report.json").read_text())
    assert lines[0] == f"{report['verdict']}: {report['sentence']}"
    # The report's caveats, as railcount report prints them; the first says the data are synthetic.
    assert lines[1 : 1 + len(report["caveats"])] == [f"  caveat: {n}" for n in report["caveats"]]
    assert report["caveats"][0].startswith("SYNTHETIC DATA: the count on 2023-10-05 and ")
    assert f"report: {out / 'report' / 'report.html'}" in lines[1 + len(report["caveats"])]
    rows = read_counts(out / "railcount.db", station="Tumangang")
    assert len(rows) == 8 and all(r["status"] == "ok" for r in rows)
    # 1 m scenes of railcount synth: every row says coarse among its cautions' kinds, and synthetic.
    assert all("coarse" in r["cautions"].split(";") and r["synthetic"] is True for r in rows)
    assert report["railcars"] == rows[-1]["railcars"] and report["date"] == "2023-10-05"
    assert report["baseline"]["n"] == sum(r["acquired"][:10] >= "2018-10-05" for r in rows[:-1])
    page = (out / "report" / "report.html").read_text()
    assert 'id="overlay"' in page and '<p class="synthetic" id="synthetic">SYNTHETIC DATA: ' in page
    assert str(tmp_path) not in page  # scenes and store by their names: no folders of this machine
    # Run again: scenes and counts are reused, the answer is the same.
    assert main(["demo", "--out", str(out), "--dates", "8", "--workers", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == lines[0]


def test_committed_notebook_has_no_outputs():
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.slow
def test_quickstart_notebook_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("RAILCOUNT_DEMO_DATES", "8")  # a short series: the same code path, a fifth of the time
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    verdict = json.loads((tmp_path / "railcount-quickstart" / "report" / "report.json").read_text())
    assert verdict["sentence"] in text
    assert any("image/png" in o.get("data", {}) for o in outputs if o.output_type == "display_data")
    assert (tmp_path / "railcount-quickstart" / "report" / "report.html").is_file()
    # The last step checks the surge scene's count against its truth and shows where it is wrong.
    folder = tmp_path / "railcount-quickstart" / "evaluation"
    evaluation = json.loads((folder / "evaluation.json").read_text())
    assert f"counted {evaluation['railcars']}, truth {evaluation['truth']}:" in text
    assert (folder / "evaluation.png").is_file()
