"""The real scenes made coarser, as `accuracy.py --diagnose` prints them beside every variant.

A variant measured only on generated yards can gain there and lose on real pixels (session 54: the
generated 0.5 m rows gained a point or two while Muttenz west made coarser to 0.5 m lost a third of its
wagons), so `--diagnose` counts the real scenes made coarser with the variant's own settings too.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from accuracy import main as accuracy_main
from real_gsd import table


def _rows(lines: list[str]) -> dict[tuple[str, float], list[int]]:
    """(scene, GSD) -> the counts at the four grid offsets, from the table's rows."""
    out = {}
    for line in lines:
        if line.startswith(("muttenz", "joplin")):
            name, gsd = line[:16].strip(), float(line[16:22])
            out[name, gsd] = [int(c) for c in line[29:45].split()]
    return out


def test_the_table_counts_with_the_variant_settings(shared_real, tmp_path):
    from railcount.detect.params import DetectorParams

    shipped = _rows(list(table(None, [1.0], tmp_path)))
    # Every real scene coarser than itself, once per GSD: Muttenz (0.255 m) and both Joplin polygons (0.6 m).
    assert set(shipped) == {("muttenz west", 1.0), ("joplin rail", 1.0), ("joplin lot", 1.0)}
    assert all(len(c) == 4 for c in shipped.values())
    assert sum(shipped["muttenz west", 1.0]) > 0
    # A setting that keeps no candidate reaches the table: no railcar anywhere.
    none_kept = _rows(list(table(DetectorParams(min_car_probability=1.01, fill_gaps=False), [1.0], tmp_path)))
    assert set(none_kept) == set(shipped)
    assert all(c == [0, 0, 0, 0] for c in none_kept.values())


def _diagnose(cache: Path, real_coarser: str, *sets: str) -> int:
    """`accuracy.py --diagnose` on one tuned scene (603, 1.0 m, drawn into ``cache``), no blocks."""
    args = ["--diagnose", "603-604", "--lookalikes", "0", "--cache", str(cache), "--workers", "1"]
    return accuracy_main([*args, "--real-coarser", real_coarser, *(a for s in sets for a in ("--set", s))])


def test_diagnose_prints_the_table_after_the_real_rows(shared_real, capsys, tmp_path):
    assert _diagnose(tmp_path, "1.0") == 0
    out = capsys.readouterr().out
    assert out.index("real muttenz west") < out.index("real scenes made coarser")
    rows = _rows(out.splitlines())
    assert set(rows) == {("muttenz west", 1.0), ("joplin rail", 1.0), ("joplin lot", 1.0)}
    assert sum(rows["muttenz west", 1.0]) > 0
    # The variant's --set reaches the table too.
    assert _diagnose(tmp_path, "1.0", "min_car_probability=1.01", "fill_gaps=false") == 0
    assert _rows(capsys.readouterr().out.splitlines())["muttenz west", 1.0] == [0, 0, 0, 0]


def test_no_table_when_asked_for_none(shared_real, capsys, tmp_path):
    assert _diagnose(tmp_path, "") == 0
    assert "real scenes made coarser" not in capsys.readouterr().out
