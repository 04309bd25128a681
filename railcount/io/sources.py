"""Find the scenes of a batch: a folder, a list of paths or URLs, or a STAC catalog.

Each scene is listed with what can be known before counting it: its
acquisition time, its footprint in lon/lat, and a content key that
identifies it whatever path it is found under. For files and URLs both come
from the raster's header (:func:`probe_scene`, the tags that
:func:`railcount.io.scenes.acquisition_time` reads, no pixels); for STAC items
from the item's ``datetime`` and geometry, without opening the asset.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import shapely
from rasterio.errors import RasterioError
from rasterio.warp import transform_bounds
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from railcount.errors import UsageError
from railcount.io.mosaic import RASTER_SUFFIXES as MOSAIC_SUFFIXES
from railcount.io.mosaic import TileGrid, grid_mismatch, listed_raster
from railcount.io.planet import is_mask
from railcount.io.scenes import (
    WGS84,
    acquisition_source,
    check_georeferenced,
    date_from_name,
    is_archive,
    is_warped,
    open_scene,
    parse_bearing,
    parse_datetime,
    provider_cloud_cover,
)

RASTER_SUFFIXES = (".tif", ".tiff", ".gtiff", ".ntf", ".jp2")
"""Files a folder SOURCE is searched for: GeoTIFF, and the NITF and JPEG 2000 files providers deliver."""
# A SOURCE that is one file of these is one scene, never a list of paths to read line by line.
SINGLE_RASTER_SUFFIXES = (*RASTER_SUFFIXES, *MOSAIC_SUFFIXES)
STAC_SUFFIXES = (".json", ".geojson")
# STAC asset keys tried in order for the image to count.
_ASSET_KEYS = ("visual", "image", "data", "analytic", "pan", "panchromatic")
# Words that name an image in other keys (Planet's ortho_visual ...), best first, and words or roles that
# name what is not the image to count.
_ASSET_WORDS = ("visual", "pansharpened", "analytic", "panchromatic")
_NOT_IMAGE_WORDS = ("udm", "mask", "thumbnail", "overview", "preview", "browse", "xml", "metadata", "cloud")
_NOT_IMAGE_ROLES = {"data-mask", "thumbnail", "overview", "metadata", "cloud", "cloud-shadow", "snow-ice"}


@dataclass(frozen=True)
class SceneSource:
    """A scene found in a SOURCE, before it is opened.

    ``acquired`` and ``footprint`` (lon/lat) are set for STAC items, else None;
    ``cloud_cover`` is a STAC item's ``eo:cloud_cover`` (percent of the scene, as its provider
    estimated it), when it gives one; ``shadows_toward`` the compass bearing its shadows point to, when
    a scene list's line gives one (``shadows=75``; see :func:`railcount.detect.sun.sun_from_shadows`).
    """

    path: str
    acquired: datetime | None = None
    footprint: BaseGeometry | None = None
    from_stac: bool = False
    cloud_cover: float | None = None
    shadows_toward: float | None = None
    group: str | None = None
    """Which scenes may be tiles of one acquisition with this one (:func:`tile_groups`): a STAC
    item's collection (``stac:ID``); None for a file or URL, whose folder says it."""
    problem: str | None = None
    """Why this listed scene cannot be counted, one line that names it: a STAC item that cannot be
    read (its JSON missing, a ``datetime`` that is not one) or that lists no image to count. ``path``
    is then the item's own (its JSON's file or URL, or ``COLLECTION#ID`` in an ItemCollection), and
    the batch records it with ``problem_status`` and goes on."""
    problem_status: str = "failed"
    """``failed`` (the item is broken: mending it makes it countable) or ``skipped`` (it has nothing
    to count, such as an item of thumbnails only)."""
    item: str | None = None
    """A readable STAC item's own path, as ``path`` names an unreadable one: a rerun once it is mended
    replaces the record of its problem."""


