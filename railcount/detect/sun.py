"""Where the sun was: solar position from place and time, and the side shadows fall on.

Every car casts its shadow away from the sun. Locally a dark roof beside its
shadow looks the same mirrored (the shadow, with sunlit ground beyond it), so
the detector needs to know which side the shadows fall on. The image often
says (light roofs beside dark bands); when it does not, physics does: the
solar azimuth at the station at acquisition time.

The solar position follows the NOAA spreadsheet formulation (accurate to a
fraction of a degree, far more than needed here). When the acquisition time
of day is unknown (a date-only tag or a date in the file name), the sun is
taken at 10:30 local solar time, the descending-node crossing time of most
sun-synchronous imaging satellites; that fixes the side shadows fall on for
any track not running close to the shadow direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from railcount.models import SceneWindow

ASSUMED_SOLAR_TIME_H = 10.5


@dataclass(frozen=True)
class SunPosition:
    """Solar azimuth (degrees clockwise from north) and elevation (degrees above the horizon)."""

    azimuth_deg: float
    elevation_deg: float
    assumed_time: bool


def time_of_day_unknown(when: datetime | None) -> bool:
    """Whether ``when`` gives no time of day: None, or exactly midnight UTC (how date-only metadata reads).

    >>> from datetime import datetime, timezone
    >>> time_of_day_unknown(datetime(2011, 5, 1, tzinfo=timezone.utc)), time_of_day_unknown(None)
    (True, True)
    >>> time_of_day_unknown(datetime(2011, 5, 1, 16, 40, tzinfo=timezone.utc))
    False
    """
    return when is None or (
        when.timetz().replace(tzinfo=None) == time(0, 0)
        and (when.tzinfo is None or when.utcoffset() == timezone.utc.utcoffset(None))
    )


def window_sun(window: SceneWindow) -> SunPosition:
    """The sun over ``window``'s station (its centroid) at the window's acquisition time, or, where a
    person read the shadows' bearing off the image (``shadows_toward_deg``), at the time of that day
    the shadows point there (:func:`sun_from_shadows`): where the detector, the count's record and
    the benchmarks all put it."""
    centre = window.station.geometry.centroid
    if window.shadows_toward_deg is None:
        return solar_position(centre.x, centre.y, window.acquired)
    from railcount.io.pixelspace import is_pixel_space

    if is_pixel_space(window):
        # The stand-in grid's north is the image's top, but nothing places the image on Earth: the
        # shadows' bearing (from the image's top) gives the side, the assumed hour the height.
        day = None
        if window.acquired is not None:
            d = window.acquired.astimezone(timezone.utc) if window.acquired.tzinfo else window.acquired
            day = datetime(d.year, d.month, d.day, tzinfo=timezone.utc)  # (reads as no time of day)
        height = solar_position(centre.x, centre.y, day).elevation_deg
        return SunPosition((window.shadows_toward_deg + 180.0) % 360.0, height, assumed_time=False)
    return sun_from_shadows(centre.x, centre.y, window.acquired, window.shadows_toward_deg)


def solar_position(lon: float, lat: float, when: datetime | None) -> SunPosition:
    """Solar azimuth and elevation at ``lon``, ``lat`` (degrees) and time ``when``.

    A ``when`` of None, or exactly midnight UTC (how date-only metadata
    reads), is taken as the date at 10:30 local solar time (the spring equinox
    when there is no date at all).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> p = solar_position(0.0, 51.48, datetime(2024, 6, 21, 12, 0, tzinfo=timezone.utc))
    >>> round(p.elevation_deg), round(p.azimuth_deg)
    (62, 179)
    """
    assumed = time_of_day_unknown(when)
    if when is None:
        when = datetime(2000, 3, 20, 12, 0, tzinfo=timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    when = when.astimezone(timezone.utc)
    decl, eq_time_min = _declination_and_equation_of_time(when)
    if assumed:
        hour_angle = (ASSUMED_SOLAR_TIME_H - 12.0) * 15.0
    else:
        minutes = when.hour * 60 + when.minute + when.second / 60.0
        true_solar_min = (minutes + eq_time_min + 4.0 * lon) % 1440.0
        hour_angle = true_solar_min / 4.0 - 180.0
    azimuth, elevation = _azimuth_elevation(lat, decl, np.float64(hour_angle))
    return SunPosition(azimuth_deg=float(azimuth), elevation_deg=float(elevation), assumed_time=assumed)


def sun_height_words(height_deg: float) -> str:
    """How a warning or error says the sun was too low for a picture (:data:`SHADOW_SUN_UP_DEG`).

    >>> sun_height_words(-21.8), sun_height_words(1.24)
    ('22 degrees below the horizon', 'only 1.2 degrees above the horizon')
    """
    if height_deg < 0.0:
        return f"{-height_deg:.0f} degrees below the horizon"
    return f"only {height_deg:.1f} degrees above the horizon"


def _azimuth_elevation(lat: float, decl: float, hour_angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sun's azimuth (0-360, clockwise from north) and elevation, degrees, at latitude ``lat`` with
    declination ``decl`` and each hour angle (degrees from local solar noon, afternoon positive)."""
    phi, d, h = math.radians(lat), math.radians(decl), np.radians(hour_angle)
    cos_zen = math.sin(phi) * math.sin(d) + math.cos(phi) * math.cos(d) * np.cos(h)
    zen = np.arccos(np.clip(cos_zen, -1.0, 1.0))
    az = np.degrees(np.arctan2(np.sin(h), np.cos(h) * math.sin(phi) - math.tan(d) * math.cos(phi)))
    return (az + 180.0) % 360.0, 90.0 - np.degrees(zen)


