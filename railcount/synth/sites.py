"""Named synthetic sites and the bundled sample set.

A site is built once from its own fixed seed, so every scene of a site shares
the same tracks, station polygon and ground area; only what stands on the
tracks, the season and the sun change between dates. ``"tumangang"`` is a
fixed site; ``"generic"`` (:mod:`railcount.synth.generic`) is a different
yard for every scene seed. :func:`site_layout` returns either, for either
realism.

The geometry is drawn in a yard frame ``(u, v)``: ``u`` along the tracks,
``v`` across them (to the left of ``u``), metres, origin at the yard centre
(:class:`railcount.synth.trackwork.Frame`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np
import shapely
from rasterio.warp import transform as warp_transform
from shapely.geometry import Polygon

from railcount.errors import UsageError
from railcount.synth.layout import Area, Overhead, SiteLayout, Track, to_lonlat
from railcount.synth.spec import SceneSpec
from railcount.synth.trackwork import (
    LEAD_RADIUS_M,
    Frame,
    Ladder,
    arc_length,
    branch_group,
    clip_mains,
    clip_usable,
    crossover,
    extent_around,
    lead_from,
    lead_into,
    masts_along,
)

SITE_NAMES = ("tumangang", "generic", "town")
"""Names accepted as :attr:`SceneSpec.site`."""


def _tumangang(realism: str) -> SiteLayout:
    """A Tumangang-like border marshalling yard (lon 130.598, lat 42.418, UTM 52N).

    Thirteen-odd parallel yard tracks in a parallelogram between two ladders,
    two main lines alongside, a warehouse siding outside the station, a road
    with a truck apron that the station polygon takes in, and a container lot.

    Realism ``"v2"`` keeps all that (and the station polygon and extent) and
    adds turnout leads, crossovers, a curved branch group at another angle,
    overhead-line masts and portals, a platform with a canopy, sheds and a
    trailer park (:func:`_tumangang_v2`).
    """
    rng = np.random.Generator(np.random.PCG64(1905))  # the site's own seed
    epsg, lon, lat = 32652, 130.598, 42.418
    (x0,), (y0,) = warp_transform("EPSG:4326", f"EPSG:{epsg}", [lon], [lat])
    f = Frame((round(x0, 1), round(y0, 1)), angle_deg=27.5)

    # -- track positions across the yard
    v_main = [-10.6, -10.6 + 4.8]
    n_yard = int(rng.integers(12, 15))
    v_yard = [0.0]
    wide_after = int(rng.integers(5, n_yard - 4))  # one wider walkway between track groups
    for i in range(1, n_yard):
        v_yard.append(v_yard[-1] + (rng.uniform(6.4, 7.2) if i == wide_after else rng.uniform(4.5, 5.5)))
    v_top = v_yard[-1]
    slope = 3.5  # ladder: u shift per metre of v (about 16 degrees)
    track_len = float(rng.uniform(440, 480))

    def u_left(v: float) -> float:
        return -280.0 + slope * (v - v_main[1])

    def u_right(v: float) -> float:
        return u_left(v) + track_len

    tracks: list[Track] = []
    far = 900.0  # main lines and the road run out of the scene
    for i, v in enumerate(v_main):
        pts = (f.xy(-far, v), f.xy(far, v))
        tracks.append(Track(i + 1, "main", pts, usable=(far - 240.0, far + 420.0)))
    for i, v in enumerate(v_yard):
        pts = (f.xy(u_left(v), v), f.xy(u_right(v), v))
        sleepers = "timber" if rng.random() < 0.3 else "concrete"
        tracks.append(Track(i + 3, "yard", pts, usable=(16.0, track_len - 16.0), sleepers=sleepers))
    # warehouse siding, leaving the top track through its own turnout
    v_sid = v_top + 9.5
    u_sid0 = u_right(v_top) - 300.0
    sid_pts = (f.xy(u_sid0, v_sid), f.xy(u_sid0 + 250.0, v_sid))
    sid_id = len(tracks) + 1
    tracks.append(Track(sid_id, "siding", sid_pts, usable=(10.0, 235.0), sleepers="timber"))
    ladder_id = sid_id + 1
    for u_of in (u_left, u_right):
        pts = (f.xy(u_of(v_main[1]), v_main[1]), f.xy(u_of(v_top), v_top))
        tracks.append(Track(ladder_id, "ladder", pts, usable=(0.0, 0.0)))
        ladder_id += 1
    tracks.append(
        Track(
            ladder_id,
            "ladder",
            (f.xy(u_sid0 - 45.0, v_top), f.xy(u_sid0, v_sid)),
            usable=(0.0, 0.0),
            sleepers="timber",
        )
    )

    # -- station polygon: takes in the truck apron, leaves the west track ends out
    v_lo, v_hi = -14.5, v_top + 3.0

    def edge_w(v: float) -> float:
        return -228.0 + 3.0 * (v - v_lo)

    def edge_e(v: float) -> float:
        return 195.0 + 3.0 * (v - v_lo)

    station_uv = [
        (edge_w(v_lo), v_lo),
        (-70.0, v_lo),
        (-62.0, -36.0),
        (95.0, -36.0),
        (103.0, v_lo),
        (edge_e(v_lo), v_lo),
        (edge_e(v_hi), v_hi),
        (edge_w(v_hi), v_hi),
    ]
    station = f.poly(station_uv)
    ring = np.round(to_lonlat(np.asarray(station.exterior.coords), epsg), 7)
    station_lonlat = Polygon(ring)

    # -- surroundings
    road_v, lot = -27.0, (150.0, 290.0, -66.0, -40.0)
    warehouse = f.rect(u_sid0 + 20.0, u_sid0 + 230.0, v_sid + 4.6, v_sid + 22.0)
    lot_poly = f.rect(*lot)
    core = shapely.union_all([station, warehouse, lot_poly])
    extent = extent_around(core)
    box = shapely.box(*extent)
    tracks = clip_mains(tracks, box)

    areas = (
        Area("grass", f.rect(-far, far, -52.0, road_v - 6.0)),
        Area("yard_bed", f.rect(u_sid0 - 20.0, u_sid0 + 255.0, v_top, v_sid + 4.6)),
        Area("apron", f.rect(-62.0, 95.0, -36.0, -14.5)),
        Area("road", f.rect(-far, far, road_v - 3.8, road_v + 3.8)),
        Area("lot", f.rect(lot[0] - 6, lot[1] + 6, lot[2] - 5, lot[3] + 4)),
        Area("building", warehouse, height_m=9.0),
    )
    roads = []
    for j, dv in enumerate((-1.9, 1.9)):
        pts = (f.xy(-far, road_v + dv), f.xy(far, road_v + dv))
        roads.append(Track(100 + j, "road", pts, usable=clip_usable(pts, box, 25.0)))
    park = (f.xy(-57.0, -19.0), f.xy(90.0, -19.0))  # truck parking along the apron
    roads.append(Track(102, "road", park, usable=(2.0, 145.0)))
    lots = (f.rect(*lot),)
    site = SiteLayout(
        name="tumangang",
        station_name="Tumangang",
        epsg=epsg,
        lonlat=(lon, lat),
        tracks=tuple(tracks),
        station=station,
        station_lonlat=station_lonlat,
        extent=extent,
        areas=areas,
        roads=tuple(roads),
        lots=lots,
    )
    if realism == "v1":
        return site
    yard = _YardV1(f, v_main, v_yard, wide_after, slope, track_len, u_sid0, v_sid)
    return _tumangang_v2(site, yard, box)


@dataclass(frozen=True)
class _YardV1:
    """The numbers of Tumangang's realism-v1 yard that the v2 additions build on."""

    f: Frame
    v_main: list[float]
    v_yard: list[float]
    wide_after: int
    slope: float
    track_len: float
    u_sid0: float
    v_sid: float

    def u_left(self, v: float) -> float:
        return -280.0 + self.slope * (v - self.v_main[1])


