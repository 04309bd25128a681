"""What a Maxar (DigitalGlobe) delivery says of its images in its ``.IMD`` files.

GDAL reads a product's ``.IMD`` for its ``IMAGERY`` metadata (acquisition
time, cloud cover) only when it lies beside the image under the image's own
name. A tiled product's tiles are named ``..._R1C1-...`` and its ``.IMD``
without that token, so for a tile the product's ``.IMD`` is found here
(:func:`product_imd`). The ``.IMD`` also lists the image's bands, one
``BEGIN_GROUP = BAND_X`` group each in the order the image holds them
(``B``, ``G``, ``R``, ``N`` for 4-band multispectral; ``C``, ``B``, ``G``,
``Y``, ``R``, ``RE``, ``N``, ``N2`` for WorldView's eight bands; ``P`` for
panchromatic), which the image's own bands do not name
(:func:`imd_band_names`).
"""

from __future__ import annotations

import re
from pathlib import Path

_TILE = re.compile(r"_R\d+C\d+-", re.IGNORECASE)
_BAND_GROUP = re.compile(r"^\s*BEGIN_GROUP\s*=\s*BAND_([A-Za-z0-9]+)\s*;?\s*$", re.MULTILINE)


def product_imd(path: str) -> Path | None:
    """The ``.IMD`` of the Maxar product a tile belongs to (``..._R1C1-...TIF`` -> ``...-....IMD``
    beside it, in any capitals), or None: GDAL looks for a file's ``.IMD`` under its own name only."""
    if "://" in path:
        return None
    tile = Path(path)
    if not _TILE.search(tile.stem):
        return None
    return _beside(tile, _TILE.sub("-", tile.stem))


def imd_of(path: str) -> Path | None:
    """The ``.IMD`` describing the image at ``path``: its own (same name), else its product's (a
    tile's, :func:`product_imd`); None for a URL or when there is none."""
    if "://" in path:
        return None
    return _beside(Path(path), Path(path).stem) or product_imd(path)


def imd_band_names(imd: Path) -> list[str]:
    """The band groups an ``.IMD`` lists, in order, upper-case (``["B", "G", "R", "N"]``); [] when it
    lists none or cannot be read.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "x.IMD"
    ...     _ = p.write_text("BEGIN_GROUP = BAND_B\\nEND_GROUP = BAND_B\\nBEGIN_GROUP = BAND_RE\\nEND;\\n")
    ...     imd_band_names(p)
    ['B', 'RE']
    """
    try:
        text = imd.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [m.upper() for m in _BAND_GROUP.findall(text)]


def _beside(image: Path, stem: str) -> Path | None:
    for suffix in (".IMD", ".imd"):
        candidate = image.with_name(stem + suffix)
        if candidate.is_file():
            return candidate
    return None
