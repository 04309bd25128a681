"""Synthetic rail-yard scenes with exact ground truth, the yardstick for the detector.

The data flows layout -> paint -> sensor -> files:

* :mod:`railcount.synth.layout` -- geometry in metres (tracks, cars, sun, truth);
* :mod:`railcount.synth.sites` -- named sites and the bundled sample set;
* :mod:`railcount.synth.render` -- pixels: painting, sensor model, reprojection;
* :mod:`railcount.synth.write` -- GeoTIFF, truth GeoJSON/JSON and station files.

>>> from railcount.synth import SceneSpec, synthesize
>>> scene = synthesize(SceneSpec(site="tumangang", cars=12, gsd_m=1.0, seed=1))
>>> int(scene.truth.counts()["railcars"])
12
"""

from __future__ import annotations

from railcount.synth.layout import SceneSpec, Truth
from railcount.synth.render import SynthScene, synthesize
from railcount.synth.sites import SAMPLE_SCENES, SITES
from railcount.synth.write import write_scene, write_station

__all__ = [
    "SAMPLE_SCENES",
    "SITES",
    "SceneSpec",
    "SynthScene",
    "Truth",
    "synthesize",
    "write_scene",
    "write_station",
]
