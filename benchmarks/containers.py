"""The same pixels in another container count the same: each scene saved again as providers save theirs.

Usage:  python benchmarks/containers.py [--suite tuned] [--first 600] [--last 640]
                                        [--realism v1|v2] [--workers 2]

A provider's file can hold the same picture in several ways: 8-bit, or
16-bit with or without the ``NBITS`` tag that says 11 bits are used, or
float; bands named red, green, blue, or not named at all and in the order
blue, green, red, near-infrared. None of that is in the picture, so none of
it should move the count. Every generated scene of the range is written
again (lossless, its tags kept; cache folder ``SUITE[-REALISM]-containers``,
made once) as:

* ``16-bit, no NBITS``: 8-bit values times 8 in uint16 (11-bit data), and
  11-bit products without their ``NBITS`` tag;
* ``float32``: the values as they are, in float32 (neither 0-1 nor tagged);
* ``BGRN, no names``: colour scenes as 16-bit blue, green, red, NIR (the
  green band again) with no colour interpretation or band names, read as
  railcount reads them unless told (the first three bands, with a warning),
  and ``BGRN, --bands 3,2,1``: the same files with the bands given;
* ``Planet analytic``: as Planet delivers a SkySat ``analytic`` asset: the
  BGRN copy's pixels with no tags at all (no ``NBITS``, no acquisition
  time), the time only in the file name, which Planet writes in UTC
  (``20231005_014852_ssc9_u0600_analytic.tif``); panchromatic scenes as a
  16-bit ``_panchromatic`` file. Until detector 0.6.23 such a file was
  counted with its date alone (the sun assumed at 10:30) and its bands
  guessed.

Panchromatic scenes have no BGRN rows. Each row gives the weighted count
error (sum |count - truth| / sum truth) and bias of the copies, how many
copies count exactly what the scene as generated counts, and how many of the
railcars' types moved (half the summed differences of ``by_type`` against
the scene as generated, over its railcars). Until detector 0.6.22 a 16-bit
or float file without ``NBITS`` was read from its darkest to its brightest
value, and its count moved (see the README's *Scenes the loader reads*).
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import rasterio
from rasterio.enums import ColorInterp, MaskFlags

from railcount.errors import BandOrderWarning
from railcount.io.bands import choose_bands
from railcount.io.scenes import parse_datetime
from railcount.io.stations import read_stations
from railcount.pipeline import evaluate_scene

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import ensure_scene, known_warnings_ignored, map_scene_range, scene_range_arguments

CONTAINERS = (
    "as generated",
    "16-bit, no NBITS",
    "float32",
    "BGRN, no names",
    "BGRN, --bands 3,2,1",
    "Planet analytic",
)


class Counted(NamedTuple):
    """One copy of a scene counted against its truth."""

    container: str
    truth: int
    railcars: int
    by_type: dict[str, int]


def copy_profile(ds: rasterio.io.DatasetReader, count: int, dtype: str) -> dict:
    """``ds``'s profile for a lossless, tiled copy of ``count`` bands of ``dtype`` (no JPEG, no NBITS)."""
    profile = {**ds.profile, "count": count, "dtype": dtype, "compress": "deflate", "tiled": True}
    for key in ("photometric", "nbits", "predictor", "jpeg_quality"):
        profile.pop(key, None)
    profile.update(blockxsize=256, blockysize=256)
    return profile


def internal_mask(ds: rasterio.io.DatasetReader) -> np.ndarray | None:
    """``ds``'s internal mask (a swath edge's nodata), for a copy to carry; None when every pixel is
    valid or nodata values say it."""
    if ds.mask_flag_enums[0] == [MaskFlags.all_valid] or ds.nodata is not None:
        return None
    return ds.dataset_mask()


def planet_item(when: datetime, stem: str) -> str:
    """The SkySat item name a copy of benchmark scene ``stem`` taken at ``when`` (UTC) is given, its
    collect number the scene's seed, so two scenes taken in the same second differ.

    >>> from datetime import timezone
    >>> planet_item(datetime(2021, 8, 22, 1, 30, tzinfo=timezone.utc), "s1660_2021-08-22")
    '20210822_013000_ssc9_u1660'
    """
    number = re.match(r"s(\d+)_", stem)
    return f"{when:%Y%m%d_%H%M%S}_ssc9_u{int(number[1]) % 10000 if number else 0:04d}"


def _save(path: Path, pix: np.ndarray, profile: dict, tags: dict, interp=None, names=None, mask=None) -> Path:
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(pix)
        if mask is not None:
            dst.write_mask(mask)
        dst.update_tags(**tags)
        if interp is not None:
            dst.colorinterp = interp
        if names is not None:
            dst.descriptions = names
    return path


