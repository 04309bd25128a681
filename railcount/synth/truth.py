"""Ground truth: every vehicle (and, with realism v2, every structure) in a raster, in lon/lat.

:func:`build_truth` turns placed :class:`~railcount.synth.layout.Vehicles`
into a :class:`Truth` table; :meth:`Truth.to_geojson` and :meth:`Truth.counts`
are what :mod:`railcount.synth.write` puts on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

from railcount.synth.layout import KIND_CLASS, Area, SiteLayout, Vehicles, to_lonlat


@dataclass(frozen=True, eq=False)
class Truth:
    """Ground truth of every vehicle in a raster, as columns in lon/lat.

    ``footprint`` is (n, 4, 2) lon/lat corners; ``center`` (n, 2) lon/lat.
    ``track`` is -1 for vehicles not on a track (written as ``null``).

    ``hidden_by_cloud`` and ``in_nodata`` (bool per row) are set for scenes
    made with conditions, a product other than plain RGB or realism v2; they
    are ``None`` otherwise, and then left out of the files, which keep the
    layout of the bundled samples.
    """

    id: np.ndarray
    kind: np.ndarray
    cls: np.ndarray
    is_railcar: np.ndarray
    inside_station: np.ndarray
    track: np.ndarray
    tarped: np.ndarray
    length_m: np.ndarray
    width_m: np.ndarray
    height_m: np.ndarray
    center: np.ndarray
    footprint: np.ndarray
    hidden_by_cloud: np.ndarray | None = None
    in_nodata: np.ndarray | None = None

    @property
    def extended(self) -> bool:
        """True when the visibility columns are present."""
        return self.hidden_by_cloud is not None and self.in_nodata is not None

    @property
    def visible(self) -> np.ndarray:
        """True per row unless hidden by opaque cloud or lying in nodata."""
        if self.hidden_by_cloud is None or self.in_nodata is None:
            return np.ones(len(self), dtype=bool)
        return ~(self.hidden_by_cloud | self.in_nodata)

    def __len__(self) -> int:
        return int(self.id.shape[0])

    def polygons(self) -> list[Polygon]:
        """Footprints as shapely polygons in lon/lat."""
        return [Polygon(c) for c in self.footprint]

    def records(self) -> list[dict[str, object]]:
        """One plain dict per vehicle (the GeoJSON properties)."""
        recs: list[dict[str, object]] = [
            {
                "id": int(self.id[i]),
                "kind": str(self.kind[i]),
                "class": str(self.cls[i]),
                "is_railcar": bool(self.is_railcar[i]),
                "inside_station": bool(self.inside_station[i]),
                "track": int(self.track[i]) if self.track[i] >= 0 else None,
                "tarped": bool(self.tarped[i]),
                "length_m": round(float(self.length_m[i]), 2),
                "width_m": round(float(self.width_m[i]), 2),
            }
            for i in range(len(self))
        ]
        if self.hidden_by_cloud is not None and self.in_nodata is not None:
            for rec, hidden, nodata in zip(recs, self.hidden_by_cloud, self.in_nodata, strict=True):
                rec["hidden_by_cloud"] = bool(hidden)
                rec["in_nodata"] = bool(nodata)
        return recs

    def to_geojson(self) -> dict[str, object]:
        """RFC 7946 FeatureCollection, one Polygon per vehicle."""
        feats = []
        for rec, fp in zip(self.records(), self.footprint, strict=False):
            ring = [[round(float(x), 8), round(float(y), 8)] for x, y in fp]
            feats.append(
                {
                    "type": "Feature",
                    "properties": rec,
                    "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
                }
            )
        return {"type": "FeatureCollection", "features": feats}

    def counts(self) -> dict[str, object]:
        """Inside-station counts: railcars, locomotives, by_class, tarped, railcars_in_scene
        (and ``railcars_visible``, not under opaque cloud nor in nodata, when the table has it)."""
        inside_cars = self.inside_station & self.is_railcar
        out: dict[str, object] = {
            "railcars": int(inside_cars.sum()),
            "locomotives": int((self.inside_station & (self.kind == "locomotive")).sum()),
            "by_class": {
                c: int((inside_cars & (self.cls == c)).sum()) for c in ("tank", "covered", "open", "flat")
            },
            "tarped": int((inside_cars & self.tarped).sum()),
            "railcars_in_scene": int(self.is_railcar.sum()),
        }
        if self.extended:
            out["railcars_visible"] = int((inside_cars & self.visible).sum())
            out["railcars_hidden_by_cloud"] = int((inside_cars & self.hidden_by_cloud).sum())
            out["railcars_in_nodata"] = int((inside_cars & self.in_nodata).sum())
        return out


def build_truth(
    vehicles: Vehicles,
    site: SiteLayout,
    keep: np.ndarray | None = None,
    *,
    structures: Sequence[Area] = (),
) -> Truth:
    """Ground truth in lon/lat for ``vehicles`` (rows where ``keep`` is True).

    ``inside_station`` tests each vehicle's centre against the lon/lat station
    polygon that is written to disk, so readers of the files agree with it.
    ``structures`` (buildings, sheds, platforms, canopies) follow the
    vehicles as non-railcar rows, footprint = their minimum rotated rectangle.
    """
    v = vehicles if keep is None else vehicles.take(np.flatnonzero(keep))
    kind, track, tarped = v.kind, v.track, v.tarped
    length, width, height = v.length, v.width, v.height
    corners, centre_xy = v.corners(), v.center
    if structures:
        rects = structure_rectangles(structures)
        corners = np.concatenate([corners, np.array([r[0] for r in rects])])
        centre_xy = np.concatenate([centre_xy, corners[len(v) :].mean(axis=1)])
        kind = np.concatenate([kind, np.array([a.kind for a in structures], dtype="<U10")])
        track = np.concatenate([track, np.full(len(structures), -1, dtype=np.int64)])
        tarped = np.concatenate([tarped, np.zeros(len(structures), dtype=bool)])
        length = np.concatenate([length, [r[1] for r in rects]])
        width = np.concatenate([width, [r[2] for r in rects]])
        height = np.concatenate([height, [a.height_m for a in structures]])
    center = to_lonlat(centre_xy, site.epsg)
    fp = to_lonlat(corners, site.epsg)
    inside = shapely.contains_xy(site.station_lonlat, center[:, 0], center[:, 1])
    return Truth(
        id=np.arange(1, len(kind) + 1),
        kind=kind,
        cls=np.array([KIND_CLASS[k] for k in kind], dtype="<U10"),
        is_railcar=np.concatenate([v.is_railcar, np.zeros(len(kind) - len(v), dtype=bool)]),
        inside_station=inside,
        track=track,
        tarped=tarped,
        length_m=length,
        width_m=width,
        height_m=height,
        center=center,
        footprint=fp,
    )


def structure_rectangles(areas: Sequence[Area]) -> list[tuple[np.ndarray, float, float]]:
    """Per area: (corners (4, 2) counter-clockwise in map metres, long side, short side)."""
    return [_rectangle(a.polygon) for a in areas]


def _rectangle(poly: Polygon) -> tuple[np.ndarray, float, float]:
    """(corners (4, 2) counter-clockwise, long side, short side) of a polygon's bounding rectangle."""
    rect = shapely.minimum_rotated_rectangle(poly)
    xy = np.asarray(rect.exterior.coords)[:4]
    if not shapely.LinearRing(xy).is_ccw:
        xy = xy[::-1]
    sides = np.hypot(*(np.roll(xy, -1, axis=0) - xy).T)
    if sides[0] < sides[1]:  # start on a long side
        xy = np.roll(xy, -1, axis=0)
        sides = np.roll(sides, -1)
    return xy, float(sides[0]), float(sides[1])
