"""Which bands of a scene are used, which pixels are valid, and what their values mean.

RGB is chosen from multispectral files (BGRN, WorldView's eight bands...) by
colour interpretation, else by band description, else by a Maxar ``.IMD``'s
list of bands, else the first three data bands (with a warning when there are
more); a single data band (panchromatic) is used as is; alpha bands are never
data, they are masks. ``--bands`` overrides the choice.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import cv2
import numpy as np
import rasterio
from rasterio.enums import ColorInterp, MaskFlags
from rasterio.windows import Window

from railcount.errors import BandOrderWarning, DataError, NegativeValuesWarning, UsageError
from railcount.io import planet
from railcount.io.maxar import imd_band_names, imd_of


def file_of(ds: rasterio.io.DatasetReader) -> str:
    """The file a dataset's metadata come from: a mosaic's or a warped file's own (``source_path``),
    else the dataset's."""
    return str(getattr(ds, "source_path", None) or ds.name)


_COLOURS = ("red", "green", "blue")
# Descriptions like "Red", "red (B4)", "B04 red", "RED_BAND" name the band; "red edge" does not.
_DESCRIPTION = {c: re.compile(rf"(?<![a-z]){c}(?![a-z])(?!.*edge)", re.IGNORECASE) for c in _COLOURS}
_DTYPES_KEPT = ("uint8", "uint16", "int16", "float32")


def parse_bands(text: str | None) -> tuple[int, ...] | None:
    """Parse a ``--bands`` value: ``"3,2,1"`` (R, G, B) or ``"1"`` (one panchromatic band).

    >>> parse_bands("3, 2, 1")
    (3, 2, 1)
    """
    if text is None or not text.strip():
        return None
    try:
        idx = tuple(int(t) for t in text.split(","))
    except ValueError:
        raise UsageError(
            f"--bands {text!r}: expected 1-based band numbers separated by commas, e.g. 3,2,1 or 1"
        ) from None
    if len(idx) not in (1, 3) or min(idx) < 1:
        raise UsageError(
            f"--bands {text!r}: give three bands (red, green, blue) or one (panchromatic), numbered from 1"
        )
    return idx


def choose_bands(
    ds: rasterio.io.DatasetReader, bands: Sequence[int] | None = None, name: str | None = None
) -> list[int]:
    """:func:`band_choice`'s bands (and its warning, when they are a guess)."""
    return band_choice(ds, bands, name)[0]