@dataclass(frozen=True)
class SceneInfo:
    """What a scene's header says: acquisition time, lon/lat footprint, the cloud cover its
    provider's delivery files give (percent, :func:`railcount.io.scenes.provider_cloud_cover`) and
    its pixel grid."""

    acquired: datetime | None
    footprint: BaseGeometry
    cloud_cover: float | None = None
    grid: TileGrid | None = None
    acquired_from: str | None = None
    """Where ``acquired`` came from (a key of :data:`railcount.io.scenes.ACQUIRED_FROM`)."""
    """The file's own pixel grid (None when it was resampled to a north-up one): whether it is a tile
    of a product delivered in several (:func:`tile_groups`)."""


class KeyCache(Protocol):
    """Somewhere to remember content keys of local files (the results store is one)."""

    def cached_key(self, path: str, size: int, mtime_ns: int) -> str | None: ...

    def remember_key(self, path: str, size: int, mtime_ns: int, key: str) -> None: ...


def is_url(name: str) -> bool:
    return "://" in name


def list_scenes(
    source: str | os.PathLike[str],
    *,
    bbox: tuple[float, float, float, float] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[SceneSource]:
    """Every scene named by ``source``.

    Parameters
    ----------
    source : str or PathLike
        A directory (searched recursively for ``*.tif``/``*.tiff``), one raster
        file (GeoTIFF, VRT, JPEG 2000...), a text
        file with one path or URL per line (``#`` starts a comment; relative
        paths are relative to the file; a line may end, after whitespace, in
        the scene's acquisition time as ISO 8601), a STAC Catalog, Collection,
        ItemCollection or Item (a ``.json`` file or a URL), or a Planet order's
        ``manifest.json`` (the images it lists, without their masks).
    bbox, start, end
        Only for STAC: items whose geometry misses ``bbox`` (lon/lat) or whose
        datetime lies outside [start, end) are left out without being opened.

    Raises
    ------
    UsageError
        ``source`` does not exist or cannot be read.
    """
    name = str(source)
    if is_url(name):
        return _stac_scenes(name, bbox, start, end)
    path = Path(name)
    if path.is_dir():
        # A link whose target is gone (a drive not mounted) is listed too: the batch records it
        # as failed, with its reason, rather than leaving it out unsaid.
        found = [p for p in sorted(path.rglob("*")) if listed_raster(p, RASTER_SUFFIXES)]
        return [SceneSource(os.path.abspath(p)) for p in found]
    if not path.exists():
        raise UsageError(
            f"{path}: scene source not found; pass a folder of GeoTIFFs, a text file listing "
            "scenes, or a STAC catalog"
        )
    if path.suffix.lower() in SINGLE_RASTER_SUFFIXES:
        return [SceneSource(os.path.abspath(path))]
    if is_archive(path.name):
        raise UsageError(f"{path}: is an archive; unpack it and pass the folder it holds")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"{path}: cannot read the scene list ({exc}); pass a folder, a text file or a STAC catalog"
        ) from None
    if path.suffix.lower() in STAC_SUFFIXES or text.lstrip().startswith("{"):
        listed = _order_manifest(path, text)
        if listed is not None:
            return listed
        return _stac_scenes(str(path), bbox, start, end)
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        entry, toward = _listed_shadows(entry, path, number)
        entry, when = _listed_time(entry, path, number)
        # A path pasted with its quotes ("Copy as path" on Windows), or from the home folder.
        if len(entry) > 1 and entry[0] == entry[-1] and entry[0] in "'\"":
            entry = entry[1:-1]
        if not is_url(entry):
            entry = os.path.expanduser(entry)
        if not is_url(entry) and not Path(entry).is_absolute():
            entry = os.path.abspath(path.parent / entry)
        out.append(SceneSource(entry, acquired=when, shadows_toward=toward))
    return out


_LISTED_SHADOWS = re.compile(r"^(?P<rest>.*\S)\s+shadows=(?P<bearing>\S*)$", re.IGNORECASE)
"""A scene list's line ending in the bearing its shadows point to: ``PATH [TIME] shadows=75``."""


