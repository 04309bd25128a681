"""Named synthetic sites and the bundled sample set.

A site is built once from its own fixed seed, so every scene of a site shares
the same tracks, station polygon and ground area; only what stands on the
tracks, the season and the sun change between dates.

The geometry is drawn in a yard frame ``(u, v)``: ``u`` along the tracks,
``v`` across them (to the left of ``u``), metres, origin at the yard centre.
:class:`_Frame` rotates and shifts it into the site's UTM zone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import shapely
from rasterio.warp import transform as warp_transform
from shapely.geometry import Polygon

from railcount.synth.layout import Area, SceneSpec, SiteLayout, Track, to_lonlat


@dataclass(frozen=True)
class _Frame:
    """Yard frame -> map metres: rotate by ``angle_deg`` (from east) and shift to ``origin``."""

    origin: tuple[float, float]
    angle_deg: float

    def xy(self, u: float, v: float) -> tuple[float, float]:
        a = math.radians(self.angle_deg)
        return (
            self.origin[0] + u * math.cos(a) - v * math.sin(a),
            self.origin[1] + u * math.sin(a) + v * math.cos(a),
        )

    def poly(self, uv: list[tuple[float, float]]) -> Polygon:
        return Polygon([self.xy(u, v) for u, v in uv])

    def rect(self, u0: float, u1: float, v0: float, v1: float) -> Polygon:
        return self.poly([(u0, v0), (u1, v0), (u1, v1), (u0, v1)])


def _clip_usable(points: tuple[tuple[float, float], ...], box: Polygon, margin: float) -> tuple[float, float]:
    """Arc-length range of a straight line that stays ``margin`` inside ``box``."""
    line = shapely.LineString(points)
    inner = line.intersection(box.buffer(-margin))
    a = line.project(shapely.Point(inner.coords[0]))
    b = line.project(shapely.Point(inner.coords[-1]))
    return (min(a, b), max(a, b))


def _tumangang() -> SiteLayout:
    """A Tumangang-like border marshalling yard (lon 130.598, lat 42.418, UTM 52N).

    Thirteen-odd parallel yard tracks in a parallelogram between two ladders,
    two main lines alongside, a warehouse siding outside the station, a road
    with a truck apron that the station polygon takes in, and a container lot.
    """
    rng = np.random.Generator(np.random.PCG64(1905))  # the site's own seed
    epsg, lon, lat = 32652, 130.598, 42.418
    (x0,), (y0,) = warp_transform("EPSG:4326", f"EPSG:{epsg}", [lon], [lat])
    f = _Frame((round(x0, 1), round(y0, 1)), angle_deg=27.5)

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
    xmin, ymin, xmax, ymax = core.bounds
    m = 50.0
    extent = (
        math.floor((xmin - m) / 10) * 10,
        math.floor((ymin - m) / 10) * 10,
        math.ceil((xmax + m) / 10) * 10,
        math.ceil((ymax + m) / 10) * 10,
    )
    box = shapely.box(*extent)
    tracks = [
        Track(t.id, t.kind, t.points, _clip_usable(t.points, box, 30.0), t.sleepers)
        if t.kind == "main"
        else t
        for t in tracks
    ]

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
        roads.append(Track(100 + j, "road", pts, usable=_clip_usable(pts, box, 25.0)))
    park = (f.xy(-57.0, -19.0), f.xy(90.0, -19.0))  # truck parking along the apron
    roads.append(Track(102, "road", park, usable=(2.0, 145.0)))
    lots = (f.rect(*lot),)
    return SiteLayout(
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


SITES: Mapping[str, SiteLayout] = MappingProxyType({"tumangang": _tumangang()})
"""Named sites, keyed by name."""

SAMPLE_SCENES: tuple[SceneSpec, ...] = (
    SceneSpec(site="tumangang", date="2019-06-12", cars=40, gsd_m=0.5, crs="EPSG:32652", seed=11),
    SceneSpec(site="tumangang", date="2021-03-18", cars=15, gsd_m=0.5, crs="EPSG:4326", seed=23),
    SceneSpec(site="tumangang", date="2022-08-30", cars=28, gsd_m=0.3, crs="EPSG:3857", seed=5),
    SceneSpec(site="tumangang", date="2023-10-05", cars=73, gsd_m=0.5, crs="EPSG:32652", seed=7),
)
"""The scenes bundled in ``sample_tiles/`` (see ``sample_tiles/regenerate.sh``)."""
