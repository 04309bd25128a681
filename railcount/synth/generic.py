"""The ``"generic"`` site: a different marshalling yard for every seed.

Drawn from the seed: where on Earth (and so which UTM zone and sun), the
yard's angle, whether it bends along a gentle curve, how many tracks and how
long, which way the ladders lean, whether a branch group leaves it at another
angle, and the look-alikes around it (road with a truck apron, container lot,
trailer park, warehouse, sheds, platform with a canopy). The station polygon
takes in the yard, the branch's straight part and the apron, but leaves out
the first tens of metres of every yard track, so some cars always stand
outside it.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from rasterio.warp import transform as warp_transform
from shapely.geometry import Polygon
from shapely.ops import substring

from railcount.synth.layout import Area, Overhead, SiteLayout, Track, to_lonlat
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

_MAX_EXTENT_M2 = 380_000.0  # keeps a 0.3 m render at 2x supersampling within the memory bound


def generic_site(seed: int) -> SiteLayout:
    """Build the generic yard of ``seed`` (named ``"generic-<seed>"``).

    >>> site = generic_site(3)
    >>> site.name, site.station.area > 10_000
    ('generic-3', True)
    """
    rng = np.random.default_rng([int(seed), 4242])
    lon, lat = float(rng.uniform(-100.0, 140.0)), float(rng.uniform(28.0, 56.0))
    epsg = 32600 + int((lon + 180.0) // 6.0) + 1
    (x0,), (y0,) = warp_transform("EPSG:4326", f"EPSG:{epsg}", [lon], [lat])
    origin = (round(x0, 1), round(y0, 1))
    angle = float(rng.uniform(0.0, 360.0))
    radius = float(rng.uniform(1200.0, 3000.0)) if rng.random() < 0.5 else math.inf
    n_yard = int(rng.integers(5, 13))
    length = float(rng.uniform(260.0, 420.0))
    with_branch = rng.random() < 0.75
    for _ in range(8):  # shrink until the ground area fits the memory bound
        site = _build(seed, rng, origin, epsg, (lon, lat), angle, radius, n_yard, length, with_branch)
        xmin, ymin, xmax, ymax = site.extent
        if (xmax - xmin) * (ymax - ymin) <= _MAX_EXTENT_M2:
            return site
        length *= 0.88
        n_yard = max(5, n_yard - 1)
    return site


def _build(
    seed: int,
    parent: np.random.Generator,
    origin: tuple[float, float],
    epsg: int,
    lonlat: tuple[float, float],
    angle: float,
    radius: float,
    n_yard: int,
    length: float,
    with_branch: bool,
) -> SiteLayout:
    rng = np.random.default_rng([int(seed), 4243, n_yard, round(length)])  # same for every retry
    f = Frame(origin, angle, radius)
    straight = Frame(origin, angle)  # tangent to the yard at its middle: roads, lots, buildings

    # -- yard tracks across v, a wider walkway between two groups
    v_main = [-10.6, -5.8] if rng.random() < 0.7 else [-5.8]
    v_yard = [0.0]
    wide_after = int(rng.integers(2, max(3, n_yard - 1)))
    for i in range(1, n_yard):
        v_yard.append(v_yard[-1] + (rng.uniform(6.4, 7.2) if i == wide_after else rng.uniform(4.5, 5.4)))
    v_top = v_yard[-1]
    # the ladders' lean: steep enough that the throats take at most about half the length
    phi = max(math.radians(rng.uniform(13.0, 18.0)), math.atan(v_top / (0.55 * length)))
    phi = min(phi, math.radians(28.0)) * (1 if rng.random() < 0.5 else -1)
    # parallelogram yard centred on u = 0 (ladders lean by phi, both the same way)
    u_l0 = -length / 2 - (v_top / 2) / math.tan(phi)
    left = Ladder(u_l0 + (v_main[-1]) / math.tan(phi), v_main[-1], phi)
    right = Ladder(left.u0 + length, v_main[-1], phi)
    tracks: list[Track] = []
    far = min(650.0, abs(radius) * 0.45) if math.isfinite(radius) else 650.0
    for i, v in enumerate(v_main):
        tracks.append(Track(i + 1, "main", f.line([(-far, v), (far, v)], step=6.0), usable=(0.0, 0.0)))
    j_left, j_right = [], []
    for v in v_yard:
        a, vj_a = lead_from(left, v, LEAD_RADIUS_M)
        b, vj_b = lead_into(right, v, LEAD_RADIUS_M)
        uv = np.concatenate([a, b])
        la, lb, total = arc_length(a), arc_length(b), arc_length(uv)
        sleepers = "timber" if rng.random() < 0.3 else "concrete"
        tracks.append(
            Track(len(tracks) + 1, "yard", f.line(uv), usable=(la + 4.0, total - lb - 4.0), sleepers=sleepers)
        )
        j_left.append(vj_a)
        j_right.append(vj_b)
    ladder_id = 60
    for lad, js in ((left, j_left), (right, j_right)):
        # the ladder leaves the (upper) main line through a turnout and runs to its last junction
        lead, _ = (lead_into if lad.phi > 0 else lead_from)(lad, v_main[-1], LEAD_RADIUS_M)
        top = max(js)
        pts = (
            np.concatenate([lead, [lad.point(top)]])
            if lad.phi > 0
            else np.concatenate([[lad.point(top)], lead])
        )
        tracks.append(Track(ladder_id, "ladder", f.line(pts), usable=(0.0, 0.0)))
        ladder_id += 1
    if len(v_main) == 2:
        for u0, v_a, v_b in (
            (-length / 2 - 40.0, v_main[0], v_main[1]),
            (length / 2 - 20.0, v_main[1], v_main[0]),
        ):
            tracks.append(Track(ladder_id, "ladder", f.line(crossover(u0, v_a, v_b)), usable=(0.0, 0.0)))
            ladder_id += 1

    def u_left(v: float) -> float:
        return left.u_at(v)

    # -- station polygon in the yard frame: leaves the first metres of each track out
    cut_w = float(rng.uniform(35.0, 80.0))
    cut_e = float(rng.uniform(6.0, 25.0))
    v_lo, v_hi = v_main[0] - 3.8, v_top + 3.0
    station_uv = [
        (u_left(v_lo) + cut_w, v_lo),
        (u_left(v_lo) + length - cut_e, v_lo),
        (u_left(v_hi) + length - cut_e, v_hi),
        (u_left(v_hi) + cut_w, v_hi),
    ]
    parts = [f.poly(station_uv, step=8.0)]

    # -- a branch group at another angle, leaving the top track to the left
    over: list[Overhead] = []
    if with_branch:
        u_b = u_left(v_top) + length * rng.uniform(0.35, 0.55)
        fb = Frame(f.xy(u_b, v_top), math.degrees(f.heading(u_b)))
        beta = math.radians(rng.uniform(22.0, 55.0))
        n_b = int(rng.integers(3, 6))
        group, ladder_uv = branch_group(
            fb, 0.0, u0=0.0, radius=float(rng.uniform(220.0, 320.0)), beta=beta, n=n_b, rng=rng
        )
        for j, (uv, sleepers) in enumerate(group):
            total = arc_length(uv)
            tracks.append(
                Track(
                    40 + j,
                    "branch",
                    fb.line(uv),
                    usable=(28.0 if j == 0 else 8.0, total - 10.0),
                    sleepers=sleepers,
                )
            )
        tracks.append(Track(ladder_id, "ladder", fb.line(ladder_uv), usable=(0.0, 0.0), sleepers="timber"))
        ladder_id += 1
        # the branch, up to a cut short of its ends, counts as station
        back = float(rng.uniform(12.0, 30.0))
        lines = [shapely.LineString([fb.xy(float(u), float(v)) for u, v in uv]) for uv, _ in group]
        kept = [substring(ln, 0.0, ln.length - back) for ln in lines]
        parts.append(shapely.union_all(kept).buffer(3.5, cap_style="flat"))
        first_branch = tracks[-1 - n_b]
        over += masts_along(
            first_branch.points,
            (30.0, first_branch.length - 5.0),
            spacing=52.0,
            side=-2.7,
            height=7.6,
            rng=rng,
        )

    # -- road, apron, lot, parking, warehouse, sheds: below the main lines, in the straight frame
    road_v = v_main[0] - rng.uniform(15.0, 22.0)
    apron = (-rng.uniform(50.0, 90.0), rng.uniform(40.0, 80.0), road_v + 4.2, v_main[0] - 3.6)
    parts.append(straight.rect(*apron))
    lot_u0 = rng.uniform(-length / 2, length / 2 - 140.0)
    lot = (lot_u0, lot_u0 + rng.uniform(90.0, 140.0), road_v - 36.0, road_v - 8.0)
    park_u1 = lot[0] - 12.0
    parking = (park_u1 - rng.uniform(70.0, 110.0), park_u1, road_v - 45.5, road_v - 8.5)
    wh_u0 = lot[1] + 15.0
    warehouse = straight.rect(
        wh_u0, wh_u0 + rng.uniform(90.0, 160.0), road_v - 8.0 - rng.uniform(16.0, 24.0), road_v - 8.0
    )
    sheds = [straight.rect(parking[0] - 60.0, parking[0] - 12.0, road_v - 17.0, road_v - 10.0)]
    station = shapely.union_all(parts).buffer(2.0, join_style="mitre").buffer(-2.0, join_style="mitre")
    if station.geom_type != "Polygon":
        station = max(station.geoms, key=lambda g: g.area)
    station = Polygon(station.exterior).simplify(0.3)
    ring = np.round(to_lonlat(np.asarray(station.exterior.coords), epsg), 7)
    station_lonlat = Polygon(ring)

    core = shapely.union_all([station, warehouse, straight.rect(*lot), straight.rect(*parking), *sheds])
    extent = extent_around(core)
    box = shapely.box(*extent)
    tracks = clip_mains(tracks, box)

    # -- overhead line: masts along the main lines, portals over the two yard groups
    for t, side in zip([t for t in tracks if t.kind == "main"], (-2.9, 2.9), strict=False):
        lo, hi = t.usable
        over += masts_along(t.points, (lo - 20.0, hi + 20.0), spacing=57.0, side=side, height=8.0, rng=rng)
    v_w = (v_yard[wide_after - 1] + v_yard[wide_after]) / 2
    for k, (g_lo, g_hi) in enumerate(((v_main[-1] + 2.9, v_w), (v_w, v_top + 2.9))):
        u_lo = max(u_left(g_lo), u_left(g_hi)) + 40.0
        u_hi = min(u_left(g_lo), u_left(g_hi)) + length - 40.0
        u = u_lo + (k * 30.0) % 60.0 + rng.uniform(0, 10)
        while u < u_hi:
            skew = math.tan(math.radians(rng.uniform(-7, 7)))
            over.append(
                Overhead(
                    "portal", (f.xy(u, g_lo), f.xy(u + skew * (g_hi - g_lo), g_hi)), rng.uniform(9.5, 11.0)
                )
            )
            u += rng.uniform(56.0, 64.0)

    plat_v = v_main[0]
    areas = [
        Area("grass", straight.rect(-2000.0, 2000.0, road_v - 60.0, road_v - 5.0)),
        Area("apron", straight.rect(*apron)),
        Area("road", straight.rect(-2000.0, 2000.0, road_v - 3.8, road_v + 3.8)),
        Area("lot", straight.rect(lot[0] - 6, lot[1] + 6, lot[2] - 5, lot[3] + 4)),
        Area("apron", straight.rect(parking[0] - 4, parking[1] + 4, parking[2] - 3, parking[3] + 3)),
        Area("building", warehouse, height_m=float(rng.uniform(8.0, 11.0))),
        *[Area("shed", s, height_m=float(rng.uniform(4.5, 6.5))) for s in sheds],
    ]
    # a platform with a canopy beside the lower main line, west of the apron
    pu = apron[0] - 130.0
    platform_uv = [
        (pu, plat_v - 7.9),
        (pu + 110.0, plat_v - 7.9),
        (pu + 110.0, plat_v - 1.65),
        (pu, plat_v - 1.65),
    ]
    areas.append(Area("platform", f.poly(platform_uv, step=5.0), height_m=0.8))
    canopy_frame = Frame(f.xy(pu + 55.0, plat_v - 4.7), math.degrees(f.heading(pu + 55.0)))
    areas.append(Area("canopy", canopy_frame.rect(-30.0, 30.0, -2.0, 2.0), height_m=4.6))
    roads = []
    for j, dv in enumerate((-1.9, 1.9)):
        lane = (straight.xy(-2000.0, road_v + dv), straight.xy(2000.0, road_v + dv))
        roads.append(Track(100 + j, "road", lane, usable=clip_usable(lane, box, 25.0)))
    park_lane = (straight.xy(apron[0] + 5.0, road_v + 8.5), straight.xy(apron[1] - 5.0, road_v + 8.5))
    roads.append(Track(102, "road", park_lane, usable=(2.0, apron[1] - apron[0] - 12.0)))
    return SiteLayout(
        name=f"generic-{int(seed)}",
        station_name=f"Generic yard {int(seed)}",
        epsg=epsg,
        lonlat=lonlat,
        tracks=tuple(tracks),
        station=station,
        station_lonlat=station_lonlat,
        extent=extent,
        areas=tuple(areas),
        roads=tuple(roads),
        lots=(straight.rect(*lot),),
        overhead=tuple(over),
        parking=(straight.rect(*parking),),
    )