def _listed_shadows(entry: str, listing: Path, number: int) -> tuple[str, float | None]:
    """A scene list line without its last word ``shadows=BEARING`` and that bearing (degrees clockwise
    from north or a compass point, :func:`railcount.io.scenes.parse_bearing`), when it ends in one.

    >>> _listed_shadows("a b.tif 2011-05-01 shadows=ENE", Path("l.txt"), 1)
    ('a b.tif 2011-05-01', 67.5)
    >>> _listed_shadows("a.tif", Path("l.txt"), 1)
    ('a.tif', None)
    """
    m = _LISTED_SHADOWS.match(entry)
    if m is None:
        return entry, None
    return m["rest"], parse_bearing(m["bearing"], f"{listing}, line {number}: shadows=")


_LISTED_TIME = re.compile(r"^(?P<path>.*\S)\s+(?P<time>\d{4}-\d{2}-\d{2}(?:[T ]\S*)?)$")
"""A scene list's line: a path or URL, then optionally whitespace and its acquisition time."""


def _listed_time(entry: str, listing: Path, number: int) -> tuple[str, datetime | None]:
    """A scene list line's path and, when it ends in one, its acquisition time (ISO 8601, UTC if naive).

    ``a.tif 2023-10-05T01:48Z`` lists a.tif taken then: the time wins over
    the file's own (as a STAC item's ``datetime`` does). A last word that
    looks like a date but is not one is a one-line error naming the line.
    """
    m = _LISTED_TIME.match(entry)
    if m is None:
        return entry, None
    when = parse_datetime(m["time"])
    if when is None:
        raise UsageError(
            f"{listing}, line {number}: {m['time']!r} is not a date and time; after the path give the "
            "acquisition time as ISO 8601 (2023-10-05T01:48Z), or nothing"
        )
    return m["path"], when.astimezone(timezone.utc)


