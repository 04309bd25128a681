"""Plain data carried between the stages of railcount.

The data flows one way::

    Station + scene file --(io.scenes)--> SceneWindow --(detect)--> Detections
        --(counting)--> CountResult --(io.outputs)--> files

These classes hold data and small derived views; they never read or write
files. Pixel-space quantities are in (row, col) order unless a name says ``x``
or ``y``; ``x`` is the column axis and ``y`` the row axis (OpenCV's order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

import numpy as np
from affine import Affine
from numpy.typing import ArrayLike
from rasterio.crs import CRS
from shapely.geometry.base import BaseGeometry

RAILCAR_TYPES = ("tank", "covered", "open", "flat")
"""The railcar classes reported in ``by_type`` (locomotives are counted apart)."""


def apply_affine(t: Affine, x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Map arrays of points through an affine transform: ``(x, y) -> (a x + b y + c, d x + e y + f)``.

    Written out so it is vectorised and independent of the ``affine``
    package's operator conventions, which changed between versions.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return t.a * x + t.b * y + t.c, t.d * x + t.e * y + t.f


SYNTHETIC_TAG = "RAILCOUNT_SYNTHETIC"
"""The GeoTIFF tag ``railcount synth`` writes into every scene it makes (its value says what made it):
the loader reads it, and a count, its overlay and a report made from such a scene say it is synthetic,
so that a demonstration is not taken for an observation of a real station."""


@dataclass(frozen=True)
class Station:
    """A named station polygon in lon/lat (EPSG:4326, RFC 7946 axis order)."""

    name: str
    geometry: BaseGeometry
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class SceneWindow:
    """Pixels of one scene clipped to one station, with their georeferencing.

    Attributes
    ----------
    pixels : ndarray, shape (rows, cols, bands)
        The window's pixels in the file's dtype, bands last.
    data : ndarray of bool, shape (rows, cols)
        True where a pixel holds data (not nodata, masked, or outside the raster).
        The window extends a margin beyond the polygon so that cars on its
        edge are seen whole; they are counted when their centre is inside.
    inside : ndarray of bool, shape (rows, cols)
        True where a pixel lies inside the station polygon, with or without data.
    transform : Affine
        Maps (col, row) of this window to map coordinates in ``crs``.
    crs : CRS
        The scene's coordinate reference system.
    gsd_m : float
        Ground sample distance in metres (mean of the two pixel sides).
    scene_id : str
        Path or URL the pixels came from.
    station : Station
        The station the window was clipped to.
    acquired : datetime or None
        Acquisition time, when the file carries one.
    acquired_from : str or None
        Where ``acquired`` came from: a key of
        :data:`railcount.io.scenes.ACQUIRED_FROM` (``"planet_file_name"``,
        ``"given"`` ...); None with no time.
    night_time : datetime or None
        A time of day the file gave that puts the sun below the horizon over
        the scene, so not the picture's (``acquired`` is then its date alone
        and the sun is assumed); None otherwise.
    value_range : (float, float)
        The range of meaningful pixel values (e.g. 0-2047 for 11-bit data).
    cloud_cover : float or None
        Percent of the scene its provider reported cloudy (GDAL's ``IMAGERY``
        metadata, read from the delivery's sidecar files, or a STAC item's
        ``eo:cloud_cover``), when known.
    shadows_toward_deg : float or None
        The compass bearing (degrees clockwise from north; from the image's
        top in pixel space) the shadows point to, as a person read it off
        the image: the sun is then placed at the time of the acquisition
        date when they point there, whatever time of day the file gives
        (:func:`railcount.detect.sun.window_sun`).
    tiles : tuple of str
        The files the scene was stitched from, when it is a mosaic of
        several (``scene_id`` then names the first and how many more); ()
        for one file.
    bands : tuple of int
        The file's bands the pixels were read from, numbered from 1: red,
        green, blue, or the one panchromatic band; () when not known.
    bands_guessed : bool
        True when the file names none of its several bands, so its first
        three were read as red, green, blue (a
        :class:`~railcount.errors.BandOrderWarning`).
    synthetic : bool
        True when the file was made by ``railcount synth`` (its
        :data:`SYNTHETIC_TAG`): generated, not an acquisition.
    stretch_lifted : bool
        True when the pixels are a contrast-stretched picture's lifted back
        by :func:`railcount.detect.stretch.lifted` (their floor was put back
        where a clear window's lies, so the detector's own colour stretch
        starts from the bottom of ``value_range``, not from the darkest
        pixels).
    """

    pixels: np.ndarray
    data: np.ndarray
    inside: np.ndarray
    transform: Affine
    crs: CRS
    gsd_m: float
    scene_id: str
    station: Station
    acquired: datetime | None = None
    acquired_from: str | None = None
    night_time: datetime | None = None
    value_range: tuple[float, float] = (0.0, 255.0)
    cloud_cover: float | None = None
    shadows_toward_deg: float | None = None
    tiles: tuple[str, ...] = ()
    bands: tuple[int, ...] = ()
    bands_guessed: bool = False
    synthetic: bool = False
    stretch_lifted: bool = False

    def __post_init__(self) -> None:
        rows, cols = self.pixels.shape[:2]
        if self.pixels.ndim != 3:
            raise ValueError(f"pixels must be (rows, cols, bands); got shape {self.pixels.shape}")
        if self.data.shape != (rows, cols) or self.inside.shape != (rows, cols):
            raise ValueError(
                f"masks must have shape {(rows, cols)}; got {self.data.shape} and {self.inside.shape}"
            )

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the window."""
        return self.pixels.shape[0], self.pixels.shape[1]

    @property
    def valid(self) -> np.ndarray:
        """True where a pixel is inside the station polygon and holds data."""
        return self.data & self.inside

    @property
    def observed_fraction(self) -> float:
        """Share of the station polygon's pixels that hold valid data (0-1)."""
        n_inside = int(self.inside.sum())
        return float(self.valid.sum()) / n_inside if n_inside else 0.0