def copies(scene: Path, folder: Path) -> dict[str, Path]:
    """``scene`` written again in each container (:data:`CONTAINERS`), into ``folder``, made once.

    Pixels, nodata, georeferencing and the tags (acquisition time) are kept;
    only how the values are held changes. Colour scenes have their red,
    green and blue bands in that order in every copy but the BGRN one.
    """
    folder.mkdir(parents=True, exist_ok=True)
    out = {"as generated": scene}
    with rasterio.open(scene) as ds:
        pix = ds.read()
        tags = ds.tags()
        mask = internal_mask(ds)  # (a swath edge's nodata) goes with every copy
        bits = ds.tags(1, "IMAGE_STRUCTURE").get("NBITS")
        eight = ds.dtypes[0] == "uint8"
        interp, names = list(ds.colorinterp), ds.descriptions
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BandOrderWarning)
            chosen = choose_bands(ds)
        rgb = [b - 1 for b in chosen] if len(chosen) == 3 else None
        wide = pix.astype(np.uint16) * (8 if eight else 1)
        # Blue, green, red and NIR (green again), the bands unnamed: the BGRN and Planet copies.
        bgrn = None if rgb is None else np.stack([wide[rgb[2]], wide[rgb[1]], wide[rgb[0]], wide[rgb[1]]])
        anonymous = [ColorInterp.gray] + [ColorInterp.undefined] * 3
        stem = scene.stem
        when = parse_datetime(tags["TIFFTAG_DATETIME"])
        assert when is not None, scene
        item = planet_item(when, stem)
        paths = {
            "16-bit, no NBITS": folder / f"{stem}.u16.tif",
            "float32": folder / f"{stem}.f32.tif",
            "BGRN, no names": folder / f"{stem}.bgrn.tif",
            "Planet analytic": folder / f"{item}_{'analytic' if rgb is not None else 'panchromatic'}.tif",
        }
        if not paths["16-bit, no NBITS"].exists():
            _save(
                paths["16-bit, no NBITS"],
                wide,
                copy_profile(ds, ds.count, "uint16"),
                tags,
                interp,
                names,
                mask,
            )
        if not paths["float32"].exists():
            floats = pix.astype(np.float32)
            _save(paths["float32"], floats, copy_profile(ds, ds.count, "float32"), tags, interp, names, mask)
        if bgrn is not None and not paths["BGRN, no names"].exists():
            _save(paths["BGRN, no names"], bgrn, copy_profile(ds, 4, "uint16"), tags, anonymous, mask=mask)
        if not paths["Planet analytic"].exists():
            planet, interp4 = (bgrn, anonymous) if bgrn is not None else (wide, [ColorInterp.gray] * ds.count)
            _save(
                paths["Planet analytic"],
                planet,
                copy_profile(ds, len(planet), "uint16"),
                {},
                interp4,
                mask=mask,
            )
        assert bits in (None, "11"), bits
    out.update({k: p for k, p in paths.items() if p.exists()})
    if "BGRN, no names" in out:
        out["BGRN, --bands 3,2,1"] = out["BGRN, no names"]
    return {k: out[k] for k in CONTAINERS if k in out}


def count_copies(job: tuple[str, int, str, str]) -> list[Counted]:
    """Scene i of ``job`` (suite, i, cache, realism) counted in every container."""
    suite, i, cache, realism = job
    tif, station = ensure_scene(suite, i, cache, realism)
    folder = Path(cache) / f"{suite}{'' if realism == 'v1' else '-' + realism}-containers"
    stations = read_stations(station)
    truth = tif.with_suffix(".truth.geojson")
    rows = []
    for container, path in copies(tif, folder).items():
        bands = (3, 2, 1) if container == "BGRN, --bands 3,2,1" else None
        with known_warnings_ignored(), warnings.catch_warnings():
            warnings.simplefilter("ignore", BandOrderWarning)  # the row says what the guess costs
            (ev,) = evaluate_scene(path, stations, truth, bands=bands)
        r = ev.count.result
        rows.append(Counted(container, ev.truth_count, r.railcars, dict(r.by_type)))
    return rows


def table(scenes: list[list[Counted]]) -> list[str]:
    """One row per container: copies, truth, error, bias, counts equal to the scene's own, types moved."""
    head = f"{'container':<22}{'n':>4}{'truth':>7}{'WAPE':>8}{'bias':>8}{'same count':>12}{'types moved':>13}"
    lines = [head, "-" * len(head)]
    for container in CONTAINERS:
        n = truth = error = bias = same = moved = cars = 0
        for rows in scenes:
            own = rows[0]
            got = next((r for r in rows if r.container == container), None)
            if got is None:
                continue
            n += 1
            truth += got.truth
            error += abs(got.railcars - got.truth)
            bias += got.railcars - got.truth
            same += got.railcars == own.railcars
            moved += sum(abs(got.by_type.get(k, 0) - v) for k, v in own.by_type.items()) // 2
            cars += own.railcars
        if n:
            lines.append(
                f"{container:<22}{n:>4}{truth:>7}{error / max(truth, 1):>8.1%}{bias / max(truth, 1):>+8.1%}"
                f"{f'{same} of {n}':>12}{f'{moved / max(cars, 1):.1%}':>13}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    scene_range_arguments(
        ap,
        suite="tuned",
        first=600,
        last=640,
        gsd_and_real=False,
        realism="v1",
        realisms=("v1", "v2", "generic"),
    )
    args = ap.parse_args(argv)
    scenes = map_scene_range(count_copies, args)
    span = f"{args.first}-{args.last - 1}"
    print(f"{args.suite} {args.realism} scenes {span}, each saved again in each container:")
    print("\n".join(table(scenes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
