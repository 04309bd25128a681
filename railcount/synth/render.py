"""Scene assembly: plan the layout, paint it, image it through the sensor, georeference it.

1. :func:`paint` (realism v1) or :func:`paint_v2` draws ground, shadows,
   structures and vehicles as display reflectance (float32, 0-1) on a fine
   grid (``gsd / supersample``);
2. :mod:`railcount.synth.sensor` area-downsamples to the target GSD, adds
   cloud and haze, blurs, adds noise and quantises to the product;
3. :func:`synthesize` chains layout -> paint -> sense and, when the output CRS
   is not the site's UTM zone, reprojects with :func:`rasterio.warp.reproject`;
   then come the delivery artefacts (JPEG, the nodata swath edge).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import cv2
import numpy as np
import shapely
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import Resampling, reproject, transform_bounds
from rasterio.warp import transform as warp_transform
from shapely.geometry import Polygon

from railcount.synth.atmosphere import Sky, lean_vector, make_sky
from railcount.synth.ground import paint_ground, paint_ground_v2, season_of
from railcount.synth.layout import (
    Area,
    SceneLayout,
    SiteLayout,
    Sun,
    Vehicles,
    acquisition_time,
    parse_date,
    solar_position,
)
from railcount.synth.placement import plan_scene, roof_snow
from railcount.synth.raster import Grid
from railcount.synth.roofs import paint_vehicles_v2
from railcount.synth.sensor import BAND_NAMES, jpeg_artefacts, sense, sense_v2
from railcount.synth.sites import spec_site
from railcount.synth.spec import (
    STREAM_CONDITIONS,
    STREAM_EDGE,
    STREAM_LENGTHS_V2,
    STREAM_PLAN_V2,
    STREAM_VEGETATION,
    SceneSpec,
)
from railcount.synth.structures import (
    SHADOW_TINT,
    SNOW_SHADOW_TINT,
    OverheadShadows,
    paint_buildings,
    paint_overhead,
    paint_structures_v2,
    shadow_polys,
    shadow_polys_v2,
)
from railcount.synth.truth import Truth, build_truth, structure_rectangles
from railcount.synth.vegetation import paint_vegetation, plan_vegetation, plan_weeds, vegetation_shadows
from railcount.synth.vehicles import paint_vehicles

_MAX_RENDER_PIXELS = 20_000_000  # keeps peak memory (a few float canvases) under 1 GB


def paint(layout: SceneLayout, grid: Grid, *, rng: np.random.Generator) -> np.ndarray:
    """Draw a scene layout as display reflectance.

    Parameters
    ----------
    layout : SceneLayout
    grid : Grid
        The (fine) grid to draw on, in the site's UTM zone.
    rng : numpy.random.Generator
        Texture stream (terrain, grain).

    Returns
    -------
    ndarray of float32, shape (rows, cols, 3)
        RGB reflectance, mostly within 0-1.
    """
    site = layout.site
    grain = rng.standard_normal(grid.shape, dtype=np.float32)
    grain = cv2.GaussianBlur(grain, (0, 0), max(0.4, 0.05 / grid.px)) * np.float32(1.6)
    canvas = paint_ground(grid, site, season_of(layout.acquired.month), rng, grain)
    shade = grid.mask(shadow_polys(layout.vehicles, site, layout.sun))
    shade = cv2.GaussianBlur(shade, (0, 0), max(0.5, 0.12 / grid.px))
    for ch, k in enumerate(SHADOW_TINT):  # per band: one small temporary at a time
        canvas[..., ch] *= 1 - shade * np.float32(1 - k)
    paint_buildings(canvas, grid, site, layout.sun, grain)
    paint_vehicles(canvas, grid, layout.vehicles, layout.sun, grain)
    return canvas


def paint_v2(
    layout: SceneLayout,
    grid: Grid,
    *,
    rng: np.random.Generator,
    snow: bool = False,
    lean: np.ndarray | None = None,
    crowns: tuple[Area, ...] = (),
    foliage_rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Draw a scene layout as display reflectance, realism v2 (see :func:`paint`).

    ``snow`` covers the ground (and :attr:`Vehicles.snow` the roofs); ``lean``
    is the off-nadir displacement per metre of height (east, north); ``crowns``
    are hedges and trees (:mod:`railcount.synth.vegetation`), their foliage
    drawn from ``foliage_rng``.
    """
    site, sun = layout.site, layout.sun
    lean = np.zeros(2) if lean is None else np.asarray(lean, dtype=float)
    grain = rng.standard_normal(grid.shape, dtype=np.float32)
    grain = cv2.GaussianBlur(grain, (0, 0), max(0.4, 0.05 / grid.px)) * np.float32(1.6)
    season = season_of(layout.acquired.month)
    canvas = paint_ground_v2(grid, site, season, rng, grain, snow=snow)
    overhead = OverheadShadows(site, sun)
    shade, low = _ground_shade(layout, grid, crowns, overhead)
    tint = SNOW_SHADOW_TINT if snow else SHADOW_TINT
    for ch, k in enumerate(tint):
        canvas[..., ch] *= 1 - shade * np.float32(1 - k)
    del shade
    paint_structures_v2(canvas, grid, site, sun, grain, lean=lean, snow=snow)
    if crowns:
        rng_f = foliage_rng if foliage_rng is not None else np.random.default_rng(0)
        paint_vegetation(
            canvas, grid, crowns, sun, rng_f, season=season, snow=snow, lean=lean, shade=low, tint=tint
        )
    paint_vehicles_v2(canvas, grid, layout.vehicles, sun, grain, lean=lean, overhead=overhead)
    paint_overhead(canvas, grid, site, lean=lean)
    return canvas


