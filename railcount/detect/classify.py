"""Classify detected cars: tank / covered / open / flat, tarped loads, and locomotives.

Features are read in the track frame from each car's body band:

* ``curvature`` -- mean log luminance of the band's two outer quarters minus
  its middle: negative for a cylinder lit from the side or a tarp mound
  (convex, bright crown), positive for an open car whose floor lies below
  lit rims (concave);
* ``roughness`` -- spread, along the car, of the middle half's log
  luminance (2 m bins): roof equipment on a locomotive, a coal or tarp load;
* ``length`` -- coupler to coupler, from the gaps that cut the car out.

The rules (measured on generated scenes at 0.3-0.5 m; see the accuracy
benchmark's type rows) are deliberately few. Cars counted by pitch, whose
extent was not seen, and every car coarser than ``gap_visible_gsd_m``, stay
``railcar`` (unclassified).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from railcount.detect.params import DetectorParams, to_px


@dataclass(frozen=True)
class ClassRules:
    """Thresholds of the classification rules (log-luminance units, metres)."""

    loco_min_length_m: float = 18.5
    loco_min_roughness: float = 0.15
    convex_max_curvature: float = -0.15
    concave_min_curvature: float = 0.18
    tarp_min_roughness: float = 0.04
    tarp_min_length_m: float = 16.0
    flat_min_length_m: float = 17.0


RULES = ClassRules()


def car_features(
    log_lum: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    length: np.ndarray,
    gsd_m: float,
    params: DetectorParams,
) -> tuple[np.ndarray, np.ndarray]:
    """(curvature, roughness) of each car from its body band in the track frame (pixel units in)."""
    half_w = max(2, round(0.5 * params.car_width_m / gsd_m))
    bin_px = to_px(2.0, gsd_m)
    rows, cols = log_lum.shape
    curv = np.full(x.size, np.nan)
    rough = np.full(x.size, np.nan)
    for i in range(x.size):
        r0, r1 = round(y[i]) - half_w, round(y[i]) + half_w + 1
        c0, c1 = round(x[i] - 0.35 * length[i]), round(x[i] + 0.35 * length[i])
        if r0 < 0 or r1 > rows or c0 < 0 or c1 > cols or c1 - c0 < 2 * bin_px:
            continue
        band = log_lum[r0:r1, c0:c1]
        prof = band.mean(axis=1)
        q = max(1, prof.size // 4)
        curv[i] = 0.5 * (prof[:q].mean() + prof[-q:].mean()) - prof[q:-q].mean()
        middle = band[q:-q].mean(axis=0)
        nb = middle.size // bin_px
        rough[i] = float(np.std(middle[: nb * bin_px].reshape(nb, bin_px).mean(axis=1)))
    return curv, rough


def classify(
    curvature: np.ndarray,
    roughness: np.ndarray,
    length_m: np.ndarray,
    seen_apart: np.ndarray,
    rules: ClassRules = RULES,
) -> tuple[np.ndarray, np.ndarray]:
    """Kind (``tank``/``covered``/``open``/``flat``/``locomotive``/``railcar``) and tarped flag per car.

    Examples
    --------
    >>> import numpy as np
    >>> kind, tarp = classify(np.array([-0.3, 0.3, 0.0, 0.0]), np.array([0.02, 0.05, 0.02, 0.3]),
    ...                       np.array([15.0, 14.0, 16.0, 21.0]), np.ones(4, bool))
    >>> kind.tolist(), tarp.tolist()
    (['tank', 'open', 'covered', 'locomotive'], [False, False, False, False])
    """
    n = curvature.size
    kind = np.full(n, "railcar", dtype="<U10")
    tarped = np.zeros(n, dtype=bool)
    ok = seen_apart & np.isfinite(curvature) & np.isfinite(roughness)
    loco = ok & (length_m >= rules.loco_min_length_m) & (roughness >= rules.loco_min_roughness)
    convex = ok & ~loco & (curvature <= rules.convex_max_curvature)
    tarp = convex & (roughness >= rules.tarp_min_roughness) & (length_m >= rules.tarp_min_length_m)
    concave = ok & ~loco & ~convex & (curvature >= rules.concave_min_curvature)
    rest = ok & ~loco & ~convex & ~concave
    kind[loco] = "locomotive"
    kind[convex & ~tarp] = "tank"
    kind[tarp] = "flat"
    tarped[tarp] = True
    kind[concave] = "open"
    kind[rest & (length_m >= rules.flat_min_length_m)] = "flat"
    kind[rest & (length_m < rules.flat_min_length_m)] = "covered"
    return kind, tarped
