"""What a Planet delivery says of its images: the time in their names, the item's metadata beside
them, the order of their bands, and which of its files are masks.

Planet names every file of an item after the item: the acquisition date
and time **in UTC**, ``YYYYMMDD_HHMMSS``, then the satellite, then the
asset (Planet's *How can we interpret image file names and ID numbers?*):

* SkySat Collect ``20231005_014852_ssc9_u0001_visual.tif``, SkySat Scene
  ``20231005_014852_ssc9d2_0012_analytic.tif`` (0.5 m, the imagery
  railcars can be counted on);
* PlanetScope ``20190109_015005_1020_3B_AnalyticMS.tif``, or with a counter
  before the satellite, ``20231005_014852_12_2463_3B_AnalyticMS_SR_clip.tif``.

A date and time standing at the start of a name followed by a Planet
satellite's name are read as that UTC time (:func:`time_from_name`); other
names with a date keep only the date, as their time of day may be local.
A PlanetScope satellite is four hexadecimal characters, which a person's
own numbering can also be (``20231005_143000_0001.tif``), so for those the
name must go on with the product level Planet puts there (``3B_``,
``1B_``...); SkySat's ``ssc9`` is its own proof.

An order delivered from Planet's Orders API holds beside the images the
item's properties as ``ITEM_metadata.json`` (``acquired``, ``cloud_percent``
or ``cloud_cover``), read by :func:`item_metadata`.

Planet's multispectral assets hold their bands as blue, green, red,
near-infrared (SkySat and 4-band PlanetScope ``analytic``, ``analytic_sr``,
``analytic_dn``, ``pansharpened``) or, for 8-band PlanetScope, coastal
blue, blue, green I, green, yellow, red, red edge, near-infrared; the
GeoTIFFs do not name them, so :func:`rgb_bands` gives red, green and blue
from the asset's name and band count. ``visual`` assets are red, green,
blue already.

The usable-data masks (``_udm``, ``_udm2``, ``_DN_udm``) are GeoTIFFs of
the same names and grids as the images: :func:`is_mask` tells a folder's
listing to leave them out.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

_ITEM_NAME = re.compile(
    r"""^(?P<day>\d{8})_(?P<time>\d{6})            # acquisition date and time, UTC
        (?:_\d{1,2})?                              # PlanetScope: a counter, or hundredths of a second
        _(?P<satellite>ssc\d{1,2}(?:d\d)?|[0-9a-f]{4})  # SkySat ssc9, ssc9d2; PlanetScope 1020, 0f4c
        (?:_(?P<frame>u\d{4}|\d{4}))?              # SkySat: the collect (u0001) or the scene's frame (0012)
        (?=_|$)""",
    re.IGNORECASE | re.VERBOSE,
)
_MASK = re.compile(r"_(?:DN_)?udm2?(?:_|$)", re.IGNORECASE)
_PRODUCT_LEVEL = re.compile(r"^[0-9][AB](?:_|$)", re.IGNORECASE)
"""What follows a PlanetScope item's name in its files: the product level (``3B_AnalyticMS``,
``1B_udm2``, ``3B``)."""


@dataclass(frozen=True)
class ItemName:
    """A Planet file name read: the item it belongs to, its acquisition time and its asset."""

    item_id: str
    acquired: datetime
    satellite: str
    asset: str  # the rest of the name: "visual", "3B_AnalyticMS_SR_clip" ("" when none)

    @property
    def is_skysat(self) -> bool:
        return self.satellite.lower().startswith("ssc")


def item_name(path: str) -> ItemName | None:
    """The Planet item a file (path or URL) is named after, or None when it is not named Planet's way.

    >>> n = item_name("/o/20231005_014852_ssc9_u0001_pansharpened_clip.tif")
    >>> n.item_id, n.acquired.isoformat(), n.asset
    ('20231005_014852_ssc9_u0001', '2023-10-05T01:48:52+00:00', 'pansharpened_clip')
    >>> item_name("20190109_015005_1020_3B_AnalyticMS.tif").item_id
    '20190109_015005_1020'
    >>> item_name("20231005_014852_12_2463_3B_AnalyticMS_8b.tif").item_id
    '20231005_014852_12_2463'
    >>> item_name("tumangang_20231005_143000.tif") is None, item_name("20231005_143000_yard.tif") is None
    (True, True)
    >>> item_name("20231005_143000_0001.tif") is None, item_name("20231005_143000_beef_west.tif") is None
    (True, True)
    """
    stem = Path(path.split("?", 1)[0]).name
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    m = _ITEM_NAME.match(stem)
    if m is None:
        return None
    try:
        when = datetime.strptime(m["day"] + m["time"], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    if not 2009 <= when.year <= 2200:  # Planet's first imagery is from 2009 (RapidEye)
        return None
    name = ItemName(m[0], when, m["satellite"], stem[m.end() :].lstrip("_"))
    if not name.is_skysat and _PRODUCT_LEVEL.match(name.asset) is None:
        return None  # four characters a person's numbering can also be, with no product level after
    return name


def time_from_name(path: str) -> str | None:
    """The UTC acquisition time a Planet file name starts with, as ISO 8601; None for other names.

    >>> time_from_name("20231005_014852_ssc9_u0001_visual.tif")
    '2023-10-05T01:48:52+00:00'
    >>> time_from_name("yard_2023-10-05.tif") is None
    True
    """
    name = item_name(path)
    return name.acquired.isoformat() if name is not None else None


def is_mask(path: str | Path) -> bool:
    """Whether a file is a Planet usable-data mask (``..._udm2.tif``, ``..._DN_udm.tif``), not an image.

    >>> is_mask("20231005_014852_ssc9_u0001_analytic_udm2.tif"), is_mask("20190109_015005_1020_3B_DN_udm.tif")
    (True, True)
    >>> is_mask("20231005_014852_ssc9_u0001_analytic.tif"), is_mask("udm2_yard.tif")
    (False, False)
    """
    name = item_name(str(path))
    return name is not None and _MASK.search("_" + name.asset) is not None


def item_metadata(path: str) -> dict[str, Any]:
    """The item's properties from the ``ITEM_metadata.json`` an order holds beside its images ({} for a
    URL, a name that is not Planet's, or when there is none or it cannot be read)."""
    name = item_name(path)
    if name is None or "://" in path:
        return {}
    meta = Path(path).with_name(f"{name.item_id}_metadata.json")
    try:
        doc = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    props = doc.get("properties", doc) if isinstance(doc, dict) else None
    return props if isinstance(props, dict) else {}


