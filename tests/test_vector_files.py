"""Station polygons and truth as QGIS saves them: GeoPackage, Shapefile (plain and zipped), and
GeoJSON with a ``crs`` member in a projected system. Every file here is written by GDAL (pyogrio), as
QGIS writes them, and each must count (or evaluate) the bundled sample as its lon/lat GeoJSON twin
does."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapely
from rasterio.warp import transform_geom
from shapely.geometry import mapping, shape

from railcount.cli import main
from railcount.errors import StationError
from railcount.io.stations import read_stations

from .conftest import SAMPLE_SCENE, SAMPLE_STATION
from .test_cli import run_cli

SAMPLE_TRUTH = SAMPLE_SCENE.with_suffix(".truth.geojson")

pyogrio_raw = pytest.importorskip("pyogrio.raw")

UTM = "EPSG:32652"  # the 2023-10-05 sample's own system


def _sample_feature() -> tuple[str, dict]:
    doc = json.loads(SAMPLE_STATION.read_text())
    feat = doc["features"][0]
    return feat["properties"]["name"], feat["geometry"]


def _write_layer(path: Path, geoms: list[dict], fields: dict[str, list], crs: str | None, **kw) -> Path:
    """One polygon layer written by GDAL's driver for ``path``'s kind."""
    wkb = np.array([shapely.to_wkb(shape(g)) for g in geoms], dtype=object)
    driver = {".gpkg": "GPKG", ".shp": "ESRI Shapefile"}[path.suffix]
    pyogrio_raw.write(
        path,
        wkb,
        [np.array(v, dtype=object if isinstance(v[0], str) else None) for v in fields.values()],
        list(fields),
        driver=driver,
        crs=crs,
        geometry_type="Polygon",
        **kw,
    )
    return path


@pytest.fixture
def utm_geometry() -> dict:
    _, geom = _sample_feature()
    return dict(transform_geom("EPSG:4326", UTM, geom))


def _counted(station: Path, capsys) -> dict:
    assert main(["count", str(SAMPLE_SCENE), "--station", str(station), "--json"]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    return json.loads(line)


def _same_place(a, b, tolerance_deg: float = 1e-7) -> bool:
    """Two lon/lat geometries within about a centimetre of each other, vertex for vertex."""
    return a.equals_exact(b, tolerance_deg)


def test_geopackage_in_utm_reads_as_the_lonlat_geojson(tmp_path, utm_geometry):
    name, _ = _sample_feature()
    gpkg = _write_layer(tmp_path / "yard.gpkg", [utm_geometry], {"name": [name]}, UTM)
    (from_gpkg,) = read_stations(gpkg)
    (from_json,) = read_stations(SAMPLE_STATION)
    assert from_gpkg.name == from_json.name == name
    assert _same_place(from_gpkg.geometry, from_json.geometry)
    # A projected layer read as if it were lon/lat would be hundreds of kilometres away.
    assert -180 <= from_gpkg.geometry.bounds[0] <= 180


def test_every_qgis_format_counts_the_sample_as_the_geojson_does(tmp_path, utm_geometry, capsys):
    name, _ = _sample_feature()
    gpkg = _write_layer(tmp_path / "yard.gpkg", [utm_geometry], {"name": [name]}, UTM)
    shp = _write_layer(tmp_path / "yard.shp", [utm_geometry], {"name": [name]}, UTM)
    zipped = tmp_path / "yard_shp.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        for part in tmp_path.glob("yard.*"):
            if part.suffix != ".gpkg":
                z.write(part, part.name)
    projected_json = tmp_path / "yard_utm.geojson"
    projected_json.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32652"}},
                "features": [{"type": "Feature", "properties": {"name": name}, "geometry": utm_geometry}],
            }
        )
    )
    want = _counted(SAMPLE_STATION, capsys)
    for station in (gpkg, shp, zipped, projected_json):
        got = _counted(station, capsys)
        assert got["station"] == want["station"], station.name
        assert (got["railcars"], got["railcars_low"], got["railcars_high"]) == (
            want["railcars"],
            want["railcars_low"],
            want["railcars_high"],
        ), station.name
        assert got["locomotives"] == want["locomotives"], station.name


def test_lonlat_crs_members_leave_the_coordinates_alone(tmp_path):
    name, geom = _sample_feature()
    (plain,) = read_stations(SAMPLE_STATION)
    for member in (
        {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        {"type": "name", "properties": {"name": "EPSG:4326"}},
        {"type": "EPSG", "properties": {"code": 4326}},
        "EPSG:4326",  # a bare string: not the specification's form, but unambiguous
    ):
        p = tmp_path / "lonlat.geojson"
        feature = {"type": "Feature", "crs": member, "properties": {"name": name}, "geometry": geom}
        p.write_text(json.dumps(feature))
        (st,) = read_stations(p)
        assert st.geometry.equals_exact(plain.geometry, 0.0), member


def test_old_style_epsg_member_is_honoured(tmp_path, utm_geometry):
    p = tmp_path / "old.geojson"
    member = {"type": "EPSG", "properties": {"code": 32652}}
    p.write_text(json.dumps({"type": "Feature", "crs": member, "properties": {}, "geometry": utm_geometry}))
    (st,) = read_stations(p)
    assert _same_place(st.geometry, read_stations(SAMPLE_STATION)[0].geometry)


def test_name_in_other_capitals_and_plain_properties(tmp_path, utm_geometry):
    fields = {"NAME": ["North", "South"], "tracks": [12, 7]}
    gpkg = _write_layer(tmp_path / "caps.gpkg", [utm_geometry, utm_geometry], fields, UTM)
    north, south = read_stations(gpkg)
    assert (north.name, south.name) == ("North", "South")
    assert north.properties["tracks"] == 12 and type(north.properties["tracks"]) is int
    json.dumps(north.properties)  # the batch stores them: plain JSON values only


def test_utf8_bom_geojson_is_read(tmp_path):
    p = tmp_path / "bom.geojson"
    p.write_bytes(b"\xef\xbb\xbf" + SAMPLE_STATION.read_bytes())
    assert [s.name for s in read_stations(p)] == [s.name for s in read_stations(SAMPLE_STATION)]


def test_shapefile_without_its_prj_says_so(tmp_path, utm_geometry):
    shp = _write_layer(tmp_path / "noprj.shp", [utm_geometry], {"name": ["Yard"]}, UTM)
    shp.with_suffix(".prj").unlink()
    with pytest.raises(StationError, match=r"no coordinate system \(a Shapefile without its \.prj\?\)"):
        read_stations(shp)


def test_shapefile_without_its_shx_says_which_file_is_missing(tmp_path, utm_geometry):
    shp = _write_layer(tmp_path / "noshx.shp", [utm_geometry], {"name": ["Yard"]}, UTM)
    shp.with_suffix(".shx").unlink()
    with pytest.raises(StationError, match=r"noshx\.shp: a Shapefile without its \.shx beside it"):
        read_stations(shp)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda d, g: _two_layers(d, g),
            "holds 2 layers (north, south); name the station layer as QGIS does",
        ),
        (lambda d, g: _junk(d), "not a station file railcount can read"),
        (lambda d, g: _unknown_crs(d, g), "is not one GDAL knows"),
        (lambda d, g: _unreadable_member(d, g), "names no coordinate system railcount can read"),
    ],
)
def test_bad_station_files_are_one_line_errors(tmp_path, utm_geometry, make, message):
    station = make(tmp_path, utm_geometry)
    proc = run_cli("count", str(SAMPLE_SCENE), "--station", str(station))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"railcount: error: {station}:")
    assert message in lines[0]


def _two_layers(folder: Path, geom: dict) -> Path:
    path = folder / "two.gpkg"
    _write_layer(path, [geom], {"name": ["A"]}, UTM, layer="north")
    _write_layer(path, [geom], {"name": ["B"]}, UTM, layer="south", append=True)
    return path


def _junk(folder: Path) -> Path:
    path = folder / "yard.gpkg"
    path.write_bytes(bytes(range(256)) * 8)
    return path


def _unknown_crs(folder: Path, geom: dict) -> Path:
    path = folder / "unknown.geojson"
    member = {"type": "name", "properties": {"name": "EPSG:999999"}}
    path.write_text(json.dumps({"type": "Feature", "crs": member, "properties": {}, "geometry": geom}))
    return path


def _unreadable_member(folder: Path, geom: dict) -> Path:
    path = folder / "member.geojson"
    member = {"type": "link", "properties": {"href": "http://example.org/crs", "type": "proj4"}}
    path.write_text(json.dumps({"type": "Feature", "crs": member, "properties": {}, "geometry": geom}))
    return path


def test_a_station_in_utm_without_a_crs_member_still_says_lonlat(tmp_path, utm_geometry):
    p = tmp_path / "bare.geojson"
    p.write_text(json.dumps({"type": "Feature", "properties": {"name": "Y"}, "geometry": utm_geometry}))
    with pytest.raises(StationError, match="name their coordinate system in a 'crs' member"):
        read_stations(p)


def test_station_round_trip_keeps_the_polygon(tmp_path, utm_geometry):
    # The polygon read from a GeoPackage, written back out in UTM, lands where it started (to a mm).
    (st,) = read_stations(_write_layer(tmp_path / "rt.gpkg", [utm_geometry], {"name": ["Y"]}, UTM))
    back = shape(transform_geom("EPSG:4326", UTM, mapping(st.geometry)))
    assert back.equals_exact(shape(utm_geometry), 1e-3)


def _truth_in_utm(folder: Path) -> tuple[Path, Path]:
    """The sample's truth written in UTM twice: as a GeoPackage layer (every property kept as a field)
    and as GeoJSON with a crs member."""
    doc = json.loads(SAMPLE_TRUTH.read_text())
    feats = [f for f in doc["features"] if f["geometry"]["type"] in ("Polygon", "MultiPolygon")]
    utm = [dict(transform_geom("EPSG:4326", UTM, f["geometry"])) for f in feats]
    keys = sorted({k for f in feats for k, v in f["properties"].items() if isinstance(v, (str, bool))})
    fields = {k: [str(f["properties"].get(k, "")) for f in feats] for k in keys}
    # Booleans (is_railcar, tarped, hidden_by_cloud) kept as booleans: GDAL writes them as integers.
    for k in keys:
        if all(isinstance(f["properties"].get(k, False), bool) for f in feats):
            fields[k] = [int(bool(f["properties"].get(k, False))) for f in feats]
    gpkg = _write_layer(folder / "truth.gpkg", utm, fields, UTM)
    as_json = folder / "truth_utm.geojson"
    member = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32652"}}
    utm_feats = [{**f, "geometry": g} for f, g in zip(feats, utm, strict=True)]
    as_json.write_text(json.dumps({"type": "FeatureCollection", "crs": member, "features": utm_feats}))
    return gpkg, as_json


def _evaluated(truth: Path, capsys) -> dict:
    argv = ["evaluate", str(SAMPLE_SCENE), "--station", str(SAMPLE_STATION), "--truth", str(truth), "--json"]
    assert main(argv) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    return json.loads(line)


def test_truth_saved_in_utm_evaluates_as_the_lonlat_truth(tmp_path, capsys):
    gpkg, as_json = _truth_in_utm(tmp_path)
    want = _evaluated(SAMPLE_TRUTH, capsys)
    assert want["truth"] > 0
    for truth in (gpkg, as_json):
        got = _evaluated(truth, capsys)
        for key in ("truth", "true_positives", "true_locomotives", "true_tarped", "types_right", "f1"):
            assert got[key] == want[key], (truth.name, key)


def test_truth_in_metres_with_no_crs_says_how_to_fix_it(tmp_path):
    from railcount.errors import UsageError
    from railcount.io.truth import truth_features

    _, as_json = _truth_in_utm(tmp_path)
    doc = json.loads(as_json.read_text())
    del doc["crs"]
    bare = tmp_path / "bare.geojson"
    bare.write_text(json.dumps(doc))
    with pytest.raises(UsageError, match="name its system in a 'crs' member"):
        truth_features(bare)
    shp = _write_layer(tmp_path / "truth.shp", [doc["features"][0]["geometry"]], {"class": ["tank"]}, UTM)
    shp.with_suffix(".prj").unlink()
    with pytest.raises(UsageError, match=r"a Shapefile without its \.prj"):
        truth_features(shp)


def _truth_as_points(folder: Path) -> tuple[Path, list[dict]]:
    """The sample's truth with each outline replaced by a point on its centre (the mean of its
    corners, the centre the evaluation matches), as an analyst clicking cars in QGIS gives it."""
    doc = json.loads(SAMPLE_TRUTH.read_text())
    points = []
    for f in doc["features"]:
        corners = np.asarray(f["geometry"]["coordinates"][0][:-1], dtype=float)
        centre = corners.mean(axis=0).tolist()
        points.append({**f, "geometry": {"type": "Point", "coordinates": centre}})
    path = folder / "points.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": points}))
    return path, points


def test_truth_given_as_centre_points_evaluates_as_the_outlines(tmp_path, capsys):
    points, feats = _truth_as_points(tmp_path)
    want = _evaluated(SAMPLE_TRUTH, capsys)
    keys = (
        "truth",
        "true_positives",
        "true_locomotives",
        "locomotives_matched",
        "true_tarped",
        "types_right",
    )
    got = _evaluated(points, capsys)
    assert {k: got[k] for k in keys} == {k: want[k] for k in keys}
    # The same points as a GeoPackage point layer in UTM, as QGIS saves one.
    utm = [dict(transform_geom("EPSG:4326", UTM, f["geometry"])) for f in feats]
    fields = {
        "class": [str(f["properties"].get("class", "")) for f in feats],
        "is_railcar": [int(bool(f["properties"].get("is_railcar", True))) for f in feats],
        "tarped": [int(bool(f["properties"].get("tarped", False))) for f in feats],
    }
    wkb = np.array([shapely.to_wkb(shape(g)) for g in utm], dtype=object)
    gpkg = tmp_path / "points.gpkg"
    pyogrio_raw.write(
        gpkg,
        wkb,
        [np.array(v, dtype=object if isinstance(v[0], str) else None) for v in fields.values()],
        list(fields),
        driver="GPKG",
        crs=UTM,
        geometry_type="Point",
    )
    got = _evaluated(gpkg, capsys)
    assert {k: got[k] for k in keys} == {k: want[k] for k in keys}


def test_missed_centre_points_are_marked_in_the_picture_and_the_errors(tmp_path, capsys):
    import cv2
    from rasterio.warp import transform as warp_points

    from railcount.io.outputs import _MISSED, MISSED_POINT_RADIUS_M
    from railcount.io.scenes import WGS84, read_windows
    from railcount.models import apply_affine

    points, _ = _truth_as_points(tmp_path)
    out = tmp_path / "out"
    argv = ["evaluate", str(SAMPLE_SCENE), "--station", str(SAMPLE_STATION), "--truth", str(points)]
    assert main([*argv, "--out", str(out), "--json"]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    missed = [
        f
        for f in json.loads((out / "errors.geojson").read_text())["features"]
        if f["properties"]["error"] == "missed"
    ]
    assert len(missed) == record["truth"] - record["true_positives"] > 0
    assert all(f["geometry"]["type"] == "Point" for f in missed)
    # Each missed point is ringed in the missed colour in the evaluation picture, not in the overlay.
    (window,) = read_windows(SAMPLE_SCENE, read_stations(SAMPLE_STATION))
    picture = cv2.imread(str(out / "evaluation.png"))
    overlay = cv2.imread(str(out / "overlay.png"))
    scale = picture.shape[1] / window.shape[1]
    lonlat = np.array([f["geometry"]["coordinates"] for f in missed])
    x, y = warp_points(WGS84, window.crs, lonlat[:, 0].tolist(), lonlat[:, 1].tolist())
    cols, rows = apply_affine(~window.transform, np.asarray(x), np.asarray(y))
    radius = MISSED_POINT_RADIUS_M / window.gsd_m * scale
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)

    def on_ring(img: np.ndarray, r: float, c: float) -> float:
        """The share of points round the ring (within a pixel of it) drawn in the missed colour."""
        top = img.shape[0] - round(window.shape[0] * scale)  # below the banner
        hits = 0
        for a in angles:
            rr = round(r * scale + radius * np.sin(a)) + top
            cc = round(c * scale + radius * np.cos(a))
            px = img[rr - 1 : rr + 2, cc - 1 : cc + 2].reshape(-1, 3).astype(int)
            hits += bool((np.abs(px - _MISSED).sum(axis=1) < 40).any())
        return hits / len(angles)

    assert min(on_ring(picture, r, c) for r, c in zip(rows, cols, strict=True)) > 0.8
    assert max(on_ring(overlay, r, c) for r, c in zip(rows, cols, strict=True)) < 0.5


def _google_earth_kml(ring: list[list[float]], name: str) -> str:
    """A placemark as Google Earth saves one: lon,lat,height triples, the name in the Placemark."""
    coords = " ".join(f"{x},{y},0" for x, y in ring)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">\n'
        f"<Document><name>yard.kml</name><Placemark><name>{name}</name><Polygon><tessellate>1</tessellate>"
        f"<outerBoundaryIs><LinearRing><coordinates>{coords}</coordinates></LinearRing></outerBoundaryIs>"
        "</Polygon></Placemark></Document></kml>\n"
    )


def test_heights_in_the_coordinates_and_google_earth_files(tmp_path, capsys):
    # A third coordinate is allowed by RFC 7946 and always present in KML; it used to end in a traceback.
    name, geom = _sample_feature()
    with_heights = tmp_path / "heights.geojson"
    ring3d = [[x, y, 12.5] for x, y in geom["coordinates"][0]]
    feature = {
        "type": "Feature",
        "properties": {"name": name},
        "geometry": {"type": "Polygon", "coordinates": [ring3d]},
    }
    with_heights.write_text(json.dumps(feature))
    kml = tmp_path / "yard.kml"
    kml.write_text(_google_earth_kml(geom["coordinates"][0], name))
    kmz = tmp_path / "yard.kmz"
    with zipfile.ZipFile(kmz, "w") as z:
        z.write(kml, "doc.kml")
    want = _counted(SAMPLE_STATION, capsys)
    for station in (with_heights, kml, kmz):
        (st,) = read_stations(station)
        assert st.name == name and not st.geometry.has_z, station.name
        got = _counted(station, capsys)
        assert (got["station"], got["railcars"], got["railcars_low"], got["railcars_high"]) == (
            want["station"],
            want["railcars"],
            want["railcars_low"],
            want["railcars_high"],
        ), station.name


def test_a_layer_of_a_project_geopackage(tmp_path, utm_geometry, capsys):
    # A QGIS project's GeoPackage: a layer of notes (points), the stations, and drafts of them.
    name, _ = _sample_feature()
    project = tmp_path / "project.gpkg"
    point = {"type": "Point", "coordinates": [631500.0, 4697500.0]}
    wkb = np.array([shapely.to_wkb(shape(point))], dtype=object)
    pyogrio_raw.write(
        project,
        wkb,
        [np.array(["a note"], dtype=object)],
        ["name"],
        driver="GPKG",
        crs=UTM,
        geometry_type="Point",
        layer="notes",
    )
    _write_layer(project, [utm_geometry], {"name": [name]}, UTM, layer="stations", append=True)
    # One polygon layer among others: that is the station layer.
    want = _counted(SAMPLE_STATION, capsys)
    assert _counted(project, capsys)["railcars"] == want["railcars"]
    # Two: the one named as QGIS names a layer's source is read; a name it lacks is a one-line error.
    _write_layer(project, [utm_geometry], {"name": ["Draft"]}, UTM, layer="drafts", append=True)
    with pytest.raises(
        StationError, match=r"holds 3 layers \(notes, stations, drafts\); name the station layer"
    ):
        read_stations(project)
    (st,) = read_stations(f"{project}|layername=stations")
    assert st.name == name
    assert _counted(Path(f"{project}|layername=stations"), capsys)["railcars"] == want["railcars"]
    (draft,) = read_stations(f"{project}|layername=drafts")
    assert draft.name == "Draft"
    proc = run_cli("count", str(SAMPLE_SCENE), "--station", f"{project}|layername=nope")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        f"railcount: error: {project}: has no layer 'nope' (it holds notes, stations, drafts); "
        "name one of them after |layername="
    )
