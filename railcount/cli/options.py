"""Option texts that several commands share."""

from __future__ import annotations

from railcount.errors import UsageError

ACQUIRED_HELP = (
    "Acquisition time, when the file does not say or says wrong: ISO 8601, e.g. "
    "2023-10-05T02:15Z (UTC) or 2023-10-05T11:15+09:00. The sun is placed from it, and with it "
    "the side the cars' shadows fall on; a bare date gives the day only."
)
"""``--acquired`` of ``railcount count`` and ``railcount evaluate`` (parsed by
:func:`railcount.io.scenes.parse_acquired`)."""

SHADOWS_TOWARD_HELP = (
    "For a scene with a date but no time of day (or a wrong one): the compass bearing, degrees "
    "clockwise from north, the shadows point to on the image (e.g. 80 when they fall to the east, "
    "a little north), as you read it off the picture; the sun is placed at the time of that day "
    "when they point there. Wrong-side shadows put false cars beside buildings."
)
"""``--shadows-toward`` of ``railcount count`` and ``railcount evaluate``
(:func:`railcount.detect.sun.sun_from_shadows`)."""

WORKERS_HELP = (
    "Processes to count with: 2 reads the track directions in two processes where the machine has "
    "two cores or more (Linux; the counts are the same); 1 keeps to one. More than 2 is taken as 2."
)
"""``--workers`` of ``railcount count`` and ``railcount evaluate``
(:func:`railcount.runtime.helper_allowed`)."""

COMPASS_POINTS = tuple("N NNE NE ENE E ESE SE SSE S SSW SW WSW W WNW NW NNW".split())
"""The sixteen compass points, clockwise from north, 22.5 degrees apart."""
_COMPASS_WORDS = {"NORTH": "N", "EAST": "E", "SOUTH": "S", "WEST": "W"}


def parse_bearing(text: str, option: str = "--shadows-toward") -> float:
    """A compass bearing given on the command line: degrees clockwise from north (0-360), or one of
    the sixteen compass points (``E``, ``ENE``, ``north-west`` ...); anything else is a one-line error.

    >>> parse_bearing("75"), parse_bearing("ENE"), parse_bearing("north-west"), parse_bearing("360")
    (75.0, 67.5, 315.0, 0.0)
    """
    word = text.strip().upper().replace("-", "").replace(" ", "")
    for full, short in _COMPASS_WORDS.items():
        word = word.replace(full, short)
    if word in COMPASS_POINTS:
        return 22.5 * COMPASS_POINTS.index(word)
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 360.0:
        raise UsageError(
            f"{option} {text!r}: not a bearing; give the way the shadows point on the image as degrees "
            "clockwise from north (0-360, east is 90) or a compass point such as E or NNW"
        )
    return value % 360.0
