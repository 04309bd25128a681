"""How the count holds up on imagery processed as products often are; prints a table.

Usage:  python benchmarks/processing.py [--kind sharpen|gamma|stretch|clahe|jpeg|noise]
                                        [--levels ...] [--first 600] [--last 700] [--workers 2]

The generator's scenes, which the detector was built and fitted on, come
out of its sensor model untouched; delivered products and pictures exported
from a GIS often are not. This script processes the pixels of cached scenes
one way (``--kind``) at several strengths (``--levels``; the first row,
the identity, is the scene as generated) and counts them again:

* ``sharpen``: an unsharp mask ``x + a (x - G(x))``, ``G`` a Gaussian of
  :data:`SIGMA_PX` pixels, at amounts ``a`` (default 0,0.5,1,2);
* ``gamma``: ``top * (x / top) ** g`` (default 1,0.85,1.2,1.4; above 1 darkens
  the mid-tones and deepens shadows, as a "contrast" setting does);
* ``stretch``: a linear stretch of each band from its ``p`` th to its
  ``100 - p`` th percentile over the whole file to the full range (default
  0,0.5,2; a GIS's or a viewer's default display);
* ``clahe``: OpenCV's contrast-limited adaptive histogram equalisation of
  the luminance (LAB L, 8 x 8 tiles) at clip limits (default 0,1,2);
* ``jpeg``: JPEG at qualities (default 100,60,30,15; 100 stands for none);
* ``noise``: Gaussian noise of sigmas in grey levels (default 0,4,8).

The scenes are tuned plain ones ``--first`` to ``--last`` - 1 (default
600-699, which no model is fitted on), from the accuracy benchmark's cache;
look-alike blocks with no railcars: as many tuned ``town`` blocks
(``--blocks``, default 20, from ``--first``); and the real scenes
(``../shared/real``, when present): Muttenz west against its 43 wagons and
both Joplin polygons (no railcars), at their own GSD and made coarser to
0.75 and 1.0 m as ``benchmarks/real_gsd.py`` makes them (one grid offset),
processed after the averaging, as a coarse product is; the Joplin file
gives a date but no time of day, so it is counted with the sun assumed and
again with its shadows' bearing (75 degrees, as ``benchmarks/untimed.py``
reads it).

Rows: per level and GSD, the count error (WAPE, bias), F1 and the
interval's coverage, as ``benchmarks/accuracy.py`` prints them; false
railcars on the blocks; the real counts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import rasterio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import (
    NO_RAILCARS,
    REAL_CASES,
    ROOT,
    SHARED_REAL,
    Outcome,
    add_set_argument,
    ensure_scene,
    outcome,
    params_of,
    parse_overrides,
    print_levels,
)
from real_gsd import coarser

from railcount.cautions import codes
from railcount.io.stations import read_stations
from railcount.pipeline import evaluate_scene

SIGMA_PX = 1.0
"""The unsharp mask's Gaussian, in the image's pixels (a common setting of image software)."""

JOPLIN_BEARING = 75.0
"""Which way the Joplin scene's shadows point, read off the image (``benchmarks/untimed.py``)."""


KINDS = {
    "sharpen": "0,0.5,1,2",
    "gamma": "1,0.85,1.2,1.4",
    "stretch": "0,0.5,2",
    "clahe": "0,1,2",
    "jpeg": "100,60,30,15",
    "noise": "0,4,8",
}
"""The processings and their default levels (the first the identity)."""

IDENTITY = {"sharpen": 0.0, "gamma": 1.0, "stretch": 0.0, "clahe": 0.0, "jpeg": 100.0, "noise": 0.0}


def processed_bands(bands: np.ndarray, kind: str, level: float, seed: int = 0) -> np.ndarray:
    """``bands`` (bands, rows, cols; integer) processed by ``kind`` at ``level`` (:data:`KINDS`)."""
    if level == IDENTITY[kind]:
        return bands
    top = float(np.iinfo(bands.dtype).max)
    x = bands.astype(np.float32)
    if kind == "sharpen":
        out = np.stack([b + level * (b - cv2.GaussianBlur(b, (0, 0), SIGMA_PX)) for b in x])
    elif kind == "gamma":
        out = top * (x / top) ** level
    elif kind == "stretch":
        out = np.empty_like(x)
        for k, b in enumerate(x):
            lo, hi = np.percentile(b, [level, 100.0 - level])
            out[k] = (b - lo) * (top / max(float(hi - lo), 1e-6))
    elif kind == "clahe" and bands.shape[0] >= 3 and bands.dtype == np.uint8:
        lab = cv2.cvtColor(np.ascontiguousarray(np.moveaxis(bands[:3], 0, -1)), cv2.COLOR_RGB2LAB)
        lab[..., 0] = cv2.createCLAHE(clipLimit=level, tileGridSize=(8, 8)).apply(lab[..., 0])
        rgb = np.moveaxis(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), -1, 0)
        out = np.concatenate([rgb.astype(np.float32), x[3:]])
    elif kind == "jpeg" and bands.shape[0] >= 3 and bands.dtype == np.uint8:
        bgr = np.ascontiguousarray(np.moveaxis(bands[2::-1], 0, -1))
        ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(level)])
        assert ok
        out = np.concatenate([np.moveaxis(cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1], -1, 0), x[3:]])
        out = out.astype(np.float32)
    elif kind == "noise":
        out = x + np.random.default_rng(seed).normal(0.0, level, x.shape).astype(np.float32)
    else:
        raise ValueError(f"{kind} at {level:g} needs 8-bit RGB")
    return np.clip(np.rint(out), 0, top).astype(bands.dtype)