def _ground_shade(
    layout: SceneLayout, grid: Grid, crowns: tuple[Area, ...], overhead: OverheadShadows
) -> tuple[np.ndarray, np.ndarray | None]:
    """The cast shadows on the ground (vehicles, buildings, masts, hedges and trees), softened, as
    coverage 0-1 on ``grid``; and, where there are weeds on an idle track, the shadows of the cars and
    masts alone that the weeds lie in (else None)."""
    site, sun = layout.site, layout.sun
    cast = shadow_polys_v2(layout.vehicles, site, sun)
    masts = overhead.shade(grid, 0.0) if overhead.items else None
    soften = max(0.5, 0.12 / grid.px)
    # Low vegetation (weeds on an idle track) lies in the shadows of the cars and masts beside it.
    low = None
    if any(a.kind == "weeds" for a in crowns):
        low = grid.mask(cast)
        if masts is not None:
            np.maximum(low, masts, out=low)
        low = cv2.GaussianBlur(low, (0, 0), soften)
    shade = grid.mask(cast + vegetation_shadows(crowns, sun))
    if masts is not None:
        np.maximum(shade, masts, out=shade)
    del masts
    return cv2.GaussianBlur(shade, (0, 0), soften), low


def direct_light(
    layout: SceneLayout, grid: Grid, *, lean: np.ndarray | None = None, crowns: tuple[Area, ...] = ()
) -> np.ndarray:
    """The share of the direct sun each pixel of ``grid`` receives (0-1, float32), as :func:`paint_v2`
    draws the scene: none in the cast shadows on the ground, all on sunlit ground and on the roofs of
    vehicles and buildings (drawn where ``lean`` puts them). A cloud's shadow takes the direct sun
    away, and so leaves a cast shadow as it was (:func:`~railcount.synth.sensor.sense_v2`)."""
    site = layout.site
    lean = np.zeros(2) if lean is None else np.asarray(lean, dtype=float)
    shade, _ = _ground_shade(layout, grid, crowns, OverheadShadows(site, layout.sun))
    direct = np.subtract(np.float32(1.0), shade, out=shade)
    vehicles = layout.vehicles
    roofs = [c + lean * h for c, h in zip(vehicles.corners(), vehicles.height, strict=True)]
    roofs += [
        np.asarray(a.polygon.exterior.coords)[:-1] + lean * a.height_m for a in site.areas if a.height_m > 0
    ]
    return np.maximum(direct, grid.mask(roofs), out=direct)