def _order_manifest(path: Path, text: str) -> list[SceneSource] | None:
    """The images a Planet order's ``manifest.json`` lists (its ``files``, each a ``path`` relative to
    the manifest), rasters only and no usable-data masks; None when ``text`` is not such a manifest
    (a STAC document, say)."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    files = doc.get("files") if isinstance(doc, dict) and "stac_version" not in doc else None
    if (
        not isinstance(files, list)
        or not files
        or not all(isinstance(f, dict) and "path" in f for f in files)
    ):
        return None
    out = []
    for f in files:
        file = path.parent / str(f["path"])
        if file.suffix.lower() in RASTER_SUFFIXES and not is_mask(file):
            out.append(SceneSource(os.path.abspath(file)))
    return out


def _stac_scenes(
    href: str,
    bbox: tuple[float, float, float, float] | None,
    start: datetime | None,
    end: datetime | None,
) -> list[SceneSource]:
    """The scenes of a STAC Catalog, Collection, ItemCollection or Item; an item that cannot be read,
    or lists no image to count, is listed with its problem (:attr:`SceneSource.problem`) and the rest
    are read on. Only a SOURCE that cannot be read at all is a :class:`UsageError`."""
    try:
        import pystac
    except ImportError:
        raise UsageError(
            f"{href}: reading a STAC catalog needs pystac; pip install 'railcount[stac]'"
        ) from None
    if not is_url(href):
        href = os.path.abspath(href)
    try:
        doc = _read_json(href)
    except Exception as exc:
        why = _read_failure(exc)
        if why is None:
            raise
        raise UsageError(
            f"{href}: cannot read as a STAC catalog or item collection ({why}); check the file or URL"
        ) from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if isinstance(features, list):
        if not any(isinstance(f, dict) and "stac_version" in f for f in features):
            raise UsageError(
                f"{href}: not a STAC Catalog, Collection, Item or ItemCollection (a GeoJSON "
                "FeatureCollection whose features are no STAC items); pass a STAC JSON file or URL"
            )
        found = [
            _stac_item(f, f"{href}#{f.get('id') if isinstance(f, dict) else n}", None)
            for n, f in enumerate(features)
        ]
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        found = [_stac_item(doc, href, href)]
    else:
        try:
            obj = pystac.read_dict(doc, href=href)
        except (pystac.STACError, KeyError, ValueError, TypeError, AttributeError) as exc:
            raise UsageError(
                f"{href}: cannot read as a STAC catalog or item collection ({type(exc).__name__}: {exc}); "
                "check the file or URL"
            ) from None
        found = _catalog_items(obj) if isinstance(obj, pystac.Catalog) else [_stac_item(doc, href, href)]
    box = shapely.box(*bbox) if bbox else None
    out = []
    for item, label in found:
        if isinstance(item, SceneSource):  # its problem, with its item's path
            out.append(item)
            continue
        when = item.datetime or _parse_stac_time(item.properties.get("start_datetime"))
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        if when is not None and ((start and when < start) or (end and when >= end)):
            continue
        footprint = shape(item.geometry) if item.geometry else None
        if box is not None and footprint is not None and not footprint.intersects(box):
            continue
        asset = _pick_asset(item, href)
        cover = _cloud_cover(item.properties.get("eo:cloud_cover"))
        group = f"stac:{item.collection_id or ''}"
        if asset is None:
            kinds = ", ".join(sorted(item.assets))
            problem = (
                f"{label}: STAC item {item.id!r} lists no image to count "
                f"({f'only {kinds}' if kinds else 'no assets at all'}); add the image (a GeoTIFF, "
                "asset key 'visual' or 'data') to the item to count it"
            )
            skipped = SceneSource(label, when, footprint, from_stac=True, cloud_cover=cover, group=group)
            out.append(replace(skipped, problem=problem, problem_status="skipped"))
            continue
        out.append(
            SceneSource(
                asset,
                acquired=when,
                footprint=footprint,
                from_stac=True,
                cloud_cover=cover,
                group=group,
                item=label,
            )
        )
    return out


def _read_json(href: str) -> Any:
    """A JSON document from a file or URL, read as pystac reads it (its network settings)."""
    import pystac

    return json.loads(pystac.StacIO.default().read_text(href))


def _read_failure(exc: BaseException) -> str | None:
    """What went wrong reading a STAC document, in a few words; None for an error that is a bug."""
    from urllib.error import HTTPError

    if isinstance(exc.__cause__, HTTPError):  # pystac wraps an HTTP error in a bare Exception
        return f"HTTP {exc.__cause__.code} {exc.__cause__.reason}"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ValueError):  # json.JSONDecodeError, UnicodeDecodeError
        return f"not JSON: {exc}"
    return None


_STAC_TIMES = ("datetime", "start_datetime", "end_datetime")


def _stac_item(doc: Any, label: str, href: str | None) -> tuple[Any, str]:
    """``doc`` read as a STAC Item (its own file or URL ``href``, if it has one), with ``label``; or,
    when it is not one, a :class:`SceneSource` whose problem names it (``label``) and what is wrong."""
    import pystac

    item_id = doc.get("id") if isinstance(doc, dict) else None
    name = f"STAC item {item_id!r}" if isinstance(item_id, str) else "a STAC item"
    props = doc.get("properties") if isinstance(doc, dict) else None
    for key in _STAC_TIMES:
        value = props.get(key) if isinstance(props, dict) else None
        if value is not None and (not isinstance(value, str) or parse_datetime(value) is None):
            problem = (
                f"{label}: {name} has {key} {value!r}, which is not a date and time; give it as "
                "ISO 8601 (2023-10-05T01:48:52Z)"
            )
            return SceneSource(label, from_stac=True, problem=problem), label
    try:
        return pystac.Item.from_dict(doc, href=href, preserve_dict=False), label
    except (pystac.STACError, KeyError, ValueError, TypeError, AttributeError) as exc:
        problem = f"{label}: {name} cannot be read ({type(exc).__name__}: {exc}); correct the item"
        return SceneSource(label, from_stac=True, problem=problem), label


def _catalog_items(catalog: Any) -> list[tuple[Any, str]]:
    """Every item of a STAC Catalog or Collection and of its children, depth first (as pystac's
    ``get_items(recursive=True)``), each with its own file or URL; an item or a child catalog that
    cannot be read is listed as a :class:`SceneSource` with its problem, and the rest are read on."""
    import pystac

    out: list[tuple[Any, str]] = []
    seen: set[str] = set()

    def unreadable(ref: str, what: str, exc: Exception) -> tuple[Any, str]:
        why = _read_failure(exc)
        if why is None:
            raise exc
        problem = f"{ref}: cannot read {what} ({why}); check the catalog's link to it"
        return SceneSource(ref, from_stac=True, problem=problem), ref

    def walk(cat: Any) -> None:
        for link in cat.get_links(pystac.RelType.ITEM):
            if link.is_resolved() and isinstance(link.target, pystac.Item):
                out.append((link.target, link.target.get_self_href() or link.target.id))
                continue
            ref = link.get_absolute_href() or link.href
            try:
                doc = _read_json(ref)
            except Exception as exc:
                out.append(unreadable(ref, "this STAC item", exc))
                continue
            out.append(_stac_item(doc, ref, ref))
        for link in cat.get_links(pystac.RelType.CHILD):
            ref = link.get_absolute_href() or link.href
            if ref in seen:
                continue
            seen.add(ref)
            try:
                child = link.target if link.is_resolved() else pystac.read_dict(_read_json(ref), href=ref)
            except Exception as exc:
                out.append(unreadable(ref, "this child catalog, so none of its items", exc))
                continue
            if isinstance(child, pystac.Catalog):
                walk(child)

    walk(catalog)
    return out


def _cloud_cover(value: Any) -> float | None:
    """A STAC item's ``eo:cloud_cover`` as a percentage, or None when it is missing or not one (a
    number from 0 to 100, by the EO extension)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if 0.0 <= value <= 100.0 else None