def band_choice(
    ds: rasterio.io.DatasetReader, bands: Sequence[int] | None = None, name: str | None = None
) -> tuple[list[int], bool]:
    """1-based indexes of the bands to read (R, G, B, or the one panchromatic band), and whether they
    are a guess, which a :class:`~railcount.errors.BandOrderWarning` then says.

    A file of four or more data bands that names none of them red, green and
    blue (colour interpretation or description) is read as the Maxar ``.IMD``
    beside it lists its bands, or as a Planet multispectral asset's name says
    (:func:`railcount.io.planet.rgb_bands`), else has its first three read as red, green,
    blue, and the warning is given: many 4-band products are blue, green, red,
    near-infrared, and the cars' types are read from their colours.

    Parameters
    ----------
    ds : rasterio dataset
    bands : sequence of int, optional
        An explicit choice (one or three 1-based indexes), checked against the file.
    name : str, optional
        The scene's name in messages (default: the dataset's).

    Raises
    ------
    UsageError
        ``bands`` names a band the file does not have.
    DataError
        Without ``bands``, the file has no band but alpha ones.
    """
    if bands is not None:
        bad = [b for b in bands if not 1 <= b <= ds.count]
        if bad:
            raise UsageError(
                f"{ds.name}: --bands names band {bad[0]} but the file has {ds.count} "
                f"band{'s' if ds.count != 1 else ''}; number bands from 1"
            )
        return list(bands), False
    interp = list(ds.colorinterp)
    data_bands = [i + 1 for i, ci in enumerate(interp) if ci != ColorInterp.alpha]
    if not data_bands:
        raise DataError(
            f"{ds.name}: every band is an alpha (transparency) band, so there is no image to count; "
            "if a band does hold the image, name it with --bands N"
        )
    if len(data_bands) == 2:  # neither colour nor one panchromatic band: the first is a guess
        warnings.warn(
            BandOrderWarning(
                f"{name or ds.name}: has two image bands, so band {data_bands[0]} is read as one "
                "panchromatic band; if the image is in the other, pass --bands "
                f"{data_bands[1]}, and if one of them is a transparency mask, mark it so (gdal_edit.py "
                "-colorinterp_2 alpha)"
            ),
            stacklevel=3,
        )
        return data_bands[:1], True
    if len(data_bands) < 3:
        return data_bands[:1], False
    by_ci = {ci: i + 1 for i, ci in enumerate(interp)}
    if all(c in by_ci for c in (ColorInterp.red, ColorInterp.green, ColorInterp.blue)):
        return [by_ci[ColorInterp.red], by_ci[ColorInterp.green], by_ci[ColorInterp.blue]], False
    by_desc: dict[str, int] = {}
    for i, desc in enumerate(ds.descriptions):
        for colour, pattern in _DESCRIPTION.items():
            if desc and colour not in by_desc and pattern.search(desc):
                by_desc[colour] = i + 1
    if len(by_desc) == 3 and len(set(by_desc.values())) == 3:
        return [by_desc[c] for c in _COLOURS], False
    if len(data_bands) >= 4:
        own = file_of(ds)
        listed = _listed_by_imd(own, data_bands) or planet.rgb_bands(own, data_bands)
        if listed is not None:
            return listed, False
    chosen = data_bands[:3]
    if len(data_bands) < 4:
        return chosen, False
    warnings.warn(BandOrderWarning(_unnamed(name or ds.name, len(data_bands), chosen)), stacklevel=3)
    return chosen, True


def _listed_by_imd(path: str, data_bands: list[int]) -> list[int] | None:
    """Red, green and blue as a Maxar ``.IMD`` beside the file lists its bands (one group per band, in
    the file's order; :mod:`railcount.io.maxar`), or None when there is none, or it lists another
    number of bands or no red, green and blue."""
    imd = imd_of(path)
    listed = imd_band_names(imd) if imd is not None else []
    if len(listed) != len(data_bands) or not {"R", "G", "B"} <= set(listed):
        return None
    return [data_bands[listed.index(c)] for c in ("R", "G", "B")]


def _unnamed(name: str, n: int, chosen: list[int]) -> str:
    """The warning for ``n`` data bands without colour names, of which ``chosen`` are read as RGB.

    >>> "pass --bands 5,3,2" in _unnamed("a.tif", 8, [1, 2, 3])
    True
    >>> _unnamed("a.tif", 4, [1, 2, 3]).split("; ")[0]
    'a.tif: its 4 bands carry no colour names, so bands 1, 2, 3 are read as red, green, blue'
    """
    if n == 8:
        usual = (
            "WorldView's eight bands are coastal, blue, green, yellow, red, red edge, NIR1, NIR2: "
            "if this file's are, pass --bands 5,3,2"
        )
    else:
        usual = "many 4-band products are blue, green, red, near-infrared: if this one is, pass --bands 3,2,1"
    return (
        f"{name}: its {n} bands carry no colour names, so bands {', '.join(map(str, chosen))} are read "
        f"as red, green, blue; {usual} (else the file's red, green and blue band numbers), as the cars' "
        "types are read from their colours"
    )


def read_validity(ds: rasterio.io.DatasetReader, band_idx: list[int], window: Window) -> np.ndarray:
    """True where every used band holds data (nodata values, internal masks and alpha honoured)."""
    flags = [ds.mask_flag_enums[i - 1] for i in band_idx]
    if all(f == [MaskFlags.all_valid] for f in flags):
        return np.ones((int(window.height), int(window.width)), dtype=bool)
    masks = ds.read_masks(band_idx, window=window)
    return np.all(masks > 0, axis=0)


