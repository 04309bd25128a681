"""Pictures of single errors, for looking at them: a crop of the scene around one place.

Used by ``benchmarks/false_cars.py --crops DIR``. Each picture is two
copies of the same patch of the window side by side, both enlarged with
nearest-neighbour sampling so pixels stay pixels: on the left the pixels as
they are (so the eye is not led by the drawing), on the right the same with
the true railcars' outlines in cyan, the detections matched to a true car in
green, those that match none in vermillion, and the one the picture is about
outlined twice as thick.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from railcount.models import Detections, SceneWindow

CROP_M = 60.0
"""Side of the patch, metres."""
CYAN, GREEN, VERMILLION = (255, 255, 0), (0, 200, 0), (0, 94, 213)  # BGR


def error_crop(
    window: SceneWindow,
    shown: np.ndarray,
    dets: Detections,
    false: np.ndarray,
    truth_rings: list[np.ndarray],
    at: np.ndarray,
    chosen: int | None = None,
) -> np.ndarray:
    """The BGR picture (raw | annotated) of the ``CROP_M`` square of ``window`` centred on ``at`` (row, col).

    ``shown`` is :func:`railcount.io.outputs.display_bgr` of the window
    (made once per scene), ``false`` indexes the detections that match no
    true car, ``truth_rings`` are the true railcars' outlines as (k, 2)
    (row, col) window pixels, and ``chosen`` is the detection the picture
    is about (None: a place, no detection).
    """
    half = round(CROP_M / window.gsd_m / 2)
    r, c = round(float(at[0])), round(float(at[1]))
    r0, c0 = max(0, r - half), max(0, c - half)
    r1, c1 = min(window.shape[0], r + half), min(window.shape[1], c + half)
    base = np.ascontiguousarray(shown[r0:r1, c0:c1])
    zoom = max(1, round(480 / max(1, 2 * half)))
    base = cv2.resize(base, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    drawn = base.copy()

    def outline(points_rc: np.ndarray, colour: tuple[int, int, int], thick: int) -> None:
        xy = (points_rc[:, ::-1] - (c0, r0) + 0.5) * zoom
        cv2.polylines(drawn, [np.round(xy).astype(np.int32)], True, colour, thick, cv2.LINE_AA)

    for ring in truth_rings:
        outline(np.asarray(ring, float), CYAN, 1)
    is_false = np.zeros(len(dets), bool)
    is_false[np.asarray(false, int)] = True
    for k, corners in enumerate(dets.corners()):
        colour = VERMILLION if is_false[k] else GREEN
        outline(corners[:, ::-1], colour, 4 if k == chosen else 2)
    gap = np.full((base.shape[0], 6, 3), 255, np.uint8)
    return np.hstack([base, gap, drawn])


def write_crop(path: Path, picture: np.ndarray) -> None:
    """Write ``picture`` as a PNG, its folder made first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), picture):
        raise OSError(f"{path}: could not write the picture")
