"""How generated railcars look beside real ones: brightness across the car, sun side to shadow side.

Usage:  python benchmarks/car_profiles.py [--suite tuned] [--realism v1|v2|generic]
                                          [--first 600] [--last 800] [--gsds 0.3,0.5,0.75,1.0]
                                          [--texture] [--sun-above DEG]

The car model learns what a railcar looks like from generated scenes only,
so where the generator's cars differ from real ones the model turns real
cars down. This script measures one plain property of the pictures, with
no detector in it: the brightness profile across each true railcar.

For every true railcar (from the truth's outline: its long axis, and which
side faces the sun at the scene's time, as the detector puts the sun) the
mean of the colour bands over the value range (0-1) is sampled on lines
parallel to the car's axis, 8 m long and centred on it, at offsets across it
from 6 m on the sun side (negative) to 6 m on the shadow side (positive); a
car's value at each offset is the median along its line. Cars whose shadow
falls within about 17 degrees of their axis (no shadow beside them) are
left out. Rows: the median over the cars of each offset, for the chosen
generated scenes at each GSD and for the real Muttenz west wagons, at their
own 0.255 m and averaged to each coarser GSD as ``benchmarks/real_gsd.py``
makes them (grid offset 0). The last columns summarise: ``roof/ground``,
the car's middle (within 1 m) over the ground 4.5-6 m out on the sun side;
``shadow``, the darkest offset on the shadow side over that ground.

Session 31 found with it that the tuned scenes' cars were a third darker
than the ground where Muttenz's wagons are as bright as theirs.

With ``--texture`` the profile is of the detector's fine texture instead
(the absolute Laplacian of the prepared window's log luminance after the
small blur of :func:`railcount.detect.cars.texture`, before its band
average; mapped back to the window's grid when the detector works finer
or coarser), which the car model reads around each candidate as its
``ctx_smooth_*`` inputs; the summary columns are then left out. Session 41
found with it that at 1.0 m Muttenz's wagons are about twice as rough
2-4 m out on the shadow side as generated cars, where the ground away
from the cars is not (``benchmarks/ground_texture.py``).

``--sun-above DEG`` keeps only the generated scenes whose sun (as the
detector puts it) stands higher than DEG degrees, so that their shadows'
width can be set beside Muttenz's (its sun: 58.7 degrees).
"""

from __future__ import annotations

import functools
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from railcount.detect.cars import laplacian_texture
from railcount.detect.detector import working_scale
from railcount.detect.params import DetectorParams
from railcount.detect.prepare import prepare
from railcount.detect.sun import ALONG_SHADOW_ACROSS, window_sun
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.io.truth import truth_stock
from railcount.models import SceneWindow

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import SHARED_REAL, ensure_scene, map_scene_range, real_comparison_parser
from misses import long_axes, toward_sun
from real_gsd import coarser

OFFSETS_M = np.arange(-6.0, 6.01, 1.0)
"""Where the profile is sampled, metres across the car (negative: sun side; positive: shadow side)."""
ALONG_M = np.arange(-4.0, 4.01, 0.5)
"""Where along the car's axis each offset's line is sampled (metres from its centre)."""


def brightness(window: SceneWindow) -> np.ndarray:
    """Mean of the colour bands (or the one panchromatic band) over the value range, 0-1."""
    v0, v1 = window.value_range
    bands = window.pixels[:, :, :3] if window.pixels.shape[2] >= 3 else window.pixels[:, :, :1]
    return np.clip((bands.astype(np.float32).mean(axis=2) - v0) / max(v1 - v0, 1e-6), 0.0, 1.0)


def working_texture(window: SceneWindow) -> tuple[np.ndarray, np.ndarray]:
    """The detector's fine texture (:func:`~railcount.detect.cars.laplacian_texture`) on the grid the
    detector works on (no finer than ``work_gsd_m``, as it prepares the window), and that grid's
    pixels with data."""
    prep = prepare(window, scale=working_scale(window.gsd_m, DetectorParams()))
    gsd = window.gsd_m * window.shape[0] / prep.log_lum.shape[0]  # the working grid's
    return laplacian_texture(prep.log_lum, gsd), prep.data


def fine_texture(window: SceneWindow) -> np.ndarray:
    """:func:`working_texture` mapped back to the window's grid."""
    lap, _ = working_texture(window)
    if lap.shape != window.shape:
        lap = cv2.resize(lap, (window.shape[1], window.shape[0]), interpolation=cv2.INTER_NEAREST)
    return lap


MEASURES = {"brightness": brightness, "texture": fine_texture}
"""What a profile samples, by name."""


def car_profiles(
    lum: np.ndarray, centres: np.ndarray, axes: np.ndarray, to_sun: np.ndarray, gsd_m: float
) -> np.ndarray:
    """Brightness across each car, (n, len(OFFSETS_M)); cars with no shadow beside them are dropped.

    ``lum`` is the image (rows, cols); ``centres`` (n, 2) and ``axes`` (n, 2, unit) the cars'
    centres and long axes in (row, col) pixels; ``to_sun`` the unit (row, col) direction of the sun.
    """
    out = []
    for centre, axis in zip(centres, axes, strict=True):
        normal = np.array([-axis[1], axis[0]])
        if normal @ to_sun > 0:
            normal = -normal  # positive offsets on the shadow side
        if abs(normal @ to_sun) < ALONG_SHADOW_ACROSS:
            continue
        along = centre + np.outer(ALONG_M / gsd_m, axis)  # (k, 2)
        pts = along[None, :, :] + (OFFSETS_M / gsd_m)[:, None, None] * normal  # (offsets, k, 2)
        rows = np.clip(np.rint(pts[..., 0]).astype(int), 0, lum.shape[0] - 1)
        cols = np.clip(np.rint(pts[..., 1]).astype(int), 0, lum.shape[1] - 1)
        out.append(np.median(lum[rows, cols], axis=1))
    return np.array(out).reshape(-1, len(OFFSETS_M))