@dataclass(frozen=True, eq=False)
class SynthScene:
    """A synthesised scene: pixels with georeferencing, and its exact ground truth.

    Attributes
    ----------
    spec : SceneSpec
        What was asked for.
    pixels : ndarray of uint8 or uint16, shape (rows, cols, bands)
        RGB for the default product; see ``band_names`` and ``spec.product`` otherwise.
    transform : Affine
        Maps (col, row) to ``crs`` coordinates.
    crs : CRS
    truth : Truth
        Every vehicle whose centre lies in the raster, lon/lat columns.
    station : Polygon
        The site's station polygon in lon/lat.
    station_name : str
    acquired : datetime
        Acquisition time (UTC, aware).
    sun : Sun
    site : SiteLayout or None
        The layout the scene was drawn on (its station is ``station``).
    valid : ndarray of bool, shape (rows, cols), or None
        False where the product holds no data (beyond a swath edge); None: all valid.
    band_names : tuple of str
        What each band of ``pixels`` holds, e.g. ``("blue", "green", "red", "nir")``.
    """

    spec: SceneSpec
    pixels: np.ndarray
    transform: Affine
    crs: CRS
    truth: Truth
    station: Polygon
    station_name: str
    acquired: datetime
    sun: Sun
    site: SiteLayout | None = None
    valid: np.ndarray | None = None
    band_names: tuple[str, ...] = ("red", "green", "blue")

    def counts(self) -> dict[str, object]:
        """The truth summary written to ``*.truth.json`` (without the file name)."""
        out: dict[str, object] = {
            "station": self.station_name,
            "acquired": self.acquired.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "gsd_m": float(self.spec.gsd_m),
            "crs": self.crs.to_string(),
            "seed": int(self.spec.seed),
        }
        out.update(self.truth.counts())
        out["sun_azimuth_deg"] = round(self.sun.azimuth_deg, 2)
        out["sun_elevation_deg"] = round(self.sun.elevation_deg, 2)
        if not self.spec.plain:
            out["realism"] = self.spec.realism
            out["product"] = self.spec.product.to_text()
            out["bands"] = list(self.band_names)
            out["conditions"] = self.spec.conditions.to_text()
        return out


def _auto_supersample(gsd: float, n_pixels: int) -> int:
    ss = int(np.clip(round(gsd / 0.16), 2, 4))
    while ss > 1 and n_pixels * ss * ss > _MAX_RENDER_PIXELS:
        ss -= 1
    return ss


def _output_grids(site: SiteLayout, gsd: float, dst: CRS) -> tuple[Grid, Grid | None]:
    """(UTM grid to render on at output GSD, output grid in ``dst`` or None if same CRS).

    For another CRS the output grid covers the site's extent with pixels that
    are ``gsd`` metres on the ground, and the UTM grid is grown (on the same
    pixel lattice) until it covers the whole output grid, so no edge is empty.
    """
    xmin, ymin, xmax, ymax = site.extent
    cols, rows = round((xmax - xmin) / gsd), round((ymax - ymin) / gsd)
    if dst == CRS.from_epsg(site.epsg):
        return Grid(Affine(gsd, 0, xmin, 0, -gsd, ymax), (rows, cols)), None
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    ex, ey = warp_transform(site.crs, dst, [cx, cx + gsd, cx], [cy, cy, cy + gsd])
    res_x, res_y = math.hypot(ex[1] - ex[0], ey[1] - ey[0]), math.hypot(ex[2] - ex[0], ey[2] - ey[0])
    left, bottom, right, top = transform_bounds(site.crs, dst, *site.extent, densify_pts=21)
    d_cols, d_rows = math.ceil((right - left) / res_x), math.ceil((top - bottom) / res_y)
    out = Grid(Affine(res_x, 0, left, 0, -res_y, top), (d_rows, d_cols))
    sx0, sy0, sx1, sy1 = transform_bounds(
        dst, site.crs, left, top - d_rows * res_y, left + d_cols * res_x, top, densify_pts=21
    )
    c0 = math.floor((sx0 - xmin) / gsd) - 2
    c1 = math.ceil((sx1 - xmin) / gsd) + 2
    r0 = math.floor((ymax - sy1) / gsd) - 2
    r1 = math.ceil((ymax - sy0) / gsd) + 2
    src = Grid(Affine(gsd, 0, xmin + c0 * gsd, 0, -gsd, ymax - r0 * gsd), (r1 - r0, c1 - c0))
    return src, out


def _acquisition(spec: SceneSpec, site: SiteLayout, rng: np.random.Generator) -> tuple[datetime, Sun]:
    day = parse_date(spec.date)
    when = acquisition_time(day, site.lonlat[0], rng)  # always drawn: keeps streams aligned
    if spec.time_utc is not None:
        hh, mm, ss = (int(p) for p in spec.time_utc.split(":"))
        when = datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=timezone.utc)
    sun = solar_position(when, *site.lonlat)
    sun = Sun(
        spec.sun_azimuth_deg if spec.sun_azimuth_deg is not None else sun.azimuth_deg,
        spec.sun_elevation_deg if spec.sun_elevation_deg is not None else max(sun.elevation_deg, 8.0),
    )
    return when, sun


