"""Scene geometry in metres: tracks, vehicles, sun and ground truth.

Everything here is pure: no pixels, no files. A :class:`SiteLayout` is the
fixed geometry of one place (tracks, station polygon, roads, buildings) in the
site's UTM zone; :func:`plan_scene` fills it for one acquisition with railcars,
locomotives and look-alike vehicles (trucks, ground containers) and a sun; and
:func:`build_truth` turns the placed vehicles into lon/lat ground truth.

Map coordinates are ``(x, y)`` = (easting, northing) in metres. Headings are
radians counter-clockwise from east. Vehicles are held as columns
(:class:`Vehicles`), one row per vehicle.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, timedelta, timezone

import numpy as np
import shapely
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
    "container": "container",
}
"""Truth ``class`` of each vehicle kind (railcars map to tank/covered/open/flat)."""

# kind -> ((length range), (width range), (height range)) in metres
_DIMENSIONS = {
    "boxcar": ((15.0, 17.0), (3.0, 3.2), (4.2, 4.6)),
    "hopper": ((14.0, 18.0), (3.0, 3.2), (4.0, 4.5)),
    "tank": ((12.0, 18.0), (2.9, 3.1), (4.0, 4.5)),
    "gondola": ((13.0, 16.0), (3.0, 3.3), (2.6, 3.4)),
    "flat": ((14.0, 20.0), (2.8, 3.1), (1.3, 1.5)),
    "locomotive": ((19.0, 22.0), (3.1, 3.2), (4.4, 4.7)),
    "truck": ((12.0, 17.0), (2.5, 2.55), (3.6, 4.1)),
}

# Paint (display reflectance, 0-1) per livery name; kinds pick from their own lists.
LIVERIES = {
    "dark_grey": (0.27, 0.27, 0.28),
    "black": (0.11, 0.11, 0.12),
    "rust_brown": (0.43, 0.25, 0.17),
    "blue": (0.19, 0.29, 0.47),
    "green": (0.21, 0.32, 0.23),
    "beige": (0.69, 0.61, 0.48),
    "white": (0.84, 0.84, 0.82),
    "light_grey": (0.60, 0.60, 0.59),
    "red": (0.55, 0.16, 0.12),
    "orange": (0.78, 0.42, 0.14),
}
_KIND_LIVERIES = {
    "boxcar": ("rust_brown", "blue", "green", "dark_grey", "light_grey", "red"),
    "hopper": ("light_grey", "beige", "white", "dark_grey", "rust_brown"),
    "tank": ("black", "black", "dark_grey", "white", "light_grey", "beige"),
    "gondola": ("rust_brown", "black", "dark_grey", "green", "blue"),
    "flat": ("dark_grey", "rust_brown", "black"),
    "locomotive": ("green", "blue", "red", "orange", "dark_grey"),
    "truck": ("white", "light_grey", "blue", "red", "green"),
    "container": ("red", "blue", "green", "light_grey", "white", "orange", "rust_brown"),
}
_LOADS = {  # kind -> (load names, probabilities)
    "gondola": (("empty", "coal", "ore", "scrap"), (0.35, 0.3, 0.15, 0.2)),
    "flat": (("empty", "container", "tarp", "timber"), (0.28, 0.34, 0.28, 0.10)),
}
_LOAD_COLOURS = {
    "coal": ((0.09, 0.09, 0.10), 0.02),
    "ore": ((0.40, 0.24, 0.17), 0.05),
    "scrap": ((0.38, 0.33, 0.28), 0.06),
    "timber": ((0.52, 0.40, 0.27), 0.05),
    "tarp": ((0.25, 0.38, 0.27), 0.0),  # replaced by a tarp colour below
    "container": ((0.5, 0.5, 0.5), 0.0),  # replaced by a container livery below
    "empty": ((0.30, 0.22, 0.17), 0.04),
}
_TARP_COLOURS = (
    (0.24, 0.37, 0.26),
    (0.20, 0.30, 0.50),
    (0.45, 0.46, 0.45),
    (0.30, 0.33, 0.22),
    (0.62, 0.62, 0.58),
)

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
        ``"yard"``, ``"main"``, ``"siding"`` or ``"ladder"`` (ladders carry no cars).
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

    kind: str  # "road", "apron", "yard_bed", "lot", "building", "grass"
    polygon: Polygon
    height_m: float = 0.0


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

    @property
    def crs(self) -> str:
        return f"EPSG:{self.epsg}"


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
    ``look_seed`` drives per-vehicle texture in the renderer.
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


@dataclass(frozen=True)
class SceneSpec:
    """Everything that determines one synthetic scene; equal specs give equal scenes.

    Parameters
    ----------
    site : str
        Key in :data:`railcount.synth.SITES`. Default ``"tumangang"``.
    date : str
        Acquisition date ``YYYY-MM-DD``; sets the season and, with ``seed``,
        the sun and the time of day. Default ``"2023-10-05"``.
    cars : int
        Railcars (locomotives excluded) whose centroid lies inside the
        station polygon; met exactly. Default 40.
    gsd_m : float
        Ground sample distance in metres, 0.3-1.0. Default 0.5.
    crs : str or None
        Output CRS (any EPSG string). ``None`` (default) is the site's UTM
        zone; another CRS gets the rendered raster reprojected.
    seed : int
        Seed of every random choice (cars, textures, noise). Default 0.
    locomotives : int or None
        Locomotives inside the station; ``None`` (default) draws 0-2 from the seed.
    outside_cars : bool
        Park some consists on track ends and sidings outside the station. Default True.
    distractors : bool
        Trucks on the road and containers in the lot. Default True.
    sun_azimuth_deg, sun_elevation_deg : float or None
        Override the sun computed from date and time. Default None.
    time_utc : str or None
        ``HH:MM:SS`` acquisition time in UTC; ``None`` (default) draws a
        late-morning local solar time from the seed.
    supersample : int or None
        Render at ``gsd_m / supersample`` before area-downsampling; ``None``
        (default) picks 2-4 from the GSD, bounded by memory.
    """

    site: str = "tumangang"
    date: str = "2023-10-05"
    cars: int = 40
    gsd_m: float = 0.5
    crs: str | None = None
    seed: int = 0
    locomotives: int | None = None
    outside_cars: bool = True
    distractors: bool = True
    sun_azimuth_deg: float | None = None
    sun_elevation_deg: float | None = None
    time_utc: str | None = None
    supersample: int | None = None

    def __post_init__(self) -> None:
        from railcount.synth.sites import SITES  # sites builds on this module

        if self.site not in SITES:
            raise UsageError(f"unknown site {self.site!r}; known sites: {', '.join(sorted(SITES))}")
        parse_date(self.date)
        if isinstance(self.cars, bool) or not isinstance(self.cars, (int, np.integer)) or self.cars < 0:
            raise UsageError(f"cars must be an integer >= 0; got {self.cars!r}")
        if not 0.3 <= float(self.gsd_m) <= 1.0:
            raise UsageError(f"gsd_m must be between 0.3 and 1.0 m; got {self.gsd_m!r}")
        if self.locomotives is not None and self.locomotives < 0:
            raise UsageError(f"locomotives must be >= 0; got {self.locomotives!r}")
        if self.sun_elevation_deg is not None and not 5 <= self.sun_elevation_deg <= 90:
            raise UsageError(f"sun_elevation_deg must be 5-90; got {self.sun_elevation_deg!r}")
        if self.time_utc is not None and not re.fullmatch(r"\d{2}:\d{2}:\d{2}", self.time_utc):
            raise UsageError(f"time_utc must be HH:MM:SS; got {self.time_utc!r}")
        if self.supersample is not None and not 1 <= self.supersample <= 8:
            raise UsageError(f"supersample must be 1-8; got {self.supersample!r}")
        if self.crs is not None:
            from rasterio.crs import CRS
            from rasterio.errors import CRSError

            try:
                CRS.from_user_input(self.crs)
            except CRSError as exc:
                raise UsageError(
                    f"crs {self.crs!r} is not a CRS rasterio knows ({exc}); "
                    "give an EPSG code such as EPSG:32652"
                ) from None

    def streams(self) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
        """Independent generators for (layout, textures, sensor noise).

        Seeded from ``seed`` and ``date`` only, so changing the GSD or the CRS
        changes neither the cars nor their truth.
        """
        day = int(self.date.replace("-", ""))
        seqs = np.random.SeedSequence([int(self.seed), day]).spawn(3)
        return tuple(np.random.Generator(np.random.PCG64(s)) for s in seqs)  # type: ignore[return-value]


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


# ------------------------------------------------------------------------ placing


@dataclass
class _Occupancy:
    """Free arc-length intervals of one track (mutable, used only while planning)."""

    track: Track
    inside: np.ndarray  # bool per 0.5 m step: centreline inside the station polygon
    busy: list[tuple[float, float]] = field(default_factory=list)

    def free(self, lo: float, hi: float) -> list[tuple[float, float]]:
        out, cur = [], lo
        for a, b in sorted(self.busy):
            if b <= cur:
                continue
            if a > cur:
                out.append((cur, min(a, hi)))
            cur = max(cur, b)
            if cur >= hi:
                break
        if cur < hi:
            out.append((cur, hi))
        return [(a, b) for a, b in out if b > a]


def _segments(mask: np.ndarray, step: float, value: bool) -> list[tuple[float, float]]:
    """Arc-length runs where ``mask == value`` (sampled every ``step`` m)."""
    m = np.concatenate([[False], mask == value, [False]]).astype(np.int8)
    d = np.diff(m)
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return [(a * step, (b - 1) * step) for a, b in zip(starts, ends, strict=False) if b - 1 > a]


class _Planner:
    """Places consists on tracks; keeps the bookkeeping out of the public function."""

    STEP = 0.5

    def __init__(self, site: SiteLayout, rng: np.random.Generator) -> None:
        self.site, self.rng = site, rng
        self.parts: list[dict[str, np.ndarray]] = []
        self.boundary = site.station.exterior
        self.occ: dict[int, _Occupancy] = {}
        for t in site.tracks:
            if t.kind == "ladder":
                continue
            s = np.arange(0, t.length + 1e-9, self.STEP)
            xy = t.point_at(s)
            inside = shapely.contains_xy(site.station, xy[:, 0], xy[:, 1])
            self.occ[t.id] = _Occupancy(t, inside)
        for r in site.roads:
            s = np.arange(0, r.length + 1e-9, self.STEP)
            xy = r.point_at(s)
            self.occ[r.id] = _Occupancy(r, shapely.contains_xy(site.station, xy[:, 0], xy[:, 1]))
        self.consists: list[tuple[int, float, float]] = []  # (track, s0, s1) of inside consists

    # -- appearance -------------------------------------------------------------
    def _columns(
        self, kinds: list[str], centers: np.ndarray, headings: np.ndarray, lengths: np.ndarray, track: int
    ) -> dict[str, np.ndarray]:
        rng, n = self.rng, len(kinds)
        width, height = np.empty(n), np.empty(n)
        body, load_rgb = np.empty((n, 3)), np.empty((n, 3))
        loads = np.empty(n, dtype="<U10")
        # consists tend to share one livery per kind (a block train), with a few odd cars
        shared = {k: rng.choice(_KIND_LIVERIES[k]) for k in sorted(set(kinds))}  # hash-order free
        for i, k in enumerate(kinds):
            dims = _DIMENSIONS.get(k, ((12.19, 12.19), (2.44, 2.44), (2.6, 2.6)))
            width[i] = rng.uniform(*dims[1])
            height[i] = rng.uniform(*dims[2])
            name = shared[k] if rng.random() < 0.75 else rng.choice(_KIND_LIVERIES[k])
            body[i] = np.clip(
                np.array(LIVERIES[name]) * rng.uniform(0.85, 1.15) + rng.normal(0, 0.02, 3), 0.03, 0.95
            )
            loads[i] = ""
            load_rgb[i] = body[i]
            if k in _LOADS:
                names, p = _LOADS[k]
                ld = str(rng.choice(names, p=p))
                loads[i] = ld
                base, jit = _LOAD_COLOURS[ld]
                if ld == "tarp":
                    base = _TARP_COLOURS[rng.integers(len(_TARP_COLOURS))]
                    height[i] = rng.uniform(2.4, 3.6)
                elif ld == "container":
                    base = LIVERIES[rng.choice(_KIND_LIVERIES["container"])]
                    height[i] = rng.uniform(3.8, 4.1)
                elif ld == "timber":
                    height[i] = rng.uniform(2.5, 3.3)
                load_rgb[i] = np.clip(np.array(base) + rng.normal(0, jit + 0.01, 3), 0.02, 0.95)
        return {
            "kind": np.array(kinds, dtype="<U10"),
            "center": centers,
            "heading": headings,
            "length": lengths,
            "width": width,
            "height": height,
            "track": np.full(n, track, dtype=np.int64),
            "load": loads,
            "body_rgb": body,
            "load_rgb": load_rgb,
            "dirt": rng.uniform(0.0, 1.0, n),
            "look_seed": rng.integers(0, 2**31, n, dtype=np.int64),
        }

    def _consist_kinds(self, n: int) -> list[str]:
        rng = self.rng
        if rng.random() < 0.7:  # block train: mostly one kind
            main = str(rng.choice(RAILCAR_KINDS, p=[0.12, 0.2, 0.3, 0.22, 0.16]))
            return [main if rng.random() < 0.9 else str(rng.choice(RAILCAR_KINDS)) for _ in range(n)]
        return [str(rng.choice(RAILCAR_KINDS)) for _ in range(n)]

    # -- geometry ---------------------------------------------------------------
    def _layout_run(self, kinds: list[str], s0: float) -> tuple[np.ndarray, np.ndarray, float]:
        """Centres (arc length) and lengths of a run of coupled vehicles starting at s0."""
        rng = self.rng
        lengths = np.array([rng.uniform(*_DIMENSIONS[k][0]) for k in kinds])
        gaps = rng.uniform(0.6, 1.5, len(kinds))
        gaps[0] = 0.0
        starts = s0 + np.cumsum(gaps) + np.concatenate([[0.0], np.cumsum(lengths[:-1])])
        return starts + lengths / 2, lengths, float(starts[-1] + lengths[-1])

    def _inside(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(inside, ambiguous) per point: ambiguous = within CAR_MARGIN_M of the boundary."""
        inside = shapely.contains_xy(self.site.station, xy[:, 0], xy[:, 1])
        dist = shapely.distance(self.boundary, shapely.points(xy))
        return inside, dist < CAR_MARGIN_M

    def _try_place(
        self, track: Track, kinds: list[str], lo: float, hi: float, want_inside: bool | None
    ) -> dict[str, np.ndarray] | None:
        """Place ``kinds`` coupled on ``track`` inside the free range [lo, hi]."""
        occ = self.occ[track.id]
        total = sum(_DIMENSIONS[k][0][1] for k in kinds) + 1.5 * len(kinds)
        cands = [(a, b) for a, b in occ.free(lo, hi) if b - a >= min(total, 25.0)]
        for _ in range(8):
            if not cands:
                return None
            a, b = cands[self.rng.integers(len(cands))]
            s0 = self.rng.uniform(a + 0.8, max(a + 0.8, b - total))
            centres, lengths, _s1 = self._layout_run(kinds, s0)
            keep = centres + lengths / 2 <= b - 0.8
            if not keep.any():
                continue
            centres, lengths = centres[keep], lengths[keep]
            xy = track.point_at(centres)
            inside, ambiguous = self._inside(xy)
            if ambiguous.any():
                continue
            if want_inside is not None and not (inside == want_inside).all():
                continue
            kinds_kept = [k for k, m in zip(kinds, keep, strict=False) if m]
            cols = self._columns(kinds_kept, xy, track.heading_at(centres), lengths, track.id)
            cols["_inside"] = inside
            cols["_s"] = centres
            return cols
        return None

    def _commit(self, track: Track, cols: dict[str, np.ndarray], record: bool) -> None:
        s_c, half = cols.pop("_s"), cols["length"] / 2
        cols.pop("_inside")
        a, b = float((s_c - half).min()), float((s_c + half).max())
        self.occ[track.id].busy.append((a - 0.5, b + 0.5))
        if record:
            self.consists.append((track.id, a, b))
        self.parts.append(cols)

    def capacity(self) -> int:
        """Rough number of railcars that fit inside the station."""
        inside_m = sum(
            o.inside.sum() * self.STEP for o in self.occ.values() if o.track.kind not in ("main", "road")
        )
        return int(inside_m / 17.5 * 0.8)

    # -- phases -----------------------------------------------------------------
    def outside_cars(self) -> None:
        for _ in range(int(self.rng.integers(2, 5))):
            opts = []
            for o in self.occ.values():
                if o.track.kind in ("main", "road"):
                    continue
                u0, u1 = o.track.usable
                for a, b in _segments(o.inside, self.STEP, False):
                    a, b = max(a, u0), min(b, u1)
                    if b - a > 25:
                        opts.append((o.track, a, b))
            if not opts:
                return
            track, a, b = opts[self.rng.integers(len(opts))]
            n = min(int(self.rng.integers(1, 7)), int((b - a) // 17))
            cols = self._try_place(track, self._consist_kinds(max(n, 1)), a, b, want_inside=False)
            if cols is not None:
                self._commit(track, cols, record=False)

    def inside_cars(self, target: int) -> None:
        placed, cap = 0, max(self.capacity(), 1)
        kmax = int(np.clip(target / 3, 3, 30))
        yard = [o for o in self.occ.values() if o.inside.any() and o.track.kind != "road"]
        for _attempt in range(4000):
            if placed == target:
                return
            weights = np.array(
                [
                    (0.15 if o.track.kind == "main" else 1.0) * sum(b - a for a, b in o.free(*o.track.usable))
                    + 1e-6
                    for o in yard
                ]
            )
            o = yard[self.rng.choice(len(yard), p=weights / weights.sum())]
            fill = target / cap
            k = int(self.rng.integers(1, kmax + 1))
            if fill > 0.5 and self.rng.random() < 0.7:
                k = int(self.rng.integers(kmax // 2 + 1, kmax + 1))
            cols = self._try_place(o.track, self._consist_kinds(k), *o.track.usable, want_inside=None)
            if cols is None or not cols["_inside"].any():
                continue
            # trim from the far end until the inside count does not overshoot
            inside = cols["_inside"]
            n_keep = len(inside)
            while placed + int(inside[:n_keep].sum()) > target:
                n_keep -= 1
            if not inside[:n_keep].any():
                continue
            trimmed = {k: v[:n_keep] for k, v in cols.items()}
            placed += int(trimmed["_inside"].sum())
            self._commit(o.track, trimmed, record=True)
        raise UsageError(
            f"could only place {placed} of {target} railcars inside station "
            f"{self.site.station_name!r} (capacity about {self.capacity()}); ask for fewer cars"
        )

    def locomotives(self, count: int) -> None:
        placed = 0
        for _ in range(200):
            if placed == count:
                return
            if self.consists and self.rng.random() < 0.85:
                tid, a, b = self.consists[self.rng.integers(len(self.consists))]
                track = self.occ[tid].track
                lo, hi = (a - 23.5, a - 0.6) if self.rng.random() < 0.5 else (b + 0.6, b + 23.5)
            else:
                rails = [o for o in self.occ.values() if o.track.kind != "road"]
                track = rails[self.rng.integers(len(rails))].track
                lo, hi = track.usable
            lo, hi = max(lo, track.usable[0]), min(hi, track.usable[1])
            if hi - lo < 22.5:
                continue
            cols = self._try_place(track, ["locomotive"], lo, hi, want_inside=True)
            if cols is not None:
                self._commit(track, cols, record=False)
                placed += 1
        raise UsageError(f"could not place {count} locomotives in {self.site.station_name!r}; ask for fewer")

    def trucks(self) -> None:
        for road in self.site.roads:
            n = int(self.rng.integers(3, 8) if road.length > 300 else self.rng.integers(1, 4))
            for _ in range(n):
                cols = self._try_place(road, ["truck"], *road.usable, want_inside=None)
                if cols is not None:
                    if self.rng.random() < 0.5:  # either driving direction
                        cols["heading"] = cols["heading"] + math.pi
                    self._commit(road, cols, record=False)
                    self.parts[-1]["track"][:] = -1

    def ground_containers(self) -> None:
        rng = self.rng
        for lot in self.site.lots:
            xy = np.asarray(lot.exterior.coords)[:4]
            ux, vx = xy[1] - xy[0], xy[3] - xy[0]
            lu, lv = np.hypot(*ux), np.hypot(*vx)
            heading = math.atan2(ux[1], ux[0])
            centres = []
            for row in range(int(lv // 3.2)):
                for col in range(int(lu // 12.8)):
                    if rng.random() < 0.4:
                        f = ((col + 0.5) * 12.8 / lu, (row + 0.5) * 3.2 / lv)
                        centres.append(xy[0] + f[0] * ux + f[1] * vx)
            if not centres:
                continue
            n = len(centres)
            cols = self._columns(
                ["container"] * n, np.array(centres), np.full(n, heading), np.full(n, 12.19), -1
            )
            cols["height"] = 2.6 * rng.integers(1, 3, n)  # stacked one or two high
            for i in range(n):
                cols["body_rgb"][i] = np.clip(
                    np.array(LIVERIES[rng.choice(_KIND_LIVERIES["container"])]) * rng.uniform(0.85, 1.1),
                    0.03,
                    0.95,
                )
            self.parts.append(cols)


def plan_scene(
    site: SiteLayout,
    *,
    cars: int,
    locomotives: int,
    outside_cars: bool,
    distractors: bool,
    rng: np.random.Generator,
) -> Vehicles:
    """Place vehicles on a site so that exactly ``cars`` railcars (and ``locomotives``
    locomotives) have their centroid inside the station polygon.

    Parameters
    ----------
    site : SiteLayout
    cars : int
        Railcars (not locomotives) whose centroid lies inside the station.
    locomotives : int
        Locomotives inside the station.
    outside_cars : bool
        Also park a few consists on track ends and sidings outside the station.
    distractors : bool
        Add trucks on the roads and containers on the ground.
    rng : numpy.random.Generator

    Returns
    -------
    Vehicles

    Raises
    ------
    UsageError
        If the site cannot hold that many cars.
    """
    if cars < 0 or locomotives < 0:
        raise UsageError(f"cars and locomotives must be >= 0; got {cars} and {locomotives}")
    p = _Planner(site, rng)
    if cars > p.capacity():
        raise UsageError(
            f"cars={cars} exceeds what station {site.station_name!r} holds "
            f"(about {p.capacity()}); ask for fewer cars"
        )
    if outside_cars:
        p.outside_cars()
    p.inside_cars(cars)
    p.locomotives(locomotives)
    if distractors:
        p.trucks()
        p.ground_containers()
    return Vehicles.concat(p.parts)


# -------------------------------------------------------------------------- truth


@dataclass(frozen=True, eq=False)
class Truth:
    """Ground truth of every vehicle in a raster, as columns in lon/lat.

    ``footprint`` is (n, 4, 2) lon/lat corners; ``center`` (n, 2) lon/lat.
    ``track`` is -1 for vehicles not on a track (written as ``null``).
    """

    id: np.ndarray
    kind: np.ndarray
    cls: np.ndarray
    is_railcar: np.ndarray
    inside_station: np.ndarray
    track: np.ndarray
    tarped: np.ndarray
    length_m: np.ndarray
    width_m: np.ndarray
    height_m: np.ndarray
    center: np.ndarray
    footprint: np.ndarray

    def __len__(self) -> int:
        return int(self.id.shape[0])

    def polygons(self) -> list[Polygon]:
        """Footprints as shapely polygons in lon/lat."""
        return [Polygon(c) for c in self.footprint]

    def records(self) -> list[dict[str, object]]:
        """One plain dict per vehicle (the GeoJSON properties)."""
        return [
            {
                "id": int(self.id[i]),
                "kind": str(self.kind[i]),
                "class": str(self.cls[i]),
                "is_railcar": bool(self.is_railcar[i]),
                "inside_station": bool(self.inside_station[i]),
                "track": int(self.track[i]) if self.track[i] >= 0 else None,
                "tarped": bool(self.tarped[i]),
                "length_m": round(float(self.length_m[i]), 2),
                "width_m": round(float(self.width_m[i]), 2),
            }
            for i in range(len(self))
        ]

    def to_geojson(self) -> dict[str, object]:
        """RFC 7946 FeatureCollection, one Polygon per vehicle."""
        feats = []
        for rec, fp in zip(self.records(), self.footprint, strict=False):
            ring = [[round(float(x), 8), round(float(y), 8)] for x, y in fp]
            feats.append(
                {
                    "type": "Feature",
                    "properties": rec,
                    "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
                }
            )
        return {"type": "FeatureCollection", "features": feats}

    def counts(self) -> dict[str, object]:
        """Inside-station counts: railcars, locomotives, by_class, tarped, railcars_in_scene."""
        inside_cars = self.inside_station & self.is_railcar
        return {
            "railcars": int(inside_cars.sum()),
            "locomotives": int((self.inside_station & (self.kind == "locomotive")).sum()),
            "by_class": {
                c: int((inside_cars & (self.cls == c)).sum()) for c in ("tank", "covered", "open", "flat")
            },
            "tarped": int((inside_cars & self.tarped).sum()),
            "railcars_in_scene": int(self.is_railcar.sum()),
        }


def to_lonlat(xy: np.ndarray, epsg: int) -> np.ndarray:
    """Map points (..., 2) in EPSG:``epsg`` to lon/lat (..., 2)."""
    flat = np.asarray(xy, dtype=float).reshape(-1, 2)
    lon, lat = warp_transform(f"EPSG:{epsg}", "EPSG:4326", flat[:, 0], flat[:, 1])
    return np.stack([lon, lat], -1).reshape(np.shape(xy))


def build_truth(vehicles: Vehicles, site: SiteLayout, keep: np.ndarray | None = None) -> Truth:
    """Ground truth in lon/lat for ``vehicles`` (rows where ``keep`` is True).

    ``inside_station`` tests each vehicle's centre against the lon/lat station
    polygon that is written to disk, so readers of the files agree with it.
    """
    v = vehicles if keep is None else vehicles.take(np.flatnonzero(keep))
    center = to_lonlat(v.center, site.epsg)
    fp = to_lonlat(v.corners(), site.epsg)
    inside = shapely.contains_xy(site.station_lonlat, center[:, 0], center[:, 1])
    return Truth(
        id=np.arange(1, len(v) + 1),
        kind=v.kind,
        cls=np.array([KIND_CLASS[k] for k in v.kind], dtype="<U10"),
        is_railcar=v.is_railcar,
        inside_station=inside,
        track=v.track,
        tarped=v.tarped,
        length_m=v.length,
        width_m=v.width,
        height_m=v.height,
        center=center,
        footprint=fp,
    )
