"""The second look at turned-down candidates (railcount.detect.exemplars; a switch, off by default).

A drawn 0.75 m window: a believed consist of six lit cars with their shadows,
a consist of four such cars elsewhere that the car model turned down, a
single such car (a truck's look) and a chain of three candidates on bare
ballast, both turned down too. Only the second consist is the scene's cars
seen again, in a chain.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from rasterio.crs import CRS
from rasterio.transform import from_origin
from shapely.geometry import box

from railcount.detect.exemplars import chain_sizes, rescued
from railcount.detect.params import DetectorParams
from railcount.models import SceneWindow, Station

from .geofixtures import muttenz_west_coarser

GSD = 0.75
CAR_M, GAP_M = 14.0, 1.0


def px(m: float) -> int:
    return round(m / GSD)


def draw_car(image: np.ndarray, row: int, col: int) -> None:
    """A lit roof 3 m wide and 14 m long centred at (row, col), its shadow 3 m wide below it."""
    half_l, half_w = px(CAR_M) // 2, px(3.0) // 2
    image[row - half_w : row + half_w + 1, col - half_l : col + half_l] = 205
    image[row + half_w + 1 : row + half_w + 1 + px(3.0), col - half_l : col + half_l] = 35


@pytest.fixture(scope="module")
def scene():
    rng = np.random.default_rng(7)
    rows, cols = 260, 420
    image = rng.normal(120.0, 14.0, (rows, cols)).clip(0, 255)
    pitch = px(CAR_M + GAP_M)
    believed = [(40, 40 + k * pitch) for k in range(6)]
    turned_down = [(120, 60 + k * pitch) for k in range(4)]
    truck = [(200, 80)]
    bare = [(200, 220 + k * pitch) for k in range(3)]  # nothing drawn: ballast
    for r, c in believed + turned_down + truck:
        draw_car(image, r, c)
    pixels = np.repeat(image.astype(np.uint8)[..., None], 3, axis=2)
    window = SceneWindow(
        pixels=pixels,
        data=np.ones((rows, cols), bool),
        inside=np.ones((rows, cols), bool),
        transform=from_origin(500000.0, 4700000.0, GSD, GSD),
        crs=CRS.from_epsg(32652),
        gsd_m=GSD,
        scene_id="drawn",
        station=Station("drawn", box(130.0, 42.0, 130.01, 42.01)),
    )
    centres = np.array(believed + turned_down + truck + bare, float)
    n = len(centres)
    prob = np.array([0.9] * 6 + [0.1] * 4 + [0.1] + [0.1] * 3)
    groups = {
        "believed": slice(0, 6),
        "turned_down": slice(6, 10),
        "truck": slice(10, 11),
        "bare": slice(11, 14),
    }
    return window, centres, np.zeros(n), np.full(n, px(CAR_M), float), prob, groups


def second_look(scene, **changes) -> np.ndarray:
    window, centres, angles, lengths, prob, _ = scene
    params = dataclasses.replace(DetectorParams(exemplar_rescue=True), **changes)
    n = len(prob)
    return rescued(window, centres, angles, lengths, prob, np.full(n, 0.35), np.ones(n, bool), params)


def test_the_turned_down_consist_is_kept_and_nothing_else(scene):
    groups = scene[-1]
    kept = second_look(scene)
    assert kept[groups["turned_down"]].all()
    assert not kept[groups["believed"]].any()  # already kept: not a second look
    assert not kept[groups["truck"]].any()  # alone on its line
    assert not kept[groups["bare"]].any()  # in a chain, but not like the scene's cars


def test_a_lone_look_alike_passes_only_without_the_chain(scene):
    groups = scene[-1]
    assert second_look(scene, rescue_chain=1)[groups["truck"]].all()


def test_too_few_confident_cars_or_switched_off_keeps_nothing(scene):
    assert not second_look(scene, exemplar_min_count=7).any()
    assert not second_look(scene, exemplar_rescue=False).any()
    assert not second_look(scene, exemplar_min_probability=0.95).any()


def test_candidates_below_the_least_probability_are_not_looked_at(scene):
    assert not second_look(scene, rescue_min_probability=0.2).any()


def test_a_consist_read_at_another_direction_is_not_kept(scene):
    window, centres, angles, lengths, prob, groups = scene
    turned = angles.copy()
    turned[groups["turned_down"]] = 30.0  # its own direction: no confident car of it
    params = DetectorParams(exemplar_rescue=True)
    n = len(prob)
    kept = rescued(window, centres, turned, lengths, prob, np.full(n, 0.35), np.ones(n, bool), params)
    assert not kept.any()


def test_chains_link_end_to_end_on_one_line():
    centres = np.array([[0.0, 0.0], [0.0, 20.0], [1.0, 40.0], [0.0, 80.0], [6.0, 20.0]])
    lengths = np.full(5, 19.0)
    # 1 m steps: the third is 1 m across (a wobble), the fourth 21 m past the third's end,
    # the fifth a track over.
    assert chain_sizes(centres, np.zeros(5), lengths, 1.0).tolist() == [3, 3, 3, 1, 1]
    # The same cars at an angle to the grid chain the same way.
    t = np.deg2rad(40.0)
    rot = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])  # (row, col) turned by 40 degrees
    turned = centres @ rot.T
    assert chain_sizes(turned, np.full(5, 40.0), lengths, 1.0).tolist() == [3, 3, 3, 1, 1]


def test_real_wagons_turned_down_at_0_75_m_are_found_again(shared_real, tmp_path):
    """Muttenz west averaged to 0.75 m: the second look finds wagons the car model turned down, and
    what it adds is on wagons more often than not, drawn dashed at the threshold it missed."""
    import warnings

    from railcount.detect.detector import detect
    from railcount.evaluate import match_pairs

    window, stock = muttenz_west_coarser(shared_real, tmp_path, 0.75)
    truth = stock.cars
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        off = detect(window, DetectorParams(exemplar_rescue=False))
        on = detect(window, DetectorParams(exemplar_rescue=True))
    radius = 7.5 / window.gsd_m
    found_off = len(match_pairs(off.center, truth, radius))
    found_on = len(match_pairs(on.center, truth, radius))
    added = len(on) - len(off)
    assert found_on > found_off
    assert found_on - found_off >= added - (found_on - found_off)  # no more false than true added
    new = ~np.isin(np.round(on.score, 6), np.round(off.score, 6))
    assert new.any() and (on.score[new] < 0.7).all()  # drawn dashed
