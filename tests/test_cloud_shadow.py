"""A cloud's shadow: found, left out of the observed fraction, its cars kept, and said on every output."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import rasterio

from railcount.cautions import caption, cloud_shadow_caution, is_cloud_shadow
from railcount.counting import interval
from railcount.detect.cloud import cloud_shadow, hide_cloud, opaque_cloud
from railcount.errors import CloudShadowWarning, PartialViewWarning
from railcount.io.outputs import _SHADE
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.models import Detections
from railcount.pipeline import count_scene

from .geofixtures import SAMPLE_SCENE, SAMPLE_STATION

RADIUS_M = 60.0
DIFFUSE = 0.28
"""What a cloud's shadow leaves of sunlit ground: about a cast shadow's share (0.24-0.30)."""


def _disk(shape_rc: tuple[int, int], centre_rc: tuple[float, float], radius_px: float) -> np.ndarray:
    """The disk's opacity (0-1) over an image, with a soft rim a tenth of its radius wide."""
    rows, cols = np.mgrid[: shape_rc[0], : shape_rc[1]]
    d = np.hypot(rows - centre_rc[0], cols - centre_rc[1])
    rim = 0.1 * radius_px
    return np.clip((radius_px + rim / 2 - d) / rim, 0.0, 1.0)


@pytest.fixture(scope="module")
def shaded(tmp_path_factory):
    """The README's sample with a cloud's shadow (a 60 m disk lit by the sky alone) over its station."""
    folder = tmp_path_factory.mktemp("shade")
    (window,) = read_windows(SAMPLE_SCENE, read_stations(SAMPLE_STATION))
    rows, cols = np.nonzero(window.inside)
    x, y = window.transform * (cols.mean() + 0.5, rows.mean() + 0.5)  # the station's middle, on the map
    with rasterio.open(SAMPLE_SCENE) as ds:
        pixels, profile, tags = ds.read(), ds.profile, ds.tags()
        row, col = ds.index(x, y)
        gsd = abs(ds.transform.a)
    opacity = _disk(pixels.shape[1:], (row, col), RADIUS_M / gsd)
    dim = (1.0 - (1.0 - DIFFUSE) * opacity)[None]
    darker = np.round(pixels.astype(np.float32) * dim).astype(pixels.dtype)
    path = folder / "tumangang_2023-10-05.tif"
    with rasterio.open(path, "w", **profile) as out:
        out.write(darker)
        out.update_tags(**tags)
    return path, opacity >= 0.5, (row, col)


def test_a_clear_sample_has_no_shade():
    (window,) = read_windows(SAMPLE_SCENE, read_stations(SAMPLE_STATION))
    assert not cloud_shadow(window, opaque_cloud(window)).any()


def test_the_disk_is_found(shaded):
    path, disk, _ = shaded
    (window,) = read_windows(path, read_stations(SAMPLE_STATION))
    # The window's pixels as the disk's: the window is a crop of the scene.
    with rasterio.open(path) as ds:
        r0, c0 = ds.index(window.transform.c, window.transform.f)
    truth = disk[r0 : r0 + window.shape[0], c0 : c0 + window.shape[1]]
    found = cloud_shadow(window, opaque_cloud(window))
    inside = window.inside & window.data
    hit = (found & truth & inside).sum() / (truth & inside).sum()
    spill = (found & ~truth & inside).sum() / (~truth & inside).sum()
    assert hit > 0.8, hit
    assert spill < 0.02, spill


def test_the_count_leaves_the_shade_out_of_what_it_observed(shaded, tmp_path):
    path, _, _ = shaded
    stations = read_stations(SAMPLE_STATION)
    (clear,) = count_scene(SAMPLE_SCENE, stations)
    with pytest.warns(PartialViewWarning), pytest.warns(CloudShadowWarning):  # 76 % seen
        (sc,) = count_scene(path, stations, out_dir=tmp_path)
    assert sc.shade is not None and sc.shade.any()
    share = float((sc.shade & sc.window.inside).sum()) / float(sc.window.inside.sum())
    assert clear.result.observed_fraction == pytest.approx(1.0)
    assert sc.result.observed_fraction == pytest.approx(1.0 - share, abs=0.01)
    # The interval's upper end makes room for what the shade hid, as for opaque cloud.
    r = sc.result
    assert (r.railcars_low, r.railcars_high) == interval(r.railcars, r.unsure_share, r.observed_fraction)
    assert r.railcars_high > interval(r.railcars, r.unsure_share, 1.0)[1]
    # The cars found in the shade are counted: the shade is taken out of the data alone.
    record = json.loads((tmp_path / "count.json").read_text())
    assert record["observed_fraction"] == pytest.approx(r.observed_fraction, abs=1e-4)
    assert any(is_cloud_shadow(w) for w in record["warnings"])
    # The overlay hatches the shade in light grey, and only there.
    picture = sc.overlay()[:, :, ::-1]  # back to BGR, as the palette is written
    grey = (picture == np.array(_SHADE, np.uint8)).all(axis=2)
    assert grey.sum() > 0.05 * sc.shade.sum()