def plan_layout(spec: SceneSpec, site: SiteLayout | None = None) -> SceneLayout:
    """What :func:`synthesize` places for ``spec`` before painting: the site, its vehicles, the
    acquisition time and the sun (the same draws, so the same layout)."""
    site = spec_site(spec) if site is None else site
    r_layout = spec.streams()[0]
    acquired, sun = _acquisition(spec, site, r_layout)
    locos = int(r_layout.integers(0, 3))
    if spec.locomotives is not None:
        locos = spec.locomotives
    elif spec.site == "town":
        locos = 0  # a look-alike block has no track to stand on
    v2 = spec.realism == "v2"
    vehicles = plan_scene(
        site,
        cars=spec.cars,
        locomotives=locos,
        outside_cars=spec.outside_cars,
        distractors=spec.distractors,
        rng=r_layout,
        extras_rng=spec.named_rng(STREAM_PLAN_V2) if v2 else None,
        lengths_rng=spec.named_rng(STREAM_LENGTHS_V2) if v2 else None,
    )
    if v2:
        winter = season_of(acquired.month) == "winter"
        snowy = spec.conditions.snow
        snow = roof_snow(vehicles, spec.named_rng(STREAM_PLAN_V2 + 1), snow=snowy, winter=winter)
        vehicles = replace(vehicles, snow=snow)
    return SceneLayout(site, vehicles, sun, acquired)


def synthesize(spec: SceneSpec) -> SynthScene:
    """Synthesise one scene: plan the layout, paint it, image it, georeference it.

    Pure: no files are read or written; equal specs give identical pixels and truth.

    >>> scene = synthesize(SceneSpec(cars=5, gsd_m=1.0, seed=3))
    >>> scene.truth.counts()["railcars"], scene.pixels.dtype.name
    (5, 'uint8')
    """
    site = spec_site(spec)
    v2, cond, product = spec.realism == "v2", spec.conditions, spec.product
    _, r_texture, r_noise = spec.streams()
    layout = plan_layout(spec, site)
    vehicles, sun, acquired = layout.vehicles, layout.sun, layout.acquired
    crowns: tuple[Area, ...] = ()
    if spec.vegetation:
        crowns = plan_vegetation(site, spec.named_rng(STREAM_VEGETATION))
        crowns += plan_weeds(site, vehicles, spec.named_rng(STREAM_VEGETATION + 2))
    r_cond = spec.named_rng(STREAM_CONDITIONS)
    lean = lean_vector(cond, r_cond)
    sky = make_sky(site, sun, cond, r_cond) if cond.cloud or cond.thin_cloud or cond.haze else None

    dst = CRS.from_user_input(spec.crs) if spec.crs else CRS.from_epsg(site.epsg)
    src, out = _output_grids(site, float(spec.gsd_m), dst)
    ss = spec.supersample or _auto_supersample(float(spec.gsd_m), src.shape[0] * src.shape[1])
    fine = src.fine(ss)
    if v2:
        reflectance = paint_v2(
            layout,
            fine,
            rng=r_texture,
            snow=cond.snow,
            lean=lean,
            crowns=crowns,
            foliage_rng=spec.named_rng(STREAM_VEGETATION + 1),
        )
    else:
        reflectance = paint(layout, fine, rng=r_texture)
    if spec.plain:
        pixels = sense(reflectance, ss, r_noise)
    else:
        pixels = sense_v2(
            reflectance,
            ss,
            r_noise,
            bands=product.bands,
            sky=sky.on_grid(src) if sky is not None else None,
            # Under a cloud's shadow no direct sun: the cast shadows there stay as they were.
            direct=direct_light(layout, fine, lean=lean, crowns=crowns) if v2 and cond.cloud else None,
            tint=SNOW_SHADOW_TINT if cond.snow else SHADOW_TINT,
            blur=cond.blur,
            noise=cond.noise,
            sharpen=v2,
        )
    del reflectance
    edge = _swath_edge(site, spec.named_rng(STREAM_EDGE)) if product.swath_edge else None
    pixels, valid, out = _deliver(pixels, src, out, site, dst, edge=edge, jpeg=cond.jpeg_quality)
    truth = _scene_truth(
        vehicles, site, out, dst, structures=v2, visibility=not spec.plain, sky=sky, edge=edge, crowns=crowns
    )
    return SynthScene(
        spec=spec,
        pixels=pixels,
        transform=out.transform,
        crs=dst,
        truth=truth,
        station=site.station_lonlat,
        station_name=site.station_name,
        acquired=acquired,
        sun=sun,
        site=site,
        valid=valid,
        band_names=BAND_NAMES[product.bands],
    )


_Edge = tuple[np.ndarray, np.ndarray]  # (point, unit normal) in map metres; nodata where (xy - p) . n < 0


