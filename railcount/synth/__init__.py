"""Synthetic rail-yard scenes with exact ground truth, the yardstick for the detector.

The data flows spec -> layout -> paint -> sensor -> files:

* :mod:`railcount.synth.spec` -- what to make: :class:`SceneSpec`, :class:`Conditions`, :class:`Product`;
* :mod:`railcount.synth.sites`, :mod:`~railcount.synth.generic`, :mod:`~railcount.synth.trackwork`
  -- named sites and their track geometry;
* :mod:`railcount.synth.layout`, :mod:`~railcount.synth.placement` -- geometry in metres
  (tracks, structures, sun) and the vehicles placed on it;
* :mod:`railcount.synth.truth` -- lon/lat ground truth;
* :mod:`railcount.synth.ground`, :mod:`~railcount.synth.structures`,
  :mod:`~railcount.synth.vehicles`, :mod:`~railcount.synth.roofs` -- painting reflectance;
* :mod:`railcount.synth.atmosphere`, :mod:`~railcount.synth.sensor` -- cloud, haze, the sensor
  and the delivered product;
* :mod:`railcount.synth.render` -- the assembly (:func:`synthesize`);
* :mod:`railcount.synth.write` -- GeoTIFF, truth GeoJSON/JSON and station files.

>>> from railcount.synth import SceneSpec, synthesize
>>> scene = synthesize(SceneSpec(site="tumangang", cars=12, gsd_m=1.0, seed=1))
>>> int(scene.truth.counts()["railcars"])
12
"""

from __future__ import annotations

from railcount.synth.render import SynthScene, synthesize
from railcount.synth.sites import SAMPLE_SCENES, SITE_NAMES, SITES, site_layout
from railcount.synth.spec import Conditions, Product, SceneSpec
from railcount.synth.truth import Truth
from railcount.synth.write import write_scene, write_station

__all__ = [
    "SAMPLE_SCENES",
    "SITES",
    "SITE_NAMES",
    "Conditions",
    "Product",
    "SceneSpec",
    "SynthScene",
    "Truth",
    "site_layout",
    "synthesize",
    "write_scene",
    "write_station",
]
