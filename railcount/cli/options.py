"""Option texts that several commands share."""

from __future__ import annotations

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