BLACK_FILL_M = 4.0
"""Black in every band over a square this many metres a side (or more) is fill, not picture."""


def black_fill(pixels: np.ndarray, gsd_m: float) -> np.ndarray:
    """True where a pixel is 0 in every band and lies in a square of such pixels
    :data:`BLACK_FILL_M` a side: the black a file without a nodata value holds where it has no picture
    (a collar, a missing tile, a screenshot's margin). Taken as nodata, so such a part of a station
    lowers ``observed_fraction`` instead of passing for ground without cars (the bundled sample with
    half its station blackened read "23 railcars (19-28), 100 % observed"). Real imagery is not that
    black over 16 m2: neither real scene nor any bundled sample has a single such pixel; shadow so
    deep that it is would hide a car anyway.

    >>> px = np.full((40, 40, 3), 90, np.uint8); px[:, :20] = 0; px[5, 30] = 0
    >>> m = black_fill(px, 0.5); int(m.sum()), bool(m[5, 30])
    (800, False)
    """
    if pixels.size == 0 or pixels[..., 0].min() > 0:  # (the usual case, and a cheap test)
        return np.zeros(pixels.shape[:2], bool)
    zero = np.logical_and.reduce([pixels[..., b] == 0 for b in range(pixels.shape[2])])
    return _in_squares(zero, gsd_m)


def _in_squares(mask: np.ndarray, gsd_m: float, *, mask_beyond: bool = False) -> np.ndarray:
    """The pixels of ``mask`` that lie in a square of ``mask`` pixels :data:`BLACK_FILL_M` a side (an
    opening, with OpenCV's borders); ``mask_beyond`` takes a square's width past the array's edges to be
    ``mask`` too."""
    k = max(3, round(BLACK_FILL_M / gsd_m)) | 1  # (odd: an even square's opening shifts by a pixel)
    square = np.ones((k, k), np.uint8)
    if not mask_beyond:
        return cv2.morphologyEx(mask.view(np.uint8), cv2.MORPH_OPEN, square).view(bool)
    m = cv2.copyMakeBorder(mask.view(np.uint8), k, k, k, k, cv2.BORDER_CONSTANT, value=1)
    return cv2.morphologyEx(m, cv2.MORPH_OPEN, square)[k:-k, k:-k].view(bool)


def nodata_specks_read(masks: np.ndarray, gsd_m: float) -> np.ndarray:
    """``masks`` (True: data) with the pixels of no data that lie in no square of no data
    :data:`BLACK_FILL_M` a side read as data: the specks a nodata value in the data's own range marks
    inside the picture. A file written with ``-a_nodata 0`` to hide its collar also marks every pixel
    of a shadow that happens to be 0 in every band; holes in the shadows cost the count its cars (the
    bundled sample with its darkest 1.6 % of pixels set to 0 read 64 railcars, and 48 with nodata 0
    declared). A speck keeps its stored value, which is the nodata value (0 for a non-finite float).
    A scene's collar, a missing tile or a swath's edge is a region, and stays no data.

    >>> m = np.ones((40, 40), bool); m[:, :20] = False; m[5, 30] = m[6, 31] = False; m[:, 38:] = False
    >>> r = nodata_specks_read(m, 0.5); int((~r).sum()), bool(r[5, 30]), bool(r[0, 39])
    (880, True, False)
    """
    if masks.all():
        return masks
    # Beyond the edges read lies unknown ground: taken as no data there, so a region the window cuts
    # to a sliver along its edge stays no data.
    return ~_in_squares(~masks, gsd_m, mask_beyond=True)


def picture(masks: np.ndarray, pixels: np.ndarray, gsd_m: float) -> np.ndarray:
    """Where pixels read hold picture: ``masks`` (the file's nodata, masks and alpha) with its specks read
    as data (:func:`nodata_specks_read`) and black fill taken out (:func:`black_fill`); ``pixels`` are
    (rows, cols, bands)."""
    return nodata_specks_read(masks, gsd_m) & ~black_fill(pixels, gsd_m)