def _tumangang_v2(site: SiteLayout, y: _YardV1, box: Polygon) -> SiteLayout:
    """Tumangang with the realism-v2 trackwork, structures and overhead line (same station)."""
    rng = np.random.default_rng([1905, 2])  # the site's own stream for what v2 adds
    f, v_top = y.f, y.v_yard[-1]
    phi = math.atan2(1.0, y.slope)
    left = Ladder(y.u_left(y.v_main[1]), y.v_main[1], phi)
    right = Ladder(left.u0 + y.track_len, y.v_main[1], phi)
    old = {t.id: t for t in site.tracks}
    tracks: list[Track] = [old[1], old[2]]
    tops_l, tops_r = [], []
    for i, v in enumerate(y.v_yard):
        a, vj_a = lead_from(left, v, LEAD_RADIUS_M)
        b, vj_b = lead_into(right, v, LEAD_RADIUS_M)
        uv = np.concatenate([a, b])
        la, lb, total = arc_length(a), arc_length(b), arc_length(uv)
        tid = i + 3
        tracks.append(
            Track(tid, "yard", f.line(uv), usable=(la + 4.0, total - lb - 4.0), sleepers=old[tid].sleepers)
        )
        tops_l.append(vj_a)
        tops_r.append(vj_b)
    n_id = len(tracks) + 1
    sid = old[n_id]
    tracks.append(sid)
    # ladders: leave main line 2 through a turnout, run straight to the last junction
    ladder_id = n_id + 1
    for lad, top in ((left, max(tops_l)), (right, max(tops_r))):
        lead, _ = lead_into(lad, y.v_main[1], LEAD_RADIUS_M)
        uv = np.concatenate([lead, [lad.point(top)]])
        tracks.append(Track(ladder_id, "ladder", f.line(uv), usable=(0.0, 0.0)))
        ladder_id += 1
    s_uv = crossover(y.u_sid0 - 76.0, v_top, y.v_sid, radius=150.0, angle_deg=12.0)
    s_uv = np.concatenate([s_uv, [(y.u_sid0 + 1.0, y.v_sid)]])
    tracks.append(Track(ladder_id, "ladder", f.line(s_uv), usable=(0.0, 0.0), sleepers="timber"))
    ladder_id += 1
    for u0, v_a, v_b in ((-215.0, y.v_main[0], y.v_main[1]), (115.0, y.v_main[1], y.v_main[0])):
        tracks.append(Track(ladder_id, "ladder", f.line(crossover(u0, v_a, v_b)), usable=(0.0, 0.0)))
        ladder_id += 1

    # a curved branch group leaving the top track to the north, at 33 degrees to the yard
    branch, branch_ladder = branch_group(
        f, v_top, u0=6.0, radius=280.0, beta=math.radians(33.0), n=4, rng=rng
    )
    tid = 30
    for uv, sleepers in branch:
        total = arc_length(uv)
        tracks.append(
            Track(
                tid,
                "branch",
                f.line(uv),
                usable=(26.0 if tid == 30 else 8.0, total - 10.0),
                sleepers=sleepers,
            )
        )
        tid += 1
    tracks.append(Track(ladder_id, "ladder", f.line(branch_ladder), usable=(0.0, 0.0), sleepers="timber"))

    # overhead line: masts along the main lines and the branch, portals over the yard groups
    over: list[Overhead] = []
    for t, side in ((old[1], -2.9), (old[2], 2.9)):
        lo, hi = t.usable
        over += masts_along(t.points, (lo - 20.0, hi + 20.0), spacing=57.0, side=side, height=8.0, rng=rng)
    first_branch = next(t for t in tracks if t.id == 30)
    over += masts_along(
        first_branch.points, (30.0, first_branch.length - 5.0), spacing=52.0, side=-2.7, height=7.6, rng=rng
    )
    v_w = (y.v_yard[y.wide_after - 1] + y.v_yard[y.wide_after]) / 2
    for k, (v_lo, v_hi) in enumerate(((y.v_main[1] + 2.9, v_w), (v_w, v_top + 2.9))):
        u_lo = y.u_left(v_hi) + 40.0
        u_hi = y.u_left(v_lo) + y.track_len - 40.0
        u = u_lo + (k * 30.0) % 60.0 + rng.uniform(0, 10)
        while u < u_hi:
            skew = math.tan(math.radians(rng.uniform(-7, 7)))
            a_xy, b_xy = f.xy(u, v_lo), f.xy(u + skew * (v_hi - v_lo), v_hi)
            over.append(Overhead("portal", (a_xy, b_xy), rng.uniform(9.5, 11.0)))
            u += rng.uniform(56.0, 64.0)

    # look-alikes: a platform with a canopy by main line 1, two sheds, a trailer park
    areas = list(site.areas)
    areas += [
        Area("platform", f.rect(-205.0, -92.0, y.v_main[0] - 7.9, y.v_main[0] - 1.65), height_m=0.8),
        Area("canopy", f.rect(-182.0, -121.0, y.v_main[0] - 6.8, y.v_main[0] - 2.6), height_m=4.6),
        Area("shed", f.rect(18.0, 66.0, -63.0, -56.0), height_m=5.5),
        Area("shed", f.rect(76.0, 121.0, -64.0, -57.5), height_m=6.0),
        Area("apron", f.rect(-146.0, -34.0, -76.0, -35.0)),
    ]
    parking = (f.rect(-140.0, -40.0, -72.5, -35.5),)
    inside = box.buffer(-20.0)
    if not all(inside.contains(shapely.LineString(t.points)) for t in tracks if t.kind == "branch"):
        raise AssertionError(
            "a v2 Tumangang track leaves the site's extent"
        )  # a builder bug, not a user error
    return replace(site, tracks=tuple(tracks), areas=tuple(areas), overhead=tuple(over), parking=parking)