def processed(src: Path, kind: str, level: float, dst: Path, seed: int = 0) -> Path:
    """``src`` processed by ``kind`` at ``level`` (:func:`processed_bands`), same profile and tags."""
    with rasterio.open(src) as ds:
        profile, tags, colours, descriptions = ds.profile, ds.tags(), ds.colorinterp, ds.descriptions
        bands = ds.read()
        mask = ds.read_masks(1) if ds.nodata is None else None
    bands = processed_bands(bands, kind, level, seed)
    if profile.get("compress", "").lower() == "jpeg":
        profile.update(compress="deflate", photometric=None)
    profile = {k: v for k, v in profile.items() if v is not None}
    with rasterio.open(dst, "w", **profile) as out_ds:
        out_ds.write(bands)
        out_ds.update_tags(**tags)  # the acquisition time is what places the sun
        out_ds.colorinterp = colours
        for k, text in enumerate(descriptions, start=1):
            if text:
                out_ds.set_band_description(k, text)
        if mask is not None and not mask.all():
            out_ds.write_mask(mask)
    return dst


def sharpened(src: Path, amount: float, dst: Path) -> Path:
    """``src`` sharpened by an unsharp mask of ``amount`` (:func:`processed`)."""
    return processed(src, "sharpen", amount, dst)


EIGHT_BIT_RGB = ("clahe", "jpeg")
"""The kinds that process 8-bit RGB only: scenes of other products are left out of every level."""


def applies(kind: str, tif: Path) -> bool:
    """Whether ``kind`` can process ``tif`` (:data:`EIGHT_BIT_RGB`)."""
    if kind not in EIGHT_BIT_RGB:
        return True
    with rasterio.open(tif) as ds:
        return ds.count >= 3 and ds.dtypes[0] == "uint8"


def run_generated(
    job: tuple[str, int, str, float, str, str, dict[str, object]],
) -> tuple[str, float, Outcome | None]:
    """One scene processed and counted (None: ``processing`` does not apply to its product)."""
    kind, i, processing, amount, cache, tmp, overrides = job
    tif, station = ensure_scene("tuned", i, cache, "v1" if kind == "yard" else "town")
    if not applies(processing, tif):
        return kind, amount, None
    copy = processed(tif, processing, amount, Path(tmp) / f"{kind}_{i}_{amount:g}.tif", seed=i)
    t0 = time.perf_counter()
    truth = tif.with_suffix(".truth.geojson")
    (ev,) = evaluate_scene(copy, read_stations(station), truth, params=params_of(overrides))
    copy.unlink()
    return kind, amount, outcome(kind, tif.stem, ev, time.perf_counter() - t0)


PICTURE_CAUTIONS = ("stretched", "light_stretch")
"""The kinds of caution (:func:`railcount.cautions.codes`) that say a picture was processed for display."""


def picture_caution(codes: tuple[str, ...]) -> str:
    """The first of :data:`PICTURE_CAUTIONS` among a count's caution ``codes`` ("" for none)."""
    return next((c for c in PICTURE_CAUTIONS if c in codes), "")


def print_picture_cautions(
    done: list[tuple[str, float, Outcome]], levels: list[float], *, prefix: str
) -> None:
    """Per level, how many yards and blocks were counted with each caution of :data:`PICTURE_CAUTIONS`
    (a count with both is tallied under the first) or with none, and for the yards of each group how
    far off they were and how often their interval held the truth: the yards with none are the
    counts a user gets with no word that the picture was processed."""
    print(
        "counts by the caution of a processed picture they came with; yards: error, bias and how many "
        "intervals held the truth"
    )
    for level in levels:
        cells = []
        for kind, label in (("yard", "yards"), ("town", "blocks")):
            mine = [o for k, lv, o in done if k == kind and lv == level]
            if not mine:
                continue
            said = [picture_caution(o.cautions) for o in mine]
            parts = []
            for c in (*PICTURE_CAUTIONS, ""):
                group = [o for o, s in zip(mine, said, strict=True) if s == c]
                part = f"{len(group)} {c or 'with none'}"
                if kind == "yard" and group:
                    truth = max(sum(o.truth for o in group), 1)
                    wape = sum(abs(o.count - o.truth) for o in group) / truth
                    bias = sum(o.count - o.truth for o in group) / truth
                    held = sum(o.low <= o.truth <= o.high for o in group)
                    part += f" ({wape:.1%}, {bias:+.1%}, {held} held)"
                parts.append(part)
            cells.append(f"{label} " + ", ".join(parts))
        print(f"{prefix}{level:<5g} " + "; ".join(cells))


