"""A station window too large to count whole in the memory free is counted in tiles: each tile reaches
60 m past its share of the window, and each car is counted by the tile that holds its centre, once."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from railcount.cautions import is_tiled
from railcount.cli import main
from railcount.detect.tiles import tile_seams, tile_windows
from railcount.errors import TiledCountWarning
from railcount.io.memory import LIMIT_ENV, MIN_TILE_M, TILE_OVERLAP_M, needed_bytes, plan_tiles
from railcount.io.scenes import read_windows
from railcount.io.stations import read_stations
from railcount.models import SceneWindow

from .geofixtures import array_window
from .test_memory_guard import count_in_group

SAMPLES = Path(__file__).resolve().parents[1] / "sample_tiles"
SCENE = SAMPLES / "tumangang_2022-08-30.tif"  # 0.3 m, a 620 x 430 m window
TRUTH = SAMPLES / "tumangang_2022-08-30.truth.geojson"
STATION = SAMPLES / "tumangang_station.geojson"


def _window(rows: int, cols: int, gsd: float) -> SceneWindow:
    pixels = np.arange(rows * cols, dtype=np.uint32).reshape(rows, cols, 1).view(np.uint8)[:, :, :3]
    return array_window(np.ascontiguousarray(pixels), gsd)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(300, 2500),
    cols=st.integers(300, 2500),
    grid=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    gsd=st.sampled_from([0.3, 0.5, 1.0]),
)
def test_the_shares_cover_the_window_once_and_each_tile_holds_its_share_and_the_overlap(
    rows, cols, grid, gsd
):
    w = _window(rows, cols, gsd)
    tiles = tile_windows(w, grid)
    assert len(tiles) == grid[0] * grid[1]
    covered = np.zeros((rows, cols), np.int8)
    reach = int(np.ceil(TILE_OVERLAP_M / gsd))
    for t in tiles:
        r0, r1, c0, c1 = t.share
        covered[r0:r1, c0:c1] += 1
        top, left = t.offset
        h, wd = t.shape
        cut = t.cut(w)
        # The tile's pixels are the window's, and its transform places them where the window's are.
        assert cut.shape == t.shape
        assert np.array_equal(cut.pixels, w.pixels[top : top + h, left : left + wd])
        assert cut.transform * (0, 0) == w.transform * (left, top)
        # Its share and the overlap past it (where there is window) lie inside it.
        assert top <= max(0, r0 - reach) and top + h >= min(rows, r1 + reach)
        assert left <= max(0, c0 - reach) and left + wd >= min(cols, c1 + reach)
    assert (covered == 1).all()


def test_the_plan_is_the_fewest_tiles_that_fit():
    free = 2 * 10**9
    rows, cols = plan_tiles(6000, 16000, 0.3, free)  # a 1.8 x 4.8 km window at 0.3 m: 8.3 GB whole
    pad = 2 * int(np.ceil(TILE_OVERLAP_M / 0.3))
    room = free - 6000 * 16000 * 10

    def fits(r: int, c: int) -> bool:
        h, w = -(-6000 // r) + (pad if r > 1 else 0), -(-16000 // c) + (pad if c > 1 else 0)
        return needed_bytes(min(h, 6000), min(w, 16000), 0.3) <= room

    assert fits(rows, cols)
    assert not any(fits(r, c) for r in range(1, 9) for c in range(1, 17) if r * c < rows * cols)
    assert plan_tiles(1500, 4000, 0.3, 10**9) == (1, 1)  # fits whole
    # Tiles under 250 m across are not made: a window 400 m across is never cut across.
    assert plan_tiles(1333, 20000, 0.3, 10**9) is None or plan_tiles(1333, 20000, 0.3, 10**9)[0] == 1
    assert MIN_TILE_M == 250.0


def _least_tiled_limit(window) -> int:
    """The least memory limit (in 1 % steps below the whole window's need) at which it is counted in tiles."""
    need = needed_bytes(*window.shape, window.gsd_m)
    for limit in range(need // 2, need, need // 100):
        if plan_tiles(*window.shape, window.gsd_m, limit) not in (None, (1, 1)):
            return limit
    raise AssertionError("the window is never counted in tiles")


def test_a_count_in_tiles_counts_each_car_once_and_says_so(tmp_path, monkeypatch, capsys):
    """The 0.3 m sample under a memory limit that fits only tiles of it: counted (exit 0), with the
    caution on stderr, in count.json and on the overlay's caption, no car twice along the seam, and as
    good a match to the truth as counted whole (detector 0.6.25: whole 27, F1 0.95; in 1 x 2 tiles 29,
    F1 0.88 since session 69, 0.91 in session 68: one matched car fewer, beside a consist by the
    warehouse, far from the seam)."""
    (window,) = read_windows(SCENE, read_stations(STATION))
    assert main(["evaluate", str(SCENE), "--station", str(STATION), "--truth", str(TRUTH), "--json"]) == 0
    whole = json.loads(capsys.readouterr().out.strip())
    limit = _least_tiled_limit(window)
    grid = plan_tiles(*window.shape, window.gsd_m, limit)
    monkeypatch.setenv(LIMIT_ENV, str(limit))
    args = ["evaluate", str(SCENE), "--station", str(STATION), "--truth", str(TRUTH), "--json"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    tiled = json.loads(captured.out.strip())
    assert any(is_tiled(line) and f"{grid[0]} x {grid[1]}" in line for line in captured.err.splitlines())
    record = json.loads((tmp_path / "count.json").read_text())
    assert any(is_tiled(w) for w in record["warnings"])
    # No two railcars on one spot: the seam's cars were counted by one tile each.
    cars = json.loads((tmp_path / "detections.geojson").read_text())["features"]
    centres = np.array([np.mean(f["geometry"]["coordinates"][0][:-1], axis=0) for f in cars])
    metres = (centres - centres.mean(axis=0)) * [np.cos(np.radians(centres[:, 1].mean())) * 111_320, 110_540]
    apart = np.hypot(*(metres[:, None, :] - metres[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(apart, np.inf)
    assert apart.min() > 3.0, apart.min()
    # The seams are drawn on the overlay: a dotted white line down each column where tiles meet.
    picture = cv2.imread(str(tmp_path / "overlay.png"))
    scale = picture.shape[1] // window.shape[1]
    banner = picture.shape[0] - window.shape[0] * scale
    white = (picture[banner:] > 235).all(axis=2)
    for col in tile_seams(window.shape, grid)[1]:
        assert white[:, col * scale].mean() > 0.3
    assert white[:, (col + 40) * scale].mean() < 0.1
    # And on the evaluation's picture.
    evaluation = cv2.imread(str(tmp_path / "evaluation.png"))
    banner = evaluation.shape[0] - window.shape[0] * scale
    assert (evaluation[banner:, col * scale] > 235).all(axis=1).mean() > 0.3
    assert abs(tiled["railcars"] - whole["railcars"]) <= max(4, 0.15 * whole["truth"])
    assert tiled["f1"] >= whole["f1"] - 0.08, (tiled, whole)


def test_the_python_interface_draws_the_same_seams(tmp_path, monkeypatch):
    import railcount

    (window,) = read_windows(SCENE, read_stations(STATION))
    limit = _least_tiled_limit(window)
    monkeypatch.setenv(LIMIT_ENV, str(limit))
    grid = plan_tiles(*window.shape, window.gsd_m, limit)
    assert grid not in (None, (1, 1))
    with pytest.warns(TiledCountWarning, match=f"counted in tiles, {grid[0]} x {grid[1]}"):
        (sc,) = railcount.count(SCENE, STATION, out=tmp_path)
    assert sc.grid == grid
    assert np.array_equal(sc.overlay(), cv2.imread(str(tmp_path / "overlay.png"))[:, :, ::-1])


def test_in_a_real_memory_group_a_window_too_large_whole_is_counted_in_tiles(tmp_path):
    """A 4002 x 1502 px window at 0.3 m (the speed benchmark's: the 0.3 m sample beside its mirror
    image), which needs about 0.66 GB whole, in real memory cgroups: in 600 MB, refused before session
    68, now counted in tiles within the group (measured: 1 x 3 tiles, a peak of 348 MB; since session 69
    1 x 2 tiles, a peak of 437 MB, the process giving back what it freed before it plans), exit 0, the
    caution on stderr; in 420 MB, where even tiles do not fit, refused in one line (in 450 MB too until
    session 69, when a process began giving back the memory it had freed before it plans a window that
    does not fit whole: there it is now counted in 1 x 4 tiles, a peak of 330 MB; a first version of
    the tiling counted it whole there, and the kernel killed it, exit 137)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from speed import build_scene

    tif, station = build_scene(tmp_path)
    run, peak = count_in_group(600_000_000, str(tif), "--station", str(station), "--json")
    assert run.returncode == 0, (run.returncode, run.stderr[-500:])
    assert any(is_tiled(line) for line in run.stderr.splitlines()), run.stderr
    record = json.loads(run.stdout.strip())
    assert record["railcars"] > 50 and any(is_tiled(w) for w in record["warnings"])
    assert peak < 600_000_000
    run, _ = count_in_group(420_000_000, str(tif), "--station", str(station), "--json")
    err = run.stderr.strip().splitlines()
    assert run.returncode == 1 and len(err) == 1 and "too much even in tiles" in err[0], run.stderr[-500:]


SCENE_05 = SAMPLES / "tumangang_2023-10-05.tif"  # 0.5 m


def _same_as_whole(window, grid, *, exact=True):
    """Each tile of ``window`` prepared with :func:`window_stats` against the whole window prepared: the
    same pixels (to the bit with ``exact``), the same snow share within a hair (its every other pixel
    falls otherwise in a tile), and the same track directions."""
    from railcount.detect.detector import _prepare, direction_patches, near_station, weakest_direction_share
    from railcount.detect.orientation import direction_peaks
    from railcount.detect.params import DetectorParams, working_scale
    from railcount.detect.regions import REGION_GSD_M, coarse, curve_pieces
    from railcount.detect.stretch import band_lifts, lifted
    from railcount.detect.tiles import window_stats

    params = DetectorParams()
    assert working_scale(window.gsd_m, params) == 1.0
    lifts = band_lifts(window, params.stretch_clip_share)  # (a contrast-stretched window's, lifted back)
    whole = _prepare(lifted(window, lifts), 1.0, params)
    tiles = tile_windows(window, grid)
    stats = window_stats(window, params)
    assert stats.lifts == lifts
    for t in tiles:
        part = _prepare(lifted(t.cut(window), stats.lifts), 1.0, params, stats.levels)
        (top, left), (rows, cols) = t.offset, t.shape
        for name in ("rgb", "log_lum", "linear_lum"):
            got, want = getattr(part, name), getattr(whole, name)[top : top + rows, left : left + cols]
            if exact:
                assert np.array_equal(got, want), (name, t)
            else:
                assert np.allclose(got, want, atol=2e-4), (name, t, np.abs(got - want).max())
    assert abs(stats.levels.snow_share - whole.snow_share) < 0.002, (
        stats.levels.snow_share,
        whole.snow_share,
    )
    want = direction_peaks(
        whole.log_lum,
        whole.data,
        window.gsd_m,
        min_share=weakest_direction_share(params),
        max_directions=params.max_directions,
    )
    assert len(stats.peaks) == len(want) and len(want) >= 1
    for (a, sa), (b, sb) in zip(stats.peaks, want, strict=True):
        assert abs(a - b) < 0.01 and abs(sa - sb) < 0.01, (stats.peaks, want)
    small, ok, f = coarse(whole.log_lum, whole.data, window.gsd_m, REGION_GSD_M)
    found = direction_patches(small, ok, window.gsd_m, f, whole.data.shape, want, params)
    assert stats.patched == [bool(ps) for ps in found]
    # The patches and curve pieces the tiles search are the window's, moved into each tile's pixels.
    assert stats.patches is not None and stats.pieces is not None
    assert [len(ps) for ps in stats.patches] == [len(ps) for ps in found]
    for mine, theirs in zip(stats.patches, found, strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(mine, theirs, strict=True))
    near = near_station(window, small)
    pieces = curve_pieces(small, ok, window.gsd_m, f, whole.data.shape, [a for a, _ in want], near)
    assert [(p.angle_deg, p.cells.sum()) for p in stats.pieces] == [
        (p.angle_deg, p.cells.sum()) for p in pieces
    ]
    for t in tiles:
        (top, left), (rows, cols) = t.offset, t.shape
        moved = stats.in_tile(left, top, cols, rows)
        assert moved.pieces is not None and moved.patches is not None
        meets = [
            p
            for p in stats.pieces
            if (p.corners.min(axis=0) < [left + cols, top + rows]).all()
            and (p.corners.max(axis=0) >= [left, top]).all()
        ]
        assert len(moved.pieces) == len(meets)
        for p, q in zip(meets, moved.pieces, strict=True):
            assert np.array_equal(q.corners, p.corners - [left, top])
            cells = np.argwhere(p.cells)[:, ::-1] * p.cell_px + 0.5 * p.cell_px  # a point in each cell
            assert q.owns(cells - [left, top]).all()
    return stats


@pytest.mark.parametrize("grid", [(1, 3), (2, 2)])
def test_tiles_are_prepared_with_the_whole_windows_stretch_haze_snow_and_directions(grid):
    """A window counted in tiles is read as a whole before any tile is counted: its 8-bit tiles are
    stretched to the bit as the whole window is, with its snow share and its track directions (before
    session 69 each tile set its own, and a tile of a long yard found one of its two directions)."""
    (window,) = read_windows(SCENE_05, read_stations(STATION))
    stats = _same_as_whole(window, grid)
    assert stats.levels.haze == 0.0


def test_hazy_11_bit_and_float_tiles_are_prepared_as_the_whole_window():
    """Under a veil of haze (11-bit values all lifted), the haze the whole window would lose is taken
    off every tile, to the bit; float pixels (reflectance) are counted in bins, within a hair."""
    import dataclasses

    (window,) = read_windows(SCENE_05, read_stations(STATION))
    pixels = window.pixels.astype(np.uint16) * 4 + 900
    hazy = dataclasses.replace(window, pixels=pixels, value_range=(0.0, 2047.0))
    stats = _same_as_whole(hazy, (1, 3))
    assert stats.levels.haze > 0.1  # the veil is seen, and taken off
    reflectance = dataclasses.replace(hazy, pixels=pixels.astype(np.float32) / 2047.0, value_range=(0.0, 1.0))
    stats = _same_as_whole(reflectance, (2, 2), exact=False)
    assert stats.levels.haze > 0.1


def test_a_contrast_stretched_window_s_tiles_are_lifted_as_the_whole_window():
    """A window whose darkest tones a stretch clipped (:mod:`railcount.detect.stretch`) has every tile
    lifted by the whole window's offsets, to the bit, not each by its own part's."""
    import dataclasses

    (window,) = read_windows(SCENE_05, read_stations(STATION))
    pix = window.pixels.astype(np.float64)
    clipped = np.clip((pix - 45.0) * 1.5, 0, 255).astype(np.uint8)
    stats = _same_as_whole(dataclasses.replace(window, pixels=clipped), (2, 2))
    assert stats.lifts.stretched and all(v > 0 for v in stats.lifts.lifts)


def test_a_long_yard_counted_in_four_tiles_finds_the_cars_counted_whole(tmp_path):
    """The speed benchmark's window (the 0.3 m sample beside its mirror image: one track direction in
    its left half, another in its right) cut into four tiles side by side: each tile alone finds only its
    own half's direction; with the whole window's levels and directions the tiles count what the
    whole window counts within three cars (session 69: 93 whole, 93 in 1 x 4 tiles; 85 before, when
    each tile read its own; detector 0.6.31 89 whole, 87 tiled; 0.6.32, whose pixels without data take
    the median colour, 90 whole, 87 tiled, each tile's fill within 0.014 of the whole window's)."""
    from railcount.detect.detector import detect
    from railcount.detect.orientation import direction_peaks
    from railcount.detect.params import DetectorParams
    from railcount.detect.prepare import prepare
    from railcount.detect.tiles import detect_in_tiles, window_stats

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from speed import build_scene

    cv2.setNumThreads(1)
    tif, station = build_scene(tmp_path)
    (window,) = read_windows(tif, read_stations(station))
    tiles = tile_windows(window, (1, 4))
    params = DetectorParams()
    own = [direction_peaks(prepare(t.cut(window)).log_lum, t.cut(window).data, 0.3) for t in tiles]
    assert all(len(p) == 1 for p in own), own
    stats = window_stats(window, params)
    assert len(stats.peaks) == 2 and all(stats.patched)
    whole = detect(window, params)
    tiled = detect_in_tiles(window, tiles, params, stats=stats)
    n_whole, n_tiled = (int(np.sum(d.kind != "locomotive")) for d in (whole, tiled))
    assert abs(n_tiled - n_whole) <= 3, (n_tiled, n_whole)


def test_a_lightly_stretched_window_s_tiles_are_levelled_as_the_whole_window():
    """A stretch too light to clip much is levelled (:func:`~railcount.detect.prepare._levelled`, since
    detector 0.6.29): every tile takes the whole window's lift, as the whole window is prepared (the
    window's statistics kept the stretch, haze and snow and left the lift out, so tiles went unlevelled)."""
    import dataclasses

    (window,) = read_windows(SCENE_05, read_stations(STATION))
    pix = window.pixels.astype(np.float64)
    stretched = np.empty_like(window.pixels)
    for k in range(pix.shape[2]):  # each band from its 0.05th to its 99.95th percentile, as a styled export
        lo, hi = np.percentile(pix[:, :, k][window.valid], [0.05, 99.95])
        stretched[:, :, k] = np.clip(np.rint((pix[:, :, k] - lo) * 255.0 / (hi - lo)), 0, 255)
    stats = _same_as_whole(dataclasses.replace(window, pixels=stretched), (1, 3))
    assert not stats.lifts.any and stats.levels.lift > 0