@dataclass(frozen=True, eq=False)
class Detections:
    """Detected cars as columns, one row per car, in the window's pixel frame.

    Attributes
    ----------
    center : ndarray, shape (n, 2)
        Car centres as (row, col) in window pixels (sub-pixel).
    length, width : ndarray, shape (n,)
        Footprint sides in pixels, along and across the track.
    angle_deg : ndarray, shape (n,)
        Direction of the long axis, degrees from the +col axis towards the
        +row axis, in [0, 180).
    score : ndarray, shape (n,)
        Confidence in [0, 1].
    kind : ndarray of str, shape (n,)
        One of :data:`RAILCAR_TYPES`, ``"railcar"`` when unclassified, or
        ``"locomotive"``.
    method : ndarray of str, shape (n,)
        How the car was separated from its neighbours: ``"gap"`` (a visible
        gap between coupled cars) or ``"pitch"`` (run length over car pitch).
    tarped : ndarray of bool, shape (n,)
        The car carries a tarp-covered load.
    """

    center: np.ndarray
    length: np.ndarray
    width: np.ndarray
    angle_deg: np.ndarray
    score: np.ndarray
    kind: np.ndarray
    method: np.ndarray
    tarped: np.ndarray

    @classmethod
    def empty(cls) -> Detections:
        z = np.zeros(0, dtype=float)
        return cls(
            np.zeros((0, 2)),
            z,
            z.copy(),
            z.copy(),
            z.copy(),
            np.zeros(0, dtype="<U10"),
            np.zeros(0, dtype="<U5"),
            np.zeros(0, dtype=bool),
        )

    def __len__(self) -> int:
        return int(self.center.shape[0])

    def corners(self) -> np.ndarray:
        """Footprint corners as (n, 4, 2) pixel coordinates in (x, y) = (col, row) order.

        Returned in (x, y) order because every consumer (OpenCV drawing, affine
        transforms to map coordinates) wants it that way.
        """
        a = np.deg2rad(self.angle_deg)
        ux, uy = np.cos(a), np.sin(a)  # along the car
        vx, vy = -uy, ux  # across the car
        hl, hw = self.length / 2.0, self.width / 2.0
        cx, cy = self.center[:, 1], self.center[:, 0]
        signs = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]], dtype=float)
        xs = cx[:, None] + signs[None, :, 0] * (hl * ux)[:, None] + signs[None, :, 1] * (hw * vx)[:, None]
        ys = cy[:, None] + signs[None, :, 0] * (hl * uy)[:, None] + signs[None, :, 1] * (hw * vy)[:, None]
        return np.stack([xs, ys], axis=-1)

    def subset(self, keep: np.ndarray) -> Detections:
        """The detections selected by a boolean mask or index array."""
        return Detections(**{f.name: getattr(self, f.name)[keep] for f in fields(self)})

    def scaled(self, factor: float) -> Detections:
        """The detections in a pixel grid ``factor`` times finer (centres and sizes scaled).

        Pixel centres sit at half-integers, so (row, col) maps to
        ((row + 0.5) * factor - 0.5, ...).
        """
        return replace(
            self,
            center=(self.center + 0.5) * factor - 0.5,
            length=self.length * factor,
            width=self.width * factor,
        )

    @staticmethod
    def concat(parts: list[Detections]) -> Detections:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Detections.empty()
        return Detections(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Detections)}
        )


