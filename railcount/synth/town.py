"""The ``"town"`` site: a station polygon with no railcars in it, drawn over what looks like them.

Analysts draw station polygons by hand, and they take in whatever lies
beside the tracks: apartment blocks, parking lots, truck yards. The long
pitched roofs of apartment blocks are the worst of these look-alikes for a
railcar detector: each roof half is a smooth band a few metres wide, one
half lit and one half dark, with the building's shadow beside it -- a car
body beside its shadow, as far as the band evidence can tell.

Drawn from the seed: where on Earth (so the sun), the block's angle, rows of
long pitched-roof buildings (30-70 m by 9-14 m, 6-12 m high, roofs pitched
20-40 degrees in brown, red, grey or dark shingle), asphalt car parks with stall lines
between them, a road with trucks along one side, a trailer park on some
seeds, and a single main line outside the station. Scenes of this site have
no railcars (``SceneSpec.cars`` must be 0); the truth holds the buildings.
It needs realism ``"v2"`` (pitched roofs are drawn by the v2 painter).
"""

from __future__ import annotations

import numpy as np
import shapely
from rasterio.warp import transform as warp_transform
from shapely.geometry import Polygon

from railcount.synth.layout import Area, SiteLayout, Track, to_lonlat
from railcount.synth.trackwork import Frame, clip_usable, extent_around


def town_site(seed: int) -> SiteLayout:
    """Build the town block of ``seed`` (named ``"town-<seed>"``).

    >>> site = town_site(3)
    >>> site.name, sum(a.kind == "house" for a in site.areas) >= 4
    ('town-3', True)
    """
    rng = np.random.default_rng([int(seed), 5151])
    lon, lat = float(rng.uniform(-100.0, 140.0)), float(rng.uniform(28.0, 56.0))
    epsg = 32600 + int((lon + 180.0) // 6.0) + 1
    (x0,), (y0,) = warp_transform("EPSG:4326", f"EPSG:{epsg}", [lon], [lat])
    f = Frame((round(x0, 1), round(y0, 1)), float(rng.uniform(0.0, 360.0)))

    # -- rows of buildings along u, parking aisles between the rows
    n_rows, n_cols = int(rng.integers(2, 5)), int(rng.integers(1, 4))
    houses: list[Area] = []
    aisles: list[Area] = []
    v = 0.0
    for _ in range(n_rows):
        width = float(rng.uniform(9.0, 14.0))
        u = 0.0
        for _ in range(n_cols):
            length = float(rng.uniform(30.0, 70.0))
            jog = float(rng.uniform(-3.0, 3.0))
            houses.append(
                Area("house", f.rect(u, u + length, v + jog, v + jog + width), float(rng.uniform(6.0, 12.0)))
            )
            u += length + float(rng.uniform(12.0, 30.0))
        v += width + 6.0
        aisle = float(rng.uniform(14.0, 22.0))
        aisles.append(Area("parking", f.rect(-8.0, u - 4.0, v, v + aisle)))
        v += aisle + float(rng.uniform(5.0, 10.0))
    block = shapely.union_all([a.polygon for a in houses + aisles])
    u_min, u_max = -15.0, max(_u_extent(f, a.polygon) for a in houses + aisles) + 12.0
    station = f.rect(u_min, u_max, -12.0, v + 4.0)

    # -- a road with trucks beside the block (inside the station), a trailer park on some seeds
    road_v = -20.0
    areas: list[Area] = [
        Area("grass", f.rect(u_min - 400.0, u_max + 400.0, -400.0, v + 400.0)),
        Area("road", f.rect(u_min - 400.0, u_max + 400.0, road_v - 3.8, road_v + 3.8)),
        *aisles,
        *houses,
    ]
    station = shapely.union_all([station, f.rect(u_min, u_max, road_v - 4.0, -12.0)])
    parking: tuple[Polygon, ...] = ()
    if rng.random() < 0.5:
        park = f.rect(u_max + 10.0, u_max + 70.0, 0.0, 40.0)
        areas.append(Area("apron", f.rect(u_max + 6.0, u_max + 74.0, -3.0, 43.0)))
        parking = (park,)
    # -- a main line beyond the road, outside the station
    rail_v = road_v - 30.0
    main = f.line([(u_min - 400.0, rail_v), (u_max + 400.0, rail_v)], step=6.0)

    station = Polygon(station.exterior)
    ring = np.round(to_lonlat(np.asarray(station.exterior.coords), epsg), 7)
    core = shapely.union_all(
        [station, block, *parking, shapely.LineString(main).buffer(5.0).intersection(station.buffer(60.0))]
    )
    extent = extent_around(core)
    box = shapely.box(*extent)
    roads = []
    for j, dv in enumerate((-1.9, 1.9)):
        lane = (f.xy(u_min - 400.0, road_v + dv), f.xy(u_max + 400.0, road_v + dv))
        roads.append(Track(100 + j, "road", lane, usable=clip_usable(lane, box, 25.0)))
    return SiteLayout(
        name=f"town-{int(seed)}",
        station_name=f"Town block {int(seed)}",
        epsg=epsg,
        lonlat=(lon, lat),
        tracks=(Track(1, "main", main, usable=(0.0, 0.0)),),
        station=station,
        station_lonlat=Polygon(ring),
        extent=extent,
        areas=tuple(areas),
        roads=tuple(roads),
        parking=parking,
        car_parks=tuple(a.polygon for a in aisles),
    )


def _u_extent(f: Frame, poly: Polygon) -> float:
    """The largest ``u`` (along the rows) of a polygon built in frame ``f``."""
    pts = np.asarray(poly.exterior.coords)
    ox, oy = f.xy(0.0, 0.0)
    ux, uy = np.subtract(f.xy(1.0, 0.0), (ox, oy))
    return float(((pts[:, 0] - ox) * ux + (pts[:, 1] - oy) * uy).max())