def window_profiles(window: SceneWindow, truth: Path, measure: str = "brightness") -> np.ndarray:
    """:func:`car_profiles` of a window's true railcars (outlines from the truth GeoJSON), of
    ``measure`` (a key of :data:`MEASURES`)."""
    stock = truth_stock(truth, window)
    axes = long_axes(stock)
    to_sun = toward_sun(window_sun(window))
    return car_profiles(MEASURES[measure](window), stock.cars[: len(axes)], axes, to_sun, window.gsd_m)


def scene_profiles(
    job: tuple[str, int, str, str], measure: str = "brightness"
) -> tuple[float, float, np.ndarray]:
    """A scene's GSD (m, rounded to centimetres), its sun's elevation (degrees) and its cars' profiles."""
    suite, i, cache, realism = job
    tif, station = ensure_scene(suite, i, cache, realism)
    (window,) = read_windows(tif, read_stations(station))
    profiles = window_profiles(window, tif.with_suffix(".truth.geojson"), measure)
    return round(window.gsd_m, 2), window_sun(window).elevation_deg, profiles


def summary(profile: np.ndarray) -> tuple[float, float]:
    """(roof / ground, darkest shadow / ground) of a median profile."""
    ground = float(profile[(OFFSETS_M <= -4.5)].mean())
    roof = float(profile[np.abs(OFFSETS_M) <= 1.0].mean())
    shadow = float(profile[OFFSETS_M > 1.0].min())
    return roof / ground, shadow / ground


def row(label: str, n: int, profiles: np.ndarray, summarise: bool = True) -> str:
    med = np.median(profiles, axis=0)
    text = f"{label:<22}{n:>6} " + " ".join(f"{v:>4.2f}" for v in med)
    if not summarise:
        return text
    roof, shadow = summary(med)
    return text + f"{roof:>8.2f}{shadow:>8.2f}"


def sun_kept(elevation_deg: float, above: float | None) -> bool:
    """Whether a scene whose sun stands ``elevation_deg`` high passes ``--sun-above`` (None: all do).

    >>> sun_kept(60.0, 50.0), sun_kept(40.0, 50.0), sun_kept(40.0, None)
    (True, False, True)
    """
    return above is None or elevation_deg > above


def main(argv: list[str] | None = None) -> int:
    ap = real_comparison_parser(
        __doc__.split("\n")[0],
        last=800,
        gsds="0.3,0.5,0.75,1.0",
        gsds_help="GSDs to print (metres, comma-separated)",
    )
    ap.add_argument(
        "--texture", action="store_true", help="profile the detector's fine texture instead of brightness"
    )
    ap.add_argument(
        "--sun-above",
        type=float,
        metavar="DEG",
        help="only generated scenes under a sun higher than DEG degrees (Muttenz's is 58.7)",
    )
    args = ap.parse_args(argv)
    gsds = args.gsds
    measure = "texture" if args.texture else "brightness"
    bright = measure == "brightness"
    results = map_scene_range(functools.partial(scene_profiles, measure=measure), args)
    shown = [f"{o:g}" for o in OFFSETS_M]
    what = "brightness" if bright else "fine texture (|Laplacian of log luminance|)"
    print(f"{what} across true railcars, median over cars (offset m: - sun side, + shadow side)")
    head = f"{'scenes':<22}{'cars':>6} " + " ".join(f"{s:>4}" for s in shown)
    print(head + (f"{'roof/gr':>8}{'shadow':>8}" if bright else ""))
    print("-" * (len(head) + (16 if bright else 0)))
    muttenz = SHARED_REAL / "muttenz"
    with tempfile.TemporaryDirectory() as tmp:
        for gsd in gsds:
            found = [
                p for g, sun, p in results if g == round(gsd, 2) and len(p) and sun_kept(sun, args.sun_above)
            ]
            if found:
                gen = np.vstack(found)
                only = f" sun>{args.sun_above:g}" if args.sun_above is not None else ""
                print(row(f"{args.suite} {args.realism} {gsd:.2f} m{only}", len(gen), gen, bright))
            if muttenz.is_dir():
                src = muttenz / "muttenz_2018.tif"
                scene = coarser(src, gsd, 0.55, Path(tmp) / f"m_{gsd:g}.tif") if gsd > 0.27 else src
                (window,) = read_windows(scene, read_stations(muttenz / "station_west.geojson"))
                real = window_profiles(window, muttenz / "truth_west.geojson", measure)
                print(row(f"muttenz west {gsd:.2f} m", len(real), real, bright))
    if not muttenz.is_dir():
        print(f"(no {muttenz}: the real rows are left out)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
