"""Placing vehicles on a site: consists on tracks, trucks, trailers and containers.

:func:`plan_scene` fills a :class:`~railcount.synth.layout.SiteLayout` for one
acquisition so that exactly the requested number of railcars has its centroid
inside the station polygon, and :func:`roof_snow` decides which roofs carry
snow. Pure geometry in map metres; appearance is drawn here too (liveries,
loads) so that the painters need no random choices of their own beyond
per-vehicle texture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely

from railcount.errors import UsageError
from railcount.synth.layout import CAR_MARGIN_M, RAILCAR_KINDS, SiteLayout, Track, Vehicles
from railcount.synth.raster import rect_frame

# kind -> ((length range), (width range), (height range)) in metres
_DIMENSIONS = {
    "boxcar": ((15.0, 17.0), (3.0, 3.2), (4.2, 4.6)),
    "hopper": ((14.0, 18.0), (3.0, 3.2), (4.0, 4.5)),
    "tank": ((12.0, 18.0), (2.9, 3.1), (4.0, 4.5)),
    "gondola": ((13.0, 16.0), (3.0, 3.3), (2.6, 3.4)),
    "flat": ((14.0, 20.0), (2.8, 3.1), (1.3, 1.5)),
    "locomotive": ((19.0, 22.0), (3.1, 3.2), (4.4, 4.7)),
    "truck": ((12.0, 17.0), (2.5, 2.55), (3.6, 4.1)),
    "trailer": ((13.4, 13.7), (2.5, 2.55), (3.8, 4.0)),
    "auto": ((4.2, 5.0), (1.75, 1.9), (1.4, 1.6)),
}

SHORT_CUT_SHARE = 0.3
"""Realism v2: the share of coupled runs whose railcars are short wagons (:data:`SHORT_WAGON_M`)."""
SHORT_WAGON_M = (10.5, 13.5)
"""Realism v2: the body length range (metres) of short wagons. Two-axle European wagons and much
of the 1520 mm stock (tank cars about 12 m, gondolas about 13.9 m over couplers) are shorter than
:data:`_DIMENSIONS` allows; Muttenz west's 45 wagons have a median of 14.5 m and a quarter are
under 11.5 m (docs/detector.md, *Session 32*)."""

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
    "trailer": ("white", "white", "light_grey", "blue", "red", "dark_grey", "green"),
    "container": ("red", "blue", "green", "light_grey", "white", "orange", "rust_brown"),
    "auto": ("white", "black", "light_grey", "dark_grey", "red", "blue", "white", "light_grey", "beige"),
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


def capacity(site: SiteLayout) -> int:
    """Rough number of railcars that fit inside the station of ``site`` (more are refused)."""
    return _Planner(site, np.random.default_rng(0)).capacity()


class _Planner:
    """Places consists on tracks; keeps the bookkeeping out of the public function."""

    STEP = 0.5

    def __init__(
        self, site: SiteLayout, rng: np.random.Generator, lengths_rng: np.random.Generator | None = None
    ) -> None:
        self.site, self.rng = site, rng
        self.lengths_rng = lengths_rng  # realism v2: short wagons (None: as v1)
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
            "snow": np.zeros(n),
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
        if self.lengths_rng is not None and self.lengths_rng.random() < SHORT_CUT_SHARE:
            # A cut of short wagons (drawn from its own stream: v1's draws are untouched).
            short = np.isin(kinds, RAILCAR_KINDS)
            lengths[short] = self.lengths_rng.uniform(*SHORT_WAGON_M, int(short.sum()))
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

    def trailers(self) -> None:
        """Semi-trailers parked side by side in the site's parking rectangles (realism v2)."""
        rng = self.rng
        for lot in self.site.parking:
            corner, along, across, lu, lv = rect_frame(np.asarray(lot.exterior.coords))
            rows = 2 if lv >= 2 * 14.5 + 7.0 else 1
            pitch = rng.uniform(3.5, 4.2)
            centres, headings = [], []
            for row in range(rows):
                v = 7.5 if row == 0 else lv - 7.5
                for k in range(int(lu // pitch)):
                    if rng.random() < 0.62:
                        centres.append(corner + along * (k + 0.5) * pitch + across * v)
                        flip = math.pi if (row == 1) != (rng.random() < 0.1) else 0.0
                        headings.append(math.atan2(across[1], across[0]) + flip)
            if not centres:
                continue
            n = len(centres)
            lengths = np.array([rng.uniform(*_DIMENSIONS["trailer"][0]) for _ in range(n)])
            cols = self._columns(["trailer"] * n, np.array(centres), np.array(headings), lengths, -1)
            self.parts.append(cols)

    def autos(self) -> None:
        """Passenger cars nose-in in the stalls of the site's car parks (2.7 m apart, both long sides)."""
        rng = self.rng
        for park in self.site.car_parks:
            corner, along, across, lu, lv = rect_frame(np.asarray(park.exterior.coords))
            centres, headings = [], []
            for v in (2.8, lv - 2.8):
                for k in range(int((lu - 2.0) // 2.7)):
                    if rng.random() < 0.55:
                        jitter = rng.normal(0, 0.12, 2)
                        centres.append(
                            corner + along * (2.35 + k * 2.7 + jitter[0]) + across * (v + jitter[1])
                        )
                        headings.append(math.atan2(across[1], across[0]) + rng.normal(0, 0.04))
            if not centres:
                continue
            n = len(centres)
            lengths = np.array([rng.uniform(*_DIMENSIONS["auto"][0]) for _ in range(n)])
            cols = self._columns(["auto"] * n, np.array(centres), np.array(headings), lengths, -1)
            cols["body_rgb"] = np.clip(cols["body_rgb"] * rng.uniform(0.9, 1.1, (n, 1)), 0.03, 0.95)
            self.parts.append(cols)


def plan_scene(
    site: SiteLayout,
    *,
    cars: int,
    locomotives: int,
    outside_cars: bool,
    distractors: bool,
    rng: np.random.Generator,
    extras_rng: np.random.Generator | None = None,
    lengths_rng: np.random.Generator | None = None,
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
    extras_rng : numpy.random.Generator or None
        Stream for what realism ``"v2"`` adds (trailers in the site's parking);
        ``None`` adds nothing, as in realism ``"v1"``.
    lengths_rng : numpy.random.Generator or None
        Stream for realism ``"v2"``'s cuts of short wagons (:data:`SHORT_CUT_SHARE`);
        ``None``: every railcar's length from :data:`_DIMENSIONS`, as in realism ``"v1"``.

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
    p = _Planner(site, rng, lengths_rng)
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
        if extras_rng is not None:
            p.rng = extras_rng
            p.trailers()
            p.autos()
    return Vehicles.concat(p.parts)


def roof_snow(vehicles: Vehicles, rng: np.random.Generator, *, snow: bool, winter: bool) -> np.ndarray:
    """Fraction (0-1) of each roof under snow.

    With snow on the ground most cars that have stood for a while carry it;
    in a winter scene without ground snow a few cuts arrived from colder
    places still do. Whole tracks share the odds, so cuts look alike.
    """
    n = len(vehicles)
    if not (snow or winter) or n == 0:
        return np.zeros(n)
    tracks = np.unique(vehicles.track)
    p_track = {
        int(t): rng.uniform(0.55, 0.95) if snow else (0.7 if rng.random() < 0.25 else 0.0) for t in tracks
    }
    p = np.array([p_track[int(t)] for t in vehicles.track])
    if snow:
        p[vehicles.track < 0] = 0.85  # parked trucks, trailers and containers
    has = rng.random(n) < p
    cover = np.where(has, rng.uniform(0.55, 1.0, n), 0.0)
    return np.where(vehicles.kind == "locomotive", 0.0, cover)