def _parse_stac_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _pick_asset(item: Any, base: str) -> str | None:
    """Absolute href of the item's image asset: a well-known key, else a key that names a kind of
    image (Planet's ``ortho_visual``, ``ortho_pansharpened``, ``ortho_analytic_4b``, in that order),
    else the first GeoTIFF; never a mask, thumbnail or overview (by its key, roles or file name: a
    Planet ``ortho_udm2`` listed first was counted as the scene).

    Relative hrefs resolve against the item's own location, else against ``base``
    (the ItemCollection's file or URL).
    """
    assets = {k: a for k, a in item.assets.items() if not _not_an_image(k, a)}
    chosen = next((assets[k] for k in _ASSET_KEYS if k in assets), None)
    if chosen is None:
        named = [(rank, k) for k in assets for rank, word in enumerate(_ASSET_WORDS) if word in k.lower()]
        chosen = assets[min(named)[1]] if named else None
    if chosen is None:
        chosen = next(
            (
                a
                for a in assets.values()
                if "tiff" in (a.media_type or "").lower() or a.href.lower().endswith(RASTER_SUFFIXES)
            ),
            None,
        )
    if chosen is None:
        return None
    href = chosen.get_absolute_href() or chosen.href
    if is_url(href) or os.path.isabs(href):
        return str(href)
    if is_url(base):
        from urllib.parse import urljoin

        return urljoin(base, href)
    return os.path.abspath(os.path.join(os.path.dirname(base), href))


def _not_an_image(key: str, asset: Any) -> bool:
    """Whether a STAC asset is something other than the image to count: a mask, a thumbnail, an
    overview or metadata, by its key, its roles or (a Planet usable-data mask) its file name."""
    lower = key.lower()
    if any(word in lower for word in _NOT_IMAGE_WORDS):
        return True
    if _NOT_IMAGE_ROLES & {str(r).lower() for r in (asset.roles or [])}:
        return True
    return is_mask(asset.href)


def probe_scene(scene: str) -> SceneInfo:
    """Read a scene's acquisition time and lon/lat footprint from its header (no pixels).

    Raises
    ------
    RailcountError
        The scene cannot be opened (see :func:`railcount.io.scenes.open_scene`)
        or has no georeferencing.
    """
    from railcount.errors import SceneReadError

    with open_scene(scene) as ds:
        # The reason `railcount count` gives, with its fix (a file with no geotransform would
        # otherwise be placed at the CRS's origin, and said to cover none of the stations).
        check_georeferenced(ds, scene)
        try:
            box = transform_bounds(ds.crs, WGS84, *ds.bounds, densify_pts=21)
        except RasterioError as exc:
            raise SceneReadError(f"{scene}: cannot place the scene on the globe ({exc})") from None
        grid = None if is_warped(ds) else TileGrid.of(ds)
        acquisition = acquisition_source(ds)
        return SceneInfo(
            acquisition.when, shapely.box(*box), provider_cloud_cover(ds), grid, acquisition.source
        )


