"""Option texts that several commands share."""

from __future__ import annotations

ACQUIRED_HELP = (
    "Acquisition time, when the file does not say or says wrong: ISO 8601, e.g. "
    "2023-10-05T02:15Z (UTC) or 2023-10-05T11:15+09:00. The sun is placed from it, and with it "
    "the side the cars' shadows fall on; a bare date gives the day only."
)
"""``--acquired`` of ``railcount count`` and ``railcount evaluate`` (parsed by
:func:`railcount.io.scenes.parse_acquired`)."""

WORKERS_HELP = (
    "Processes to count with: 2 reads the track directions in two processes where the machine has "
    "two cores or more (Linux; the counts are the same); 1 keeps to one. More than 2 is taken as 2."
)
"""``--workers`` of ``railcount count`` and ``railcount evaluate``
(:func:`railcount.runtime.helper_allowed`)."""