def _deliver(
    pixels: np.ndarray,
    src: Grid,
    out: Grid | None,
    site: SiteLayout,
    dst: CRS,
    *,
    edge: _Edge | None,
    jpeg: int | None,
) -> tuple[np.ndarray, np.ndarray | None, Grid]:
    """Reproject to the output grid, then JPEG artefacts, then the swath edge's nodata:
    (pixels, valid mask or None, output grid)."""
    valid = None
    if edge is not None:
        x, y = src.centres(0, src.shape[0], 0, src.shape[1])
        valid = ((x - edge[0][0]) * edge[1][0] + (y - edge[0][1]) * edge[1][1]) >= 0
    if out is None:
        out = src
    else:
        pixels = _reproject(pixels, src, site, out, dst, Resampling.bilinear)
        if valid is not None:
            as_band = valid[..., None].astype(np.uint8)
            valid = _reproject(as_band, src, site, out, dst, Resampling.nearest)[..., 0] > 0
    if jpeg is not None:
        pixels = jpeg_artefacts(pixels, jpeg)
    if valid is not None:  # valid data never reads as nodata
        pixels = np.where(valid[..., None], np.maximum(pixels, 1), 0).astype(pixels.dtype)
    return pixels, valid, out


def _scene_truth(
    vehicles: Vehicles,
    site: SiteLayout,
    out: Grid,
    dst: CRS,
    *,
    structures: bool,
    visibility: bool,
    sky: Sky | None,
    edge: _Edge | None,
    crowns: tuple[Area, ...] = (),
) -> Truth:
    """Truth of the vehicles (and, if asked, structures, hedges and trees) whose centre falls inside
    the raster, with the visibility columns when asked."""

    def in_raster(xy: np.ndarray) -> np.ndarray:
        cx, cy = warp_transform(site.crs, dst, xy[:, 0], xy[:, 1])
        col_row = out.to_px(np.stack([cx, cy], -1))
        return (
            (col_row[:, 0] >= 0)
            & (col_row[:, 0] < out.shape[1])
            & (col_row[:, 1] >= 0)
            & (col_row[:, 1] < out.shape[0])
        )

    keep = in_raster(vehicles.center)
    kept: list[Area] = []
    standing = (*site.structures, *crowns)
    if structures and standing:
        rects = structure_rectangles(standing)
        inside = in_raster(np.array([r[0].mean(axis=0) for r in rects]))
        kept = [a for a, k in zip(standing, inside, strict=True) if k]
    truth = build_truth(vehicles, site, keep, structures=kept)
    if not visibility:
        return truth
    corners = vehicles.take(np.flatnonzero(keep)).corners()
    if kept:
        corners = np.concatenate([corners, np.array([r[0] for r in structure_rectangles(kept)])])
    hidden = sky.hidden(corners) if sky is not None else np.zeros(len(corners), dtype=bool)
    nodata = np.zeros(len(corners), dtype=bool)
    if edge is not None:
        nodata = ((corners.mean(axis=1) - edge[0]) @ edge[1]) < 0
    return replace(truth, hidden_by_cloud=hidden, in_nodata=nodata)


def _reproject(
    pixels: np.ndarray, src: Grid, site: SiteLayout, out: Grid, dst: CRS, how: Resampling
) -> np.ndarray:
    dst_pixels = np.zeros((pixels.shape[-1], *out.shape), pixels.dtype)
    reproject(
        np.moveaxis(pixels, -1, 0),
        dst_pixels,
        src_transform=src.transform,
        src_crs=CRS.from_epsg(site.epsg),
        dst_transform=out.transform,
        dst_crs=dst,
        resampling=how,
        num_threads=1,
    )
    return np.ascontiguousarray(np.moveaxis(dst_pixels, 0, -1))


def _swath_edge(site: SiteLayout, rng: np.random.Generator) -> _Edge:
    """(point, unit normal) in map metres of a straight swath edge that cuts the station,
    leaving 15-50 % of it beyond (where ``(xy - point) . normal < 0``)."""
    st = site.station
    x0, y0, x1, y1 = st.bounds
    big = 4 * max(x1 - x0, y1 - y0)
    best = None
    for _ in range(100):
        p = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
        a = rng.uniform(0, 2 * math.pi)
        n = np.array([math.cos(a), math.sin(a)])
        if not st.contains(shapely.Point(p)):
            continue
        t = np.array([-n[1], n[0]])
        beyond = Polygon([p + t * big, p + t * big - n * big, p - t * big - n * big, p - t * big])
        frac = st.intersection(beyond).area / st.area
        best = (p, n)
        if 0.15 <= frac <= 0.5:
            break
    if best is None:
        raise RuntimeError("no swath edge found")  # unreachable for a station of positive area
    return best