def scene_key(scene: str, cache: KeyCache | None = None) -> str:
    """An identity for a scene's content: the SHA-256 of a local file, or the URL itself.

    Two copies of one file under different paths get the same key. Hashes
    of local files are remembered in ``cache`` by path, size and
    modification time, so a rerun does not read every file again.
    """
    if is_url(scene):
        return "url:" + scene
    path = os.path.abspath(scene)
    try:
        st = os.stat(path)
    except OSError:
        return "missing:" + path
    if cache is not None:
        known = cache.cached_key(path, st.st_size, st.st_mtime_ns)
        if known:
            return known
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return "unreadable:" + path
    key = "sha256:" + digest.hexdigest()
    if cache is not None:
        cache.remember_key(path, st.st_size, st.st_mtime_ns, key)
    return key


def tile_groups(
    scenes: Sequence[tuple[str, datetime | None, TileGrid | None]],
    folders: Sequence[str | None] | None = None,
) -> list[list[int]]:
    """Which scenes are tiles of one acquisition, to be read as one mosaic: lists of indices into
    ``scenes`` (path or URL, acquisition time, pixel grid), each in the order given; a scene on its
    own is a list of one. ``folders`` says, per scene, which may go together (a STAC collection's
    items: :attr:`SceneSource.group`); by default, and where it gives None, a file's folder or a
    URL's path up to its last ``/``.

    Providers deliver a large scene as several files (``..._R1C1.TIF``, ``..._R1C2.TIF``), and a
    station on a tile edge is half in each: counted file by file it would be two half-counts of one
    date. Files are tiles of one acquisition when they are in one folder (a URL's too), acquired at
    the same instant with a time of day (a date alone, or a date from the file name, could be two
    passes of one day), pieces of one product (:func:`~railcount.io.mosaic.grid_mismatch`), and
    joined edge to edge, directly or through other tiles, without covering the same ground (no
    more than :data:`MAX_TILE_OVERLAP` of the smaller) or naming two different dates.
    """
    from railcount.detect.sun import time_of_day_unknown

    buckets: dict[tuple[str, datetime], list[int]] = {}
    for i, (path, when, grid) in enumerate(scenes):
        if grid is None or when is None or time_of_day_unknown(when):
            continue
        folder = folders[i] if folders is not None else None
        if folder is None:
            folder = path.rsplit("/", 1)[0] if is_url(path) else os.path.dirname(os.path.abspath(path))
        buckets.setdefault((folder, when), []).append(i)
    parent = list(range(len(scenes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for members in buckets.values():
        for n, i in enumerate(members):
            gi = scenes[i][2]
            assert gi is not None
            for j in members[n + 1 :]:
                gj = scenes[j][2]
                assert gj is not None
                if _tiles_of_one(scenes[i][0], gi, scenes[j][0], gj):
                    parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(scenes)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values())


MAX_TILE_OVERLAP = 0.5
"""Tiles of one delivery meet edge to edge (or overlap a little); two files acquired at the same
instant that share more than this share of the smaller's area are two copies of a scene (a clip
beside the whole), or two scenes whose files were stamped with one time, not tiles."""


def _tiles_of_one(name_a: str, a: TileGrid, name_b: str, b: TileGrid) -> bool:
    """Whether two files (of one folder, acquired at one instant) are tiles of one delivery: pieces
    of one product that meet edge to edge (within half a pixel) without covering the same ground,
    and whose names do not give two different dates."""
    if grid_mismatch(b, a, name_a) is not None:
        return False
    day_a, day_b = date_from_name(name_a), date_from_name(name_b)
    if day_a is not None and day_b is not None and day_a != day_b:
        return False
    pad = 0.5 * abs(a.transform.a)
    ax0, ay0, ax1, ay1 = a.bounds
    bx0, by0, bx1, by1 = b.bounds
    if not (ax0 <= bx1 + pad and bx0 <= ax1 + pad and ay0 <= by1 + pad and by0 <= ay1 + pad):
        return False
    shared = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
    smaller = min((ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0))
    return shared <= MAX_TILE_OVERLAP * smaller
