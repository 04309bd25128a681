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
from datetime import datetime, time, timezone
from typing import TYPE_CHECKING

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
    """The sun over ``window``'s station (its centroid) at the window's acquisition time: where the
    detector, the count's record and the benchmarks all put it."""
    centre = window.station.geometry.centroid
    return solar_position(centre.x, centre.y, window.acquired)


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
    phi, d, h = math.radians(lat), math.radians(decl), math.radians(hour_angle)
    cos_zen = math.sin(phi) * math.sin(d) + math.cos(phi) * math.cos(d) * math.cos(h)
    zen = math.acos(max(-1.0, min(1.0, cos_zen)))
    az = math.degrees(math.atan2(math.sin(h), math.cos(h) * math.sin(phi) - math.tan(d) * math.cos(phi)))
    return SunPosition(
        azimuth_deg=(az + 180.0) % 360.0, elevation_deg=90.0 - math.degrees(zen), assumed_time=assumed
    )


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
