from __future__ import annotations

import json

import pytest

from railcount.errors import StationError, StationRepairedWarning, UsageError
from railcount.io.stations import read_stations, stations_from_geojson

SQUARE = [[130.0, 42.0], [130.01, 42.0], [130.01, 42.01], [130.0, 42.01], [130.0, 42.0]]


def test_reads_every_named_feature(tmp_path):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "A"},
                "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
            },
            {
                "type": "Feature",
                "properties": {"name": "B"},
                "geometry": {"type": "MultiPolygon", "coordinates": [[SQUARE]]},
            },
        ],
    }
    p = tmp_path / "s.geojson"
    p.write_text(json.dumps(doc))
    stations = read_stations(p)
    assert [s.name for s in stations] == ["A", "B"]
    assert stations[0].geometry.area == pytest.approx(0.0001)


def test_bare_geometry_and_feature_get_default_names():
    geom = {"type": "Polygon", "coordinates": [SQUARE]}
    assert stations_from_geojson(geom)[0].name == "station-1"
    feat = {"type": "Feature", "properties": None, "geometry": geom}
    assert stations_from_geojson(feat)[0].name == "station-1"


def test_self_intersecting_polygon_is_repaired():
    bowtie = [[130.0, 42.0], [130.01, 42.01], [130.01, 42.0], [130.0, 42.01], [130.0, 42.0]]
    with pytest.warns(StationRepairedWarning, match="repaired into 2 parts"):  # said, not silent
        st = stations_from_geojson({"type": "Polygon", "coordinates": [bowtie]})[0]
    assert st.geometry.is_valid and st.geometry.area > 0


@pytest.mark.parametrize(
    "doc, words",
    [
        ({"type": "Point", "coordinates": [130, 42]}, "Point"),
        ({"type": "FeatureCollection", "features": []}, "no station polygon"),
        ({"type": "Polygon", "coordinates": [[[130, 42], [130, 42], [130, 42], [130, 42]]]}, "zero area"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[4697000, 634000], [4697100, 634000], [4697100, 634100], [4697000, 634000]]],
            },
            "longitude/latitude",
        ),
        ({"features": []}, "no 'type'"),
        (
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"coordinates": [[[130, 42], [131, 42], [130, 43]]]},
            },
            "feature 0's geometry has no 'type'",
        ),
    ],
)
def test_bad_stations_are_refused_with_reason(doc, words):
    with pytest.raises(StationError, match=words):
        stations_from_geojson(doc, source="x.geojson")


def test_duplicate_names_refused():
    f = {
        "type": "Feature",
        "properties": {"name": "A"},
        "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
    }
    with pytest.raises(StationError, match="unique"):
        stations_from_geojson({"type": "FeatureCollection", "features": [f, f]})


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(StationError, match="not found"):
        read_stations(tmp_path / "nope.geojson")
    bad = tmp_path / "bad.geojson"
    bad.write_text("{ not json")
    with pytest.raises(UsageError, match=r"bad\.geojson: not valid JSON"):
        read_stations(bad)


def test_lon_lat_corners_under_a_projected_crs_member_blame_the_file(tmp_path):
    """Corners written in lon/lat under a 'crs' member naming UTM read as a yard under a metre across
    at the UTM zone's origin: said of the station file, where it was said of the scene ('does not
    overlap')."""
    import json

    ring = [[130.596, 42.417], [130.603, 42.417], [130.603, 42.420], [130.596, 42.420], [130.596, 42.417]]
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32652"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "C"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    path = tmp_path / "station.geojson"
    path.write_text(json.dumps(doc))
    with pytest.raises(StationError, match="delete the 'crs' member") as err:
        read_stations(path)
    assert "station.geojson" in str(err.value)
    # The same corners in metres of that system are read as they are.
    metres = [[x * 1000.0 + 500000.0, y * 100000.0] for x, y in ring]
    doc["features"][0]["geometry"]["coordinates"] = [metres]
    path.write_text(json.dumps(doc))
    (st,) = read_stations(path)
    assert st.geometry.area > 0