@dataclass(frozen=True)
class CountResult:
    """The count of one station in one scene: the record users and later stages rely on."""

    station: str
    scene: str
    acquired: datetime | None
    railcars: int
    railcars_low: int
    railcars_high: int
    locomotives: int
    by_type: dict[str, int]
    tarped: int
    observed_fraction: float
    gsd_m: float
    detector_version: str
    count_method: dict[str, int] = field(default_factory=dict)
    unsure_share: float = 0.0
    # Where the detector put the sun (azimuth_deg, elevation_deg, time_of_day "given" or "assumed");
    # None for an image counted in pixel space, which has no place on Earth.
    sun: dict[str, Any] | None = None
    # Percent of the scene its provider reported cloudy (file metadata or a STAC item); None: not given.
    provider_cloud_cover: float | None = None
    # The files of a scene read as one mosaic (tiles of one acquisition), in order; () for one file.
    tiles: tuple[str, ...] = ()
    # The file's bands read as red, green, blue (or the one panchromatic band), numbered from 1.
    bands: tuple[int, ...] = ()
    # True when the file names none of its several bands and its first three were read as RGB.
    bands_guessed: bool = False
    # Where ``acquired`` came from (a key of railcount.io.scenes.ACQUIRED_FROM); None with no time.
    acquired_from: str | None = None
    # True for a scene made by ``railcount synth`` (SYNTHETIC_TAG): a demonstration, not an observation.
    synthetic: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping; ``acquired`` as ISO 8601 or None."""
        return {
            "station": self.station,
            "scene": self.scene,
            "acquired": self.acquired.isoformat() if self.acquired else None,
            "acquired_from": self.acquired_from,
            "railcars": self.railcars,
            "railcars_low": self.railcars_low,
            "railcars_high": self.railcars_high,
            "locomotives": self.locomotives,
            "by_type": dict(self.by_type),
            "tarped": self.tarped,
            "observed_fraction": round(self.observed_fraction, 4),
            "gsd_m": round(self.gsd_m, 4) if math.isfinite(self.gsd_m) else None,
            "detector_version": self.detector_version,
            "count_method": dict(self.count_method),
            "unsure_share": round(self.unsure_share, 4),
            "sun": dict(self.sun) if self.sun is not None else None,
            "provider_cloud_cover": self.provider_cloud_cover,
            "tiles": list(self.tiles) or None,
            "bands": list(self.bands) or None,
            "bands_guessed": self.bands_guessed,
            "synthetic": self.synthetic,
        }