def test_cars_in_the_shade_are_kept_and_only_its_data_goes(shaded):
    path, _, _ = shaded
    (window,) = read_windows(path, read_stations(SAMPLE_STATION))
    cloud = opaque_cloud(window)
    shade = cloud_shadow(window, cloud)
    rows, cols = np.nonzero(shade)
    at = np.array([[rows[len(rows) // 2], cols[len(cols) // 2]]], float)
    dets = Detections(
        center=at,
        length=np.array([30.0]),
        width=np.array([6.0]),
        angle_deg=np.array([0.0]),
        score=np.array([0.9]),
        kind=np.array(["railcar"]),
        method=np.array(["gap"]),
        tarped=np.array([False]),
    )
    seen, kept, _ = hide_cloud(window, dets, cloud, shade)
    assert len(kept) == 1
    assert not (seen.data & shade).any()
    assert (seen.data | shade | cloud).sum() == window.data.sum()


def test_the_caution_names_the_share_and_is_recognised():
    text = cloud_shadow_caution("Yard", 0.23)
    assert text.startswith("Yard: 23 % of the station") and is_cloud_shadow(text)
    assert cloud_shadow_caution("Yard", 0.005) == ""
    assert "wide shadow" in caption([text], 0.5)


def test_real_scenes_have_no_shade(shared_real):
    for tif, station in (
        ("muttenz/muttenz_2018.tif", "muttenz/station_all.geojson"),
        ("joplin/joplin_2011.tif", "joplin/station_rail.geojson"),
        ("joplin/joplin_2011.tif", "joplin/station_lot.geojson"),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (a date but no time of day: the sun's caution)
            (window,) = read_windows(shared_real / tif, read_stations(shared_real / station))
        assert not cloud_shadow(window, opaque_cloud(window)).any(), station


def test_a_batch_log_line_and_a_report_name_the_wide_shadow(capsys):
    from datetime import date

    from railcount.batch import Progress
    from railcount.cli.batch import log_line
    from railcount.report.baseline import Observation, compare

    shaded = cloud_shadow_caution("Yard", 0.3)
    count = {"railcars": 12, "observed_fraction": 0.7, "warnings": [shaded]}
    outcome = {"status": "ok", "station": "Yard", "count": count}
    log_line(
        Progress(done=1, failed=0, total=1, elapsed_s=2.0, scene="/data/cloudy.tif", outcomes=(outcome,))
    )
    assert "cloudy.tif: Yard 12 railcars (warning: a wide shadow, 70% observed, likely low)" in (
        capsys.readouterr().err
    )
    # A report names the kind among its baseline's warnings; the shaded count, under 80 % observed,
    # is left out of the baseline.
    history = [
        Observation(
            date(2022, m, 15), 20, observed_fraction=0.9 if m == 5 else 1.0, warnings=(shaded,) * (m == 5)
        )
        for m in range(2, 10)
    ] + [Observation(date(2022, 10, 15), 8, observed_fraction=0.7, warnings=(shaded,))]
    c = compare(Observation(date(2023, 10, 5), 30), history)
    (said,) = [k for k in c.caveats if "baseline counts came with a warning" in k]
    assert said.startswith(
        "1 of the 8 baseline counts came with a warning (a cloud's or building's wide shadow"
    )
    assert len(c.excluded) == 1 and c.excluded[0].date == date(2022, 10, 15)


def test_the_generator_takes_the_direct_sun_away_under_a_cloud_s_shadow():
    """Under a cloud's shadow sunlit ground falls to a cast shadow's share of the light and a cast
    shadow stays as it was: the cars cast none there, as under a real cloud's shadow."""
    from railcount.synth.sensor import _cloud_shadow_factor
    from railcount.synth.structures import SHADOW_TINT

    shadow = np.array([[0.0, 1.0, 1.0, 0.5]], np.float32)
    direct = np.array([[1.0, 1.0, 0.0, 1.0]], np.float32)
    f = _cloud_shadow_factor(shadow, direct, SHADOW_TINT, 1)
    np.testing.assert_allclose(f[0, 0], 1.0)  # no cloud's shadow: nothing changes
    np.testing.assert_allclose(f[0, 1, :3], SHADOW_TINT, rtol=1e-6)  # sunlit ground: skylight alone
    np.testing.assert_allclose(f[0, 2], 1.0)  # a cast shadow: had no direct sun to lose
    np.testing.assert_allclose(f[0, 3, :3], 0.5 + 0.5 * SHADOW_TINT, rtol=1e-6)  # half the shadow
    # A sunlit pixel beside a cast one, both under the shadow: the same light, no shadow between them.
    canvas_lit, canvas_cast = 1.0, SHADOW_TINT  # (reflectance 1, as painted)
    np.testing.assert_allclose(canvas_lit * f[0, 1, :3], canvas_cast * f[0, 2, :3], rtol=1e-6)


def test_direct_light_is_none_in_cast_shadows_and_full_on_roofs():
    from railcount.synth import SceneSpec
    from railcount.synth.render import _output_grids, direct_light, plan_layout
    from railcount.synth.sites import spec_site
    from railcount.synth.structures import shadow_polys_v2

    spec = SceneSpec(cars=20, gsd_m=1.0, seed=5, realism="v2", conditions="cloud=0.3")
    site = spec_site(spec)
    layout = plan_layout(spec, site)
    grid, _ = _output_grids(site, 1.0, site.crs)
    direct = direct_light(layout, grid)
    roofs = grid.mask(list(layout.vehicles.corners())) > 0.99
    buildings = [np.asarray(a.polygon.exterior.coords)[:-1] for a in site.areas if a.height_m > 0]
    cast = grid.mask(shadow_polys_v2(layout.vehicles, site, layout.sun)) > 0.99
    cast &= grid.mask([*layout.vehicles.corners(), *buildings]) == 0
    assert roofs.any() and cast.any()
    assert direct[roofs].min() > 0.99
    assert np.median(direct[cast]) < 0.2  # (softened at their edges)
