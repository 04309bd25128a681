"""railcount: count freight railcars in rail yards on satellite imagery.

The command line's jobs as Python functions (:mod:`railcount.api`)::

    import railcount
    (station,) = railcount.count("scene.tif", "station.geojson")
    station.result.railcars, station.result.railcars_low, station.result.railcars_high

``count``, ``evaluate_count``, ``count_series`` (the batch), ``counts`` (the store's time series),
``detections`` (the store's cars), ``judge`` (the report) and ``stations`` are imported when first
used, so ``import railcount`` itself stays light.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = ("count", "count_series", "counts", "detections", "evaluate_count", "judge", "stations")

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        from railcount import api

        return getattr(api, name)
    raise AttributeError(f"module 'railcount' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