def metadata_time(path: str) -> str | None:
    """``acquired`` from the item's ``_metadata.json`` beside the file (:func:`item_metadata`), or None."""
    value = item_metadata(path).get("acquired")
    return value if isinstance(value, str) else None


def metadata_cloud_cover(path: str) -> float | None:
    """The item's cloudy share as a percentage: ``cloud_percent`` (0-100), else ``cloud_cover`` (a
    share, 0-1, as Planet's API gives it); None when neither is given."""
    props = item_metadata(path)
    for key, scale in (("cloud_percent", 1.0), ("cloud_cover", 100.0)):
        value = props.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            percent = float(value) * scale
            if 0.0 <= percent <= 100.0:
                return round(percent, 6)
    return None


def rgb_bands(path: str, data_bands: list[int]) -> list[int] | None:
    """Red, green and blue of a Planet multispectral asset whose bands are not named, or None.

    Four data bands are blue, green, red, near-infrared (SkySat's and
    PlanetScope's analytic and pansharpened assets); eight are PlanetScope's
    coastal blue, blue, green I, green, yellow, red, red edge, near-infrared.
    A ``visual`` asset, or another number of bands, is left to the caller.

    >>> rgb_bands("20231005_014852_ssc9_u0001_analytic.tif", [1, 2, 3, 4])
    [3, 2, 1]
    >>> rgb_bands("20231005_014852_12_2463_3B_AnalyticMS_SR_8b.tif", list(range(1, 9)))
    [6, 4, 2]
    >>> rgb_bands("20231005_014852_ssc9_u0001_visual.tif", [1, 2, 3, 4]) is None
    True
    """
    name = item_name(path)
    if name is None or "visual" in name.asset.lower():
        return None
    order = {4: (3, 2, 1), 8: (6, 4, 2)}.get(len(data_bands))
    return [data_bands[i - 1] for i in order] if order else None


def asset_rank(asset: str) -> int:
    """How good an image asset is to count, best first: ``visual`` (the sharp, colour-corrected RGB
    picture, like the 8-bit scenes the detector was built and checked on), ``pansharpened``, the
    multispectral ``analytic`` (softer: SkySat takes it at about 1 m and resamples it), its raw
    ``analytic_dn``, ``panchromatic`` (no colour, so no types), anything else.

    >>> [asset_rank(a) for a in ("visual_clip", "pansharpened", "3B_AnalyticMS_SR", "analytic_dn", "x")]
    [0, 1, 2, 3, 5]
    """
    lower = asset.lower()
    if "visual" in lower:
        return 0
    if "pansharpened" in lower:
        return 1
    if "analytic" in lower:
        return 3 if "_dn" in lower else 2
    return 4 if "panchromatic" in lower else 5


def one_image_per_item(paths: Sequence[str]) -> dict[int, int]:
    """Files that are other image assets of a Planet item already in ``paths`` (in the same folder):
    each left-out index mapped to the index of the file counted instead, the best asset
    (:func:`asset_rank`), the first listed of equals. An order can hold an item's ``visual`` and
    ``analytic`` images side by side: one acquisition, to be counted once.

    >>> i = "20231005_014852_ssc9_u0001"
    >>> one_image_per_item([f"o/{i}_analytic.tif", "o/yard.tif", f"o/{i}_visual.tif", f"p/{i}_visual.tif"])
    {0: 2}
    """
    items: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for i, path in enumerate(paths):
        name = item_name(path)
        if name is not None:
            folder = os.path.dirname(path.split("?", 1)[0])
            items.setdefault((folder, name.item_id.lower()), []).append((asset_rank(name.asset), i))
    out: dict[int, int] = {}
    for members in items.values():
        ranked = [i for _, i in sorted(members)]
        out.update({i: ranked[0] for i in ranked[1:]})
    return out