# ------------------------------------------------------------------------ registry

SITES: Mapping[str, SiteLayout] = MappingProxyType({"tumangang": _tumangang("v1")})
"""The fixed sites (realism ``"v1"`` geometry), keyed by name. ``"generic"`` is not here:
it depends on the seed; use :func:`site_layout`."""


@functools.lru_cache(maxsize=16)
def site_layout(name: str, *, seed: int = 0, realism: str = "v1") -> SiteLayout:
    """The layout of site ``name`` for a scene of ``seed`` and ``realism``.

    ``"tumangang"`` ignores ``seed``; its realism-v2 layout has the same
    station polygon and extent as v1. ``"generic"`` builds a new yard from
    ``seed`` (its name is ``"generic-<seed>"``).
    """
    if name == "tumangang":
        return SITES["tumangang"] if realism == "v1" else _tumangang(realism)
    if name == "generic":
        from railcount.synth.generic import generic_site

        return generic_site(int(seed))
    if name == "town":
        from railcount.synth.town import town_site

        return town_site(int(seed))
    raise UsageError(f"unknown site {name!r}; known sites: {', '.join(sorted(SITE_NAMES))}")


def spec_site(spec: SceneSpec) -> SiteLayout:
    """The site layout a scene spec is drawn on."""
    return site_layout(spec.site, seed=int(spec.seed), realism=spec.realism)


SAMPLE_SCENES: tuple[SceneSpec, ...] = tuple(
    SceneSpec(site="tumangang", realism="v2", date=date, cars=cars, gsd_m=gsd, crs=crs, seed=seed)
    for date, cars, gsd, crs, seed in (
        ("2019-06-12", 40, 0.5, "EPSG:32652", 11),
        ("2021-03-18", 15, 0.5, "EPSG:4326", 23),
        ("2022-08-30", 28, 0.3, "EPSG:3857", 5),
        ("2023-10-05", 73, 0.5, "EPSG:32652", 7),
    )
)
"""The scenes bundled in ``sample_tiles/`` (see ``sample_tiles/regenerate.sh``)."""