SHADOW_SUN_UP_DEG = 3.0
""":func:`sun_from_shadows` places the sun only where it stands at least this high: lower, the
shadows run off across the scene and a person reading their direction would say so."""
SHADOW_BEARING_TOLERANCE_DEG = 1.0
"""How near the sun's azimuth must come to the one a shadow bearing asks for (the search's step is
0.05 degrees of hour angle, a few hundredths of a degree of azimuth at mid-latitudes)."""


def sun_from_shadows(lon: float, lat: float, day: datetime | None, shadows_toward_deg: float) -> SunPosition:
    """The sun at ``lon``, ``lat`` on ``day`` (its UTC date; the spring equinox when None) at the time
    the shadows point to ``shadows_toward_deg`` (a compass bearing, clockwise from north).

    For an image whose time of day is unknown, a person can read the shadows' direction off the
    image; with the date and the place that fixes the time of day (the sun's azimuth sweeps east to
    west through the day), and so the sun's height too. The azimuth is the bearing's opposite; the
    elevation is the sun's at that moment. Raises ValueError, saying which bearings the shadows can
    take there that day, when the sun never stands at that azimuth while it is up.

    >>> from datetime import datetime, timezone
    >>> when = datetime(2011, 5, 1, 22, 0, tzinfo=timezone.utc)  # Joplin, Missouri, late afternoon
    >>> p = solar_position(-94.5, 37.08, when)
    >>> q = sun_from_shadows(-94.5, 37.08, when, (p.azimuth_deg + 180.0) % 360.0)
    >>> round(q.azimuth_deg, 1) == round(p.azimuth_deg, 1), abs(q.elevation_deg - p.elevation_deg) < 0.05
    (True, True)
    """
    if not 0.0 <= shadows_toward_deg < 360.0:
        raise ValueError(
            f"a shadow bearing is 0-360 degrees clockwise from north, not {shadows_toward_deg:g}"
        )
    if day is None:
        day = datetime(2000, 3, 20, tzinfo=timezone.utc)
    day = (day if day.tzinfo else day.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    target = (shadows_toward_deg + 180.0) % 360.0
    hour_angle = np.arange(-180.0, 180.0, 0.05)
    # The declination at local solar noon, then at the moment found (it moves up to 0.4 degrees a day).
    moment = datetime(day.year, day.month, day.day, 12, 0, tzinfo=timezone.utc) - timedelta(hours=lon / 15.0)
    for _ in range(2):
        decl, _ = _declination_and_equation_of_time(moment)
        azimuth, elevation = _azimuth_elevation(lat, decl, hour_angle)
        up = elevation >= SHADOW_SUN_UP_DEG
        if not up.any():
            raise ValueError(f"the sun does not rise {SHADOW_SUN_UP_DEG:g} degrees there on {day.date()}")
        off = np.abs((azimuth - target + 180.0) % 360.0 - 180.0)
        best = int(np.argmin(np.where(up, off, np.inf)))
        moment += timedelta(hours=float(hour_angle[best]) / 15.0)
    if off[best] > SHADOW_BEARING_TOLERANCE_DEG:
        toward = (azimuth[up] + 180.0) % 360.0
        first, last = toward[0], toward[-1]  # the sun's first and last bearing while up, in daylight order
        raise ValueError(
            f"shadows cannot point to {shadows_toward_deg:g} degrees at {lat:.2f}, {lon:.2f} "
            f"on {day.date()}: "
            f"while the sun is up they swing from {first:.0f} to {last:.0f} degrees (clockwise from north, "
            "the way they point from what casts them); check the bearing and the date"
        )
    return SunPosition(azimuth_deg=target, elevation_deg=float(elevation[best]), assumed_time=False)


def shadow_vector_px(sun: SunPosition) -> tuple[float, float]:
    """Unit direction shadows point in, as (x=col, y=row) of a north-up image (rows grow southward)."""
    away = math.radians(sun.azimuth_deg + 180.0)
    return math.sin(away), -math.cos(away)


ALONG_SHADOW_ACROSS = 0.3
"""Shadows whose direction has less than this cross-track component (about 17 degrees from the track)
fall along the track, not beside the cars on it."""


def shadow_across(track_angle_deg: float, sun: SunPosition) -> float:
    """|sine| of the angle between a track (degrees from +col towards +row) and the shadows' direction.

    1 when shadows fall square across the track, 0 when along it.

    >>> sun = SunPosition(azimuth_deg=180.0, elevation_deg=40.0, assumed_time=False)  # noon, north of the sun
    >>> round(shadow_across(90.0, sun), 3), round(shadow_across(0.0, sun), 3)  # north-south, east-west tracks
    (0.0, 1.0)
    """
    dx, dy = shadow_vector_px(sun)
    t = math.radians(track_angle_deg)
    return abs(math.cos(t) * dy - math.sin(t) * dx)


def _declination_and_equation_of_time(when: datetime) -> tuple[float, float]:
    """Solar declination (degrees) and equation of time (minutes) at a UTC time."""
    jd = when.timestamp() / 86400.0 + 2440587.5
    t = (jd - 2451545.0) / 36525.0
    l0 = (280.46646 + t * (36000.76983 + t * 0.0003032)) % 360.0
    m = 357.52911 + t * (35999.05029 - 0.0001537 * t)
    e = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
    mr = math.radians(m)
    c = (
        math.sin(mr) * (1.914602 - t * (0.004817 + 0.000014 * t))
        + math.sin(2 * mr) * (0.019993 - 0.000101 * t)
        + math.sin(3 * mr) * 0.000289
    )
    omega = math.radians(125.04 - 1934.136 * t)
    app_long = math.radians(l0 + c - 0.00569 - 0.00478 * math.sin(omega))
    eps0 = 23.0 + (26.0 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60.0) / 60.0
    eps = math.radians(eps0 + 0.00256 * math.cos(omega))
    decl = math.degrees(math.asin(math.sin(eps) * math.sin(app_long)))
    y = math.tan(eps / 2.0) ** 2
    l0r = math.radians(l0)
    eq = 4.0 * math.degrees(
        y * math.sin(2 * l0r)
        - 2 * e * math.sin(mr)
        + 4 * e * y * math.sin(mr) * math.cos(2 * l0r)
        - 0.5 * y * y * math.sin(4 * l0r)
        - 1.25 * e * e * math.sin(2 * mr)
    )
    return decl, eq
