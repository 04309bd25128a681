"""Count the railcars of every station in a scene: read -> detect -> summarise -> write."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from railcount.counting import summarise
from railcount.detect.detector import detect
from railcount.detect.params import DetectorParams
from railcount.io.outputs import write_outputs
from railcount.io.scenes import read_windows
from railcount.models import CountResult, Detections, SceneWindow, Station


@dataclass(frozen=True, eq=False)
class StationCount:
    """Everything produced for one station in one scene."""

    window: SceneWindow
    detections: Detections
    result: CountResult
    outputs: dict[str, Path]


def count_scene(
    scene: str | os.PathLike[str],
    stations: Sequence[Station],
    *,
    params: DetectorParams | None = None,
    out_dir: str | os.PathLike[str] | None = None,
) -> list[StationCount]:
    """Count railcars in ``scene`` for each station, optionally writing outputs.

    With ``out_dir`` and more than one station, each station's files go in a
    subfolder named after it.
    """
    params = params or DetectorParams()
    windows = read_windows(scene, stations)
    results = []
    for window in windows:
        dets = detect(window, params)
        result = summarise(window, dets)
        outputs: dict[str, Path] = {}
        if out_dir is not None:
            target = Path(out_dir)
            if len(stations) > 1:
                target = target / safe_name(window.station.name)
            outputs = write_outputs(target, window, dets, result, params=params.to_dict())
        results.append(StationCount(window, dets, result, outputs))
    return results


def safe_name(name: str) -> str:
    """A file-system-safe folder name for a station."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return cleaned or "station"
