"""benchmarks/stress.py: fresh yards counted by the shipped detector and by a variant, side by side."""

import doctest
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import stress
from accuracy import SUITES
from conditions import Counted
from stress import STRESS_SEED, Compared, stress_spec, table


def test_the_docstring_examples():
    assert doctest.testmod(stress).failed == 0


def test_no_stress_yard_shares_a_seed_with_a_suite():
    seeds = {stress_spec(i, "generic", 0.5, ["2021-06-20"], 40)["seed"] for i in range(500)}
    # The suites hold a few hundred scenes each from their first seed.
    assert all(not (base <= s < base + 1000) for s in seeds for base in SUITES.values())
    assert min(seeds) == STRESS_SEED


def test_the_totals_pool_both_sides():
    rows = [
        Compared("a", Counted(10, 8, 7, 8), Counted(10, 12, 9, 12)),
        Compared("b", Counted(30, 30, 28, 30), Counted(30, 30, 28, 30)),
    ]
    lines = table(rows)
    assert sum(1 for line in lines if "variant" in line and "found" in line) == 1  # only the changed scene
    shipped = next(line for line in lines if line.startswith("shipped")).split()
    variant = next(line for line in lines if line.startswith("variant")).split()
    # shipped: |8 - 10| + 0 over 40 = 5.0 %, found 35, false 3; variant: 2 / 40, found 37, false 5
    assert shipped[1:4] == ["2", "40", "38"] and shipped[4] == "5.0%" and shipped[-2:] == ["35", "3"]
    assert variant[3] == "42" and variant[4] == "5.0%" and variant[-2:] == ["37", "5"]


def test_a_stricter_variant_counts_no_more_and_the_shipped_settings_change_nothing(tmp_path, capsys):
    common = ["--gsd", "1.0", "--cars", "8", "--scenes", "2", "--workers", "1", "--cache", str(tmp_path)]
    common.append("--no-real")
    assert stress.main([*common, "--set", "min_car_probability=0.35", "--verbose"]) == 0  # the default
    out = capsys.readouterr().out.splitlines()
    shipped, variant = (line.split() for line in out if line.startswith(("shipped", "variant")))
    assert shipped[1:] == variant[1:]
    assert sum(1 for line in out if line.startswith("  s2000")) == 2
    assert stress.main([*common, "--set", "min_car_probability=0.95"]) == 0
    out = capsys.readouterr().out.splitlines()
    shipped, variant = (line.split() for line in out if line.startswith(("shipped", "variant")))
    assert int(variant[3]) <= int(shipped[3])  # the count
    assert (tmp_path / "stress-generic-1m-8cars").is_dir()


def test_the_real_scenes_made_coarser_follow_each_side(shared_real, tmp_path, capsys):
    common = ["--gsd", "1.0", "--cars", "8", "--scenes", "1", "--workers", "1", "--cache", str(tmp_path)]
    assert stress.main([*common, "--set", "min_car_probability=1.01", "--set", "fill_gaps=false"]) == 0
    out = capsys.readouterr().out
    shipped, variant = out.split("counted by the shipped detector")[1].split("counted by the variant")
    muttenz = [r.split()[4:8] for part in (shipped, variant) for r in part.splitlines() if "muttenz" in r]
    assert len(muttenz) == 2 and sum(map(int, muttenz[0])) > 0 and muttenz[1] == ["0", "0", "0", "0"]
    assert shipped.count("joplin") == variant.count("joplin") == 2
    assert stress.main([*common, "--set", "min_car_probability=1.01", "--no-real"]) == 0
    assert "real scenes made coarser" not in capsys.readouterr().out


def test_a_run_without_a_variant_or_with_a_condition_on_plain_yards_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        stress.main(["--scenes", "1"])
    assert e.value.code == 2 and "--set" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        stress.main(["--set", "min_car_probability=0.5", "--conditions", "snow"])
    assert e.value.code == 2 and "v2 or v3" in capsys.readouterr().err
