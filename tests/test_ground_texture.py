"""benchmarks/ground_texture.py and car_profiles.py --texture: the detector's fine texture, and the ground
away from the true cars."""

import sys
from pathlib import Path

import cv2
import numpy as np
from rasterio.transform import from_origin

from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.io.truth import truth_stock
from tests.geofixtures import ORIGIN, box_ring, write_station, write_tif

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from car_profiles import fine_texture
from ground_texture import CLEAR_M, ground_mask, texture_quantiles

ROOT = Path(__file__).resolve().parents[1]
SCENE = ROOT / "sample_tiles" / "tumangang_2022-08-30.tif"
TRUTH = ROOT / "sample_tiles" / "tumangang_2022-08-30.truth.geojson"
STATION = ROOT / "sample_tiles" / "tumangang_station.geojson"
NO_RAILCARS = ROOT / "benchmarks" / "no_railcars.geojson"


def test_the_ground_mask_keeps_clear_of_every_true_car():
    (window,) = read_windows(SCENE, read_stations(STATION))
    mask = ground_mask(window, TRUTH)
    station = window.inside & window.data
    assert mask.any() and not (mask & ~station).any()  # only station pixels, and some of them
    cars = np.zeros(window.shape, np.uint8)
    stock = truth_stock(TRUTH, window)
    assert len(stock.rings) >= 20
    cv2.fillPoly(cars, [np.round(r[:, ::-1]).astype(np.int32) for r in stock.rings], 1)
    # Distance (pixels) from every pixel to the nearest car pixel, and to the nearest locomotive's centre.
    dist = cv2.distanceTransform((cars == 0).view(np.uint8), cv2.DIST_L2, 5)
    rows, cols = np.indices(window.shape)
    loco = np.full(window.shape, np.inf)
    for r, c in stock.locomotives:
        loco = np.minimum(loco, np.hypot(rows - r, cols - c))
    reach = CLEAR_M / window.gsd_m
    assert dist[mask].min() >= reach - 1.5
    assert not len(stock.locomotives) or loco[mask].min() >= 2 * reach - 1.5
    # Station pixels well clear of the cars and locomotives are all kept.
    assert mask[station & (dist > reach + 1.5) & (loco > 2 * reach + 1.5)].all()
    # With no rolling stock in the truth, the whole station is ground.
    assert np.array_equal(ground_mask(window, NO_RAILCARS), station)


def _square_scene(folder: Path, gsd: float) -> tuple[Path, Path]:
    """A flat grey 0.3 m-or-finer scene with one bright 12 m square in its middle, and a station over it."""
    n = round(60 / gsd)
    pixels = np.full((n, n, 3), 90, np.uint8)
    a, b = round(24 / gsd), round(36 / gsd)
    pixels[a:b, a:b] = 200
    tif = write_tif(folder / f"square_{gsd}.tif", pixels, transform=from_origin(*ORIGIN, gsd, gsd))
    x0, y0 = ORIGIN
    station = write_station(folder / "station.geojson", {"s": box_ring(x0 + 5, y0 - 55, x0 + 55, y0 - 5)})
    return tif, station


def test_fine_texture_is_at_the_edges_and_on_the_window_grid(tmp_path):
    for gsd in (0.3, 0.25):  # the second is worked at 0.3 m and mapped back
        tif, station = _square_scene(tmp_path, gsd)
        (window,) = read_windows(tif, read_stations(station))
        tex = fine_texture(window)
        assert tex.shape == window.shape
        bright = np.argwhere(window.pixels[:, :, 0] == 200)  # the square, where the window holds it
        (r0, c0), (r1, c1) = bright.min(axis=0), bright.max(axis=0) + 1
        edge = round(1.5 / gsd)  # texture reaches a few pixels from an edge, not metres
        flat_inside = tex[r0 + edge : r1 - edge, c0 + edge : c1 - edge]
        flat_above = tex[r0 - 4 * edge : r0 - edge, c0:c1]
        assert flat_inside.max() < 1e-3 and flat_above.max() < 1e-3
        # Across the top edge every column is textured.
        assert tex[r0 - 2 : r0 + 2, c0 + edge : c1 - edge].max(axis=0).min() > 0.05


def test_texture_quantiles_read_the_ground_only(tmp_path):
    (window,) = read_windows(SCENE, read_stations(STATION))
    with_cars = texture_quantiles(window, NO_RAILCARS)
    ground = texture_quantiles(window, TRUTH)
    assert np.all(np.diff(ground) >= 0) and np.all(ground > 0)
    # The cars and their shadows are rougher than the yard's ground: leaving them out lowers the top.
    assert ground[-1] < with_cars[-1]