def real_rows(processing: str, levels: list[float], overrides: dict[str, object]) -> list[str]:
    if not SHARED_REAL.is_dir():
        return ["(../shared/real is absent: no real rows)"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for gsd in (None, 0.75, 1.0):
            for level in levels:
                cells = []
                for name, tif, st, truth in REAL_CASES:
                    src = SHARED_REAL / tif
                    if gsd is not None:
                        src = coarser(src, gsd, 0.55, folder / f"{src.stem}_{gsd:g}m.tif")
                    copy = processed(src, processing, level, folder / f"{src.stem}_{processing}{level:g}.tif")
                    truth_file = SHARED_REAL / truth if truth else NO_RAILCARS
                    stations = read_stations(SHARED_REAL / st)
                    (ev,) = evaluate_scene(copy, stations, truth_file, params=params_of(overrides))
                    cell = f"{name} {ev.count.result.railcars}"
                    said = picture_caution(codes(ev.count.cautions))
                    if truth:
                        cell += f" ({ev.match.true_positives} found)"
                    else:
                        (bear,) = evaluate_scene(
                            copy,
                            stations,
                            truth_file,
                            shadows_toward=JOPLIN_BEARING,
                            params=params_of(overrides),
                        )
                        cell += f" / {bear.count.result.railcars}"
                    cells.append(cell + (f" [{said}]" if said else ""))
                where = "native" if gsd is None else f"{gsd:.2f} m"
                rows.append(f"{where:<7} {processing} {level:<4g}  " + ", ".join(cells))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--kind", choices=sorted(KINDS), default="sharpen", help="the processing (default sharpen)"
    )
    ap.add_argument("--levels", help="its strengths, comma-separated, the identity first (default: KINDS')")
    ap.add_argument("--first", type=int, default=600, help="first tuned scene (default 600)")
    ap.add_argument("--last", type=int, default=700, help="one past the last tuned scene (default 700)")
    ap.add_argument("--blocks", type=int, default=20, help="tuned look-alike blocks (default 20; 0: none)")
    ap.add_argument("--no-real", action="store_true", help="leave out the real scenes")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", default=str(ROOT / "bench_cache"))
    add_set_argument(ap)
    args = ap.parse_args(argv)
    overrides = parse_overrides(args.set, ap)
    try:
        levels = [float(v) for v in (args.levels or KINDS[args.kind]).split(",")]
    except ValueError:
        ap.error(f"--levels {args.levels!r}: expected numbers separated by commas")
    if any(v < 0 for v in levels) or args.last <= args.first:
        ap.error("levels must be 0 or more, and --last above --first")
    with tempfile.TemporaryDirectory() as tmp:
        scenes = range(args.first, args.last)
        jobs = [("yard", i, args.kind, v, args.cache, tmp, overrides) for v in levels for i in scenes]
        blocks = range(args.first, args.first + args.blocks)
        jobs += [("town", i, args.kind, v, args.cache, tmp, overrides) for v in levels for i in blocks]
        with ProcessPoolExecutor(args.workers) as pool:
            counted = list(pool.map(run_generated, jobs, chunksize=2))
    done = [(kind, level, o) for kind, level, o in counted if o is not None]
    left = [(kind, level) for kind, level, o in counted if o is None and level == levels[0]]

    span = f"{args.first}-{args.first + args.blocks - 1}"
    print_levels(
        done,
        levels,
        name=args.kind,
        prefix=f"{args.kind} ",
        title=f"tuned plain yards {args.first}-{args.last - 1}, processed: {args.kind} at each level "
        f"({IDENTITY[args.kind]:g}: as generated)",
        blocks=f"look-alike blocks (tuned town {span}, truth 0): false railcars" if args.blocks else None,
    )
    print_picture_cautions(done, levels, prefix=f"{args.kind} ")
    if left:
        yards = sum(kind == "yard" for kind, _ in left)
        print(
            f"({args.kind} processes 8-bit RGB only: {yards} yards and {len(left) - yards} blocks of other "
            "products are left out of every level)"
        )
    if not args.no_real:
        print(
            f"real scenes, {args.kind} (Muttenz west: railcars (wagons found) of 43; Joplin: railcars with "
            f"the sun assumed / with its shadows' bearing {JOPLIN_BEARING:g}, of 0)"
        )
        for row in real_rows(args.kind, levels, overrides):
            print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
