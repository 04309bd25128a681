"""benchmarks/cloud.py tells opaque cloud from thin cloud in a scene's conditions."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from cloud import opaque


def test_opaque_cloud_is_the_cloud_condition_only():
    assert opaque("cloud=0.25")
    assert opaque("snow,cloud=0.3")
    assert not opaque("thin_cloud=0.4")
    assert not opaque("none")
    assert not opaque("haze=0.4,thin_cloud")