def working_dtype(dtype: str) -> np.dtype:
    """The dtype pixels are held in: the file's when the detector handles it, else float32."""
    return np.dtype(dtype) if dtype in _DTYPES_KEPT else np.dtype(np.float32)


def value_range(ds: rasterio.io.DatasetReader, pixels: np.ndarray, valid: np.ndarray) -> tuple[float, float]:
    """The range of meaningful values: the dtype's for 8 bit, ``NBITS`` when set, else the data's bit depth.

    The detector reads shadows as fractions of the sunlit level in *linear*
    units, so zero must stay zero: data without ``NBITS`` (most 16-bit
    deliveries) are taken from 0 to the smallest ``2**k - 1`` (``k`` at
    least 8) that holds the window's largest value, so 8-bit values stored
    in 16 bits read as 8-bit, and 11-bit ones as with ``NBITS=11``.
    Float data up to 1 is taken as reflectance (0-1). Negative values (a
    surface-reflectance product's over-corrected dark pixels) read as black;
    only data with no positive value keep the window's own range.

    Until railcount 0.6.22 the range was the window's own minimum to
    maximum: the darkest pixel was subtracted, shadows read darker than they
    are, and the same pixels counted otherwise in 16 bits than in 8.

    >>> _bit_depth_top(200.0), _bit_depth_top(255.0), _bit_depth_top(1500.0), _bit_depth_top(4000.0)
    (255.0, 255.0, 2047.0, 4095.0)
    """
    dtype = np.dtype(ds.dtypes[0])
    if dtype == np.uint8:
        return 0.0, 255.0
    nbits = ds.tags(1, "IMAGE_STRUCTURE").get("NBITS") or ds.tags().get("NBITS")
    if nbits and nbits.isdigit() and dtype.kind in "ui":
        return 0.0, float(2 ** int(nbits) - 1)
    sample = pixels[valid]
    if sample.size == 0:
        return 0.0, 1.0
    lo, hi = float(np.min(sample)), float(np.max(sample))
    if hi <= 0.0:
        return lo, hi if hi > lo else lo + 1.0
    if dtype.kind == "f" and hi <= 1.0:
        return 0.0, 1.0
    return 0.0, _bit_depth_top(hi)


NEGATIVE_SHARE = 0.05
"""The share of a window's valid pixels below zero (their colour bands' mean) above which
:func:`warn_negative_values` warns: surface-reflectance products put a few over-corrected dark pixels
there (well under 1 % of a yard); a twentieth is a file whose values are shifted or scaled."""


def warn_negative_values(pixels: np.ndarray, valid: np.ndarray, name: str) -> None:
    """A :class:`~railcount.errors.NegativeValuesWarning` when over :data:`NEGATIVE_SHARE` of the valid
    pixels of a signed or float window read below zero, and so as black (a window with no positive
    value keeps its own range, :func:`value_range`, and is not warned of)."""
    if pixels.dtype.kind not in "if" or not valid.any():
        return
    colour = pixels[:, :, :3] if pixels.shape[2] >= 3 else pixels[:, :, :1]
    mean = colour.astype(np.float32).mean(axis=2)
    if float(np.max(mean, where=valid, initial=-np.inf)) <= 0.0:
        return
    below = mean < 0
    share = float(np.count_nonzero(below & valid)) / float(np.count_nonzero(valid))
    if share > NEGATIVE_SHARE:
        warnings.warn(
            NegativeValuesWarning(
                f"{name}: {share:.0%} of the station's pixels hold values below zero, which read as "
                "black, so the count will be wrong; if the file's values are shifted or scaled, rescale "
                "them to start at 0 (gdal_translate -scale, or the product's own offset and scale) and "
                "count that copy"
            ),
            stacklevel=3,
        )


def _bit_depth_top(largest: float) -> float:
    """The smallest ``2**k - 1`` (``k`` at least 8) at or above ``largest``."""
    return float(2 ** max(8, int(np.ceil(largest)).bit_length()) - 1)
