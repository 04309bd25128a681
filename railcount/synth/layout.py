"""Scene geometry in metres: tracks, structures, vehicles and the sun.

Everything here is pure: no pixels, no files. A :class:`SiteLayout` is the
fixed geometry of one place (tracks, station polygon, roads, buildings,
overhead-line masts) in the site's UTM zone; :mod:`railcount.synth.placement`
fills it for one acquisition with railcars, locomotives and look-alike
vehicles (:class:`Vehicles`), and :mod:`railcount.synth.truth` turns them into
lon/lat ground truth.

Map coordinates are ``(x, y)`` = (easting, northing) in metres. Headings are
radians counter-clockwise from east. Vehicles are held as columns
(:class:`Vehicles`), one row per vehicle.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime, timedelta, timezone

import numpy as np
from rasterio.warp import transform as warp_transform
from shapely.geometry import Polygon

from railcount.errors import UsageError

RAILCAR_KINDS = ("boxcar", "hopper", "tank", "gondola", "flat")
"""Kinds of railcar the generator places."""

KIND_CLASS = {
    "boxcar": "covered",
    "hopper": "covered",
    "tank": "tank",
    "gondola": "open",
    "flat": "flat",
    "locomotive": "locomotive",
    "truck": "truck",
    "trailer": "trailer",
    "container": "container",
    "building": "building",
    "shed": "building",
    "platform": "platform",
    "canopy": "canopy",
    "house": "building",
    "auto": "auto",
    "hedge": "vegetation",
    "weeds": "vegetation",
    "tree": "vegetation",
}
"""Truth ``class`` of each vehicle or structure kind (railcars map to tank/covered/open/flat)."""

STRUCTURE_KINDS = ("building", "shed", "platform", "canopy", "house")
"""Area kinds written to the truth as non-railcar features (realism ``"v2"``)."""

CAR_MARGIN_M = 1.0
"""Car centroids are kept at least this far from the station boundary, so that
``inside_station`` does not depend on the frame (map, lon/lat, pixels) it is tested in."""


@dataclass(frozen=True)
class Track:
    """A track centreline as a polyline in map metres.

    Attributes
    ----------
    id : int
        Track number within the site (printed in the truth as ``track``).
    kind : str
        ``"yard"``, ``"main"``, ``"siding"``, ``"branch"`` or ``"ladder"`` (ladders,
        turnouts and crossovers carry no cars).
    points : tuple of (x, y)
        Vertices of the centreline, at least two.
    usable : (float, float)
        Arc-length range (m from the first vertex) where cars may stand.
    sleepers : str
        ``"concrete"`` or ``"timber"``.
    """

    id: int
    kind: str
    points: tuple[tuple[float, float], ...]
    usable: tuple[float, float]
    sleepers: str = "concrete"
    gauge_m: float = 1.435

    @property
    def _xy(self) -> np.ndarray:
        return np.asarray(self.points, dtype=float)

    @property
    def _cum(self) -> np.ndarray:
        seg = np.hypot(*np.diff(self._xy, axis=0).T)
        return np.concatenate([[0.0], np.cumsum(seg)])

    @property
    def length(self) -> float:
        """Centreline length in metres."""
        return float(self._cum[-1])

    def point_at(self, s: np.ndarray) -> np.ndarray:
        """Map points (n, 2) at arc lengths ``s`` (n,)."""
        xy, cum = self._xy, self._cum
        s = np.asarray(s, dtype=float)
        return np.stack([np.interp(s, cum, xy[:, 0]), np.interp(s, cum, xy[:, 1])], axis=-1)

    def heading_at(self, s: np.ndarray) -> np.ndarray:
        """Direction of travel (radians from east) at arc lengths ``s``."""
        xy, cum = self._xy, self._cum
        d = np.diff(xy, axis=0)
        ang = np.arctan2(d[:, 1], d[:, 0])
        idx = np.clip(np.searchsorted(cum, np.asarray(s, dtype=float), side="right") - 1, 0, len(ang) - 1)
        return ang[idx]


@dataclass(frozen=True)
class Area:
    """A ground feature: paved surface, building, container lot.

    ``height_m`` > 0 makes it cast a shadow (buildings).
    """

    # "road", "apron", "yard_bed", "lot", "grass", "building", "shed", "platform", "canopy",
    # "house" (pitched roof), "parking" (car park)
    kind: str
    polygon: Polygon
    height_m: float = 0.0


@dataclass(frozen=True)
class Overhead:
    """An overhead-line structure: a mast with a cantilever arm, or a portal over several tracks.

    Attributes
    ----------
    kind : str
        ``"mast"``: a pole at ``points[0]`` with an arm reaching to ``points[1]``
        (over the track) at 85 % of the height; ``"portal"``: two poles at
        ``points[0]`` and ``points[1]`` joined by a beam at ``height_m``.
    points : ((x, y), (x, y))
        Map metres.
    height_m : float
        Height of the poles.
    """

    kind: str
    points: tuple[tuple[float, float], tuple[float, float]]
    height_m: float


@dataclass(frozen=True)
class SiteLayout:
    """Fixed geometry of one site, independent of the acquisition.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"tumangang"``.
    station_name : str
        Display name written to the station GeoJSON, e.g. ``"Tumangang"``.
    epsg : int
        The site's UTM zone, in which the layout is built.
    lonlat : (float, float)
        Approximate centre of the yard.
    tracks : tuple of Track
    station : Polygon
        Station polygon in map metres.
    station_lonlat : Polygon
        The same polygon in lon/lat, vertices rounded to 1e-7 degrees; this is
        the polygon written to disk and used for ``inside_station``.
    extent : (xmin, ymin, xmax, ymax)
        Ground area of every scene of the site, in map metres.
    areas : tuple of Area
    roads : tuple of Track
        Lane centrelines where trucks may stand (``kind="road"``).
    lots : tuple of Polygon
        Rectangles where ground containers are stacked, long axis first edge.
    overhead : tuple of Overhead
        Overhead-line masts and portals (drawn with realism ``"v2"``).
    parking : tuple of Polygon
        Rectangles where semi-trailers park side by side, stalls along the
        first edge (realism ``"v2"``).
    car_parks : tuple of Polygon
        Rectangles where passenger cars park nose-in along both long edges
        (realism ``"v2"``; the ``"town"`` site).
    """

    name: str
    station_name: str
    epsg: int
    lonlat: tuple[float, float]
    tracks: tuple[Track, ...]
    station: Polygon
    station_lonlat: Polygon
    extent: tuple[float, float, float, float]
    areas: tuple[Area, ...] = ()
    roads: tuple[Track, ...] = ()
    lots: tuple[Polygon, ...] = ()
    overhead: tuple[Overhead, ...] = ()
    parking: tuple[Polygon, ...] = ()
    car_parks: tuple[Polygon, ...] = ()

    @property
    def crs(self) -> str:
        return f"EPSG:{self.epsg}"

    @property
    def structures(self) -> tuple[Area, ...]:
        """Buildings, sheds, platforms and canopies: the areas written to the truth."""
        return tuple(a for a in self.areas if a.kind in STRUCTURE_KINDS)


@dataclass(frozen=True)
class Sun:
    """Sun position: azimuth clockwise from north, elevation above the horizon (degrees)."""

    azimuth_deg: float
    elevation_deg: float

    def shadow_offset(self, height_m: np.ndarray | float) -> np.ndarray:
        """Map offset (..., 2) of the shadow of a point ``height_m`` above ground."""
        reach = np.asarray(height_m, dtype=float) / math.tan(math.radians(self.elevation_deg))
        az = math.radians(self.azimuth_deg)
        # shadows point away from the sun: (east, north) = -reach * (sin az, cos az)
        return np.stack([-reach * math.sin(az), -reach * math.cos(az)], axis=-1)


@dataclass(frozen=True, eq=False)
class Vehicles:
    """Placed vehicles as columns, one row each (railcars, locomotives, look-alikes).

    ``center`` is (n, 2) map metres, ``heading`` radians from east along the
    long axis; ``body_rgb`` and ``load_rgb`` are display reflectances (n, 3);
    ``load`` names what an open or flat car carries (``""`` for none);
    ``look_seed`` drives per-vehicle texture in the renderer; ``snow`` is the
    fraction of the roof under snow (0-1, realism ``"v2"`` only).
    """

    kind: np.ndarray
    center: np.ndarray
    heading: np.ndarray
    length: np.ndarray
    width: np.ndarray
    height: np.ndarray
    track: np.ndarray
    load: np.ndarray
    body_rgb: np.ndarray
    load_rgb: np.ndarray
    dirt: np.ndarray
    look_seed: np.ndarray
    snow: np.ndarray

    def __len__(self) -> int:
        return int(self.kind.shape[0])

    @property
    def is_railcar(self) -> np.ndarray:
        return np.isin(self.kind, RAILCAR_KINDS)

    @property
    def tarped(self) -> np.ndarray:
        return self.load == "tarp"

    def corners(self) -> np.ndarray:
        """Footprint corners (n, 4, 2) in map metres, counter-clockwise."""
        c, s = np.cos(self.heading), np.sin(self.heading)
        hl, hw = self.length / 2, self.width / 2
        du = np.stack([c, s], -1) * hl[:, None]
        dv = np.stack([-s, c], -1) * hw[:, None]
        ctr = self.center
        return np.stack([ctr - du - dv, ctr + du - dv, ctr + du + dv, ctr - du + dv], axis=1)

    def take(self, idx: np.ndarray) -> Vehicles:
        """Rows ``idx`` as a new :class:`Vehicles`."""
        return Vehicles(**{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})

    @classmethod
    def concat(cls, parts: list[dict[str, np.ndarray]]) -> Vehicles:
        """Join column dicts (as built by the planner) into one table."""
        names = list(cls.__dataclass_fields__)
        if not parts:
            empty = {k: np.zeros((0, 3) if k.endswith("rgb") else 0) for k in names}
            empty["center"] = np.zeros((0, 2))
            empty["kind"] = empty["load"] = np.zeros(0, dtype="<U10")
            empty["track"] = empty["look_seed"] = np.zeros(0, dtype=np.int64)
            return cls(**empty)
        return cls(**{k: np.concatenate([np.asarray(p[k]) for p in parts]) for k in names})


@dataclass(frozen=True)
class SceneLayout:
    """A site filled for one acquisition: vehicles, sun, and acquisition time (UTC)."""

    site: SiteLayout
    vehicles: Vehicles
    sun: Sun
    acquired: datetime


# ----------------------------------------------------------------------------- sun


def solar_position(when: datetime, lon: float, lat: float) -> Sun:
    """Sun azimuth/elevation at ``when`` (aware UTC) from the NOAA approximations.

    Accurate to a fraction of a degree, which is all a shadow needs.

    >>> from datetime import datetime, timezone
    >>> s = solar_position(datetime(2023, 6, 21, 3, 0, tzinfo=timezone.utc), 130.6, 42.4)
    >>> 60 < s.elevation_deg < 75 and 120 < s.azimuth_deg < 200
    True
    """
    doy = when.timetuple().tm_yday
    hour = when.hour + when.minute / 60 + when.second / 3600
    g = 2 * math.pi / 365 * (doy - 1 + (hour - 12) / 24)
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * math.cos(g)
        - 0.032077 * math.sin(g)
        - 0.014615 * math.cos(2 * g)
        - 0.040849 * math.sin(2 * g)
    )
    decl = (
        0.006918
        - 0.399912 * math.cos(g)
        + 0.070257 * math.sin(g)
        - 0.006758 * math.cos(2 * g)
        + 0.000907 * math.sin(2 * g)
        - 0.002697 * math.cos(3 * g)
        + 0.00148 * math.sin(3 * g)
    )
    tst = hour * 60 + eqtime + 4 * lon  # true solar time, minutes
    ha = math.radians(tst / 4 - 180)
    phi = math.radians(lat)
    cos_zen = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(ha)
    zen = math.acos(max(-1.0, min(1.0, cos_zen)))
    az = math.degrees(math.atan2(math.sin(ha), math.cos(ha) * math.sin(phi) - math.tan(decl) * math.cos(phi)))
    return Sun(azimuth_deg=(az + 180) % 360, elevation_deg=90 - math.degrees(zen))


def parse_date(text: str) -> Date:
    """Parse ``YYYY-MM-DD`` or raise :class:`UsageError`."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text or ""):
        raise UsageError(f"date must be YYYY-MM-DD; got {text!r}")
    try:
        return Date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"date {text!r} is not a calendar date: {exc}") from None


def acquisition_time(day: Date, lon: float, rng: np.random.Generator) -> datetime:
    """A plausible sun-synchronous overpass: 10:15-11:15 local solar time, in UTC."""
    solar_minutes = 615 + int(rng.integers(0, 61))
    utc_minutes = solar_minutes - lon * 4
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    return start + timedelta(minutes=round(utc_minutes), seconds=int(rng.integers(0, 60)))


def to_lonlat(xy: np.ndarray, epsg: int) -> np.ndarray:
    """Map points (..., 2) in EPSG:``epsg`` to lon/lat (..., 2)."""
    flat = np.asarray(xy, dtype=float).reshape(-1, 2)
    lon, lat = warp_transform(f"EPSG:{epsg}", "EPSG:4326", flat[:, 0], flat[:, 1])
    return np.stack([lon, lat], -1).reshape(np.shape(xy))
