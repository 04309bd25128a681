"""Read a station's counts history: an analyst's CSV or the batch results store.

Both give :class:`~railcount.report.baseline.Observation` records sorted by
date; everything after this module works on those, never on files.
"""

from __future__ import annotations

import csv
import io
import math
import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

from railcount.errors import HistoryError
from railcount.report.baseline import Observation

REQUIRED = ("date", "railcars")
OPTIONAL = (
    "railcars_low",
    "railcars_high",
    "observed_fraction",
    "scene",
    "gsd_m",
    "station",
    "detector_version",
    "warnings",
    "time_of_day",
    "synthetic",
)


def _is_parquet(p: Path) -> bool:
    """Whether ``p`` is a Parquet file (its first four bytes), as ``railcount export --format parquet``
    writes: read as the same table, not as a CSV that cannot be decoded."""
    try:
        with p.open("rb") as fh:
            return fh.read(4) == b"PAR1"
    except OSError:
        return False


def _parquet_rows(p: Path) -> tuple[list[str], list[dict[str, str]]]:
    """A Parquet history's column names and its rows as a CSV's cells (text; empty for a null)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise HistoryError(
            f"{p}: is a Parquet file, which needs pyarrow (pip install 'railcount[parquet]'); or give "
            "the CSV railcount export --format csv writes"
        ) from None
    try:
        table = pq.read_table(p)
    except Exception as exc:  # pyarrow's errors (a cut-short or foreign file) share no public base
        raise HistoryError(f"{p}: cannot read the Parquet history ({exc})") from None
    header = [str(n) for n in table.column_names]

    def cell(v: Any) -> str:
        if v is None:
            return ""
        return v.isoformat() if isinstance(v, (date, datetime)) else str(v)

    return header, [{k: cell(v) for k, v in row.items()} for row in table.to_pylist()]


def parse_date(text: str) -> date:
    """``YYYY-MM-DD`` or an ISO 8601 date-time (its date); raises ValueError otherwise."""
    text = text.strip()
    try:
        if len(text) > 10 and text[10] in "T ":
            return date.fromisoformat(text[:10])
        return date.fromisoformat(text)
    except ValueError:
        pass
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def read_history_csv(path: str | os.PathLike[str], station: str) -> list[Observation]:
    """Observations of ``station`` in a CSV of counts.

    Columns: ``date`` and ``railcars`` (required), ``railcars_low``,
    ``railcars_high``, ``observed_fraction``, ``scene``, ``gsd_m``,
    ``detector_version``, ``warnings``, ``time_of_day``, ``synthetic`` (optional) and ``station``: when
    present, only rows naming ``station`` are kept (an unknown station is
    an error that lists the known ones); when absent the file is taken to
    be the station's. A CSV written by ``railcount export`` also works:
    its ``acquired`` stands for ``date``, and only rows whose ``status`` is
    ``ok`` are read.
    """
    p = Path(path)
    try:
        if _is_parquet(p):
            header, rows = _parquet_rows(p)
            sep = ","
        else:
            with p.open(newline="", encoding="utf-8-sig") as fh:
                text = fh.read()
            sep = _separator(text.partition("\n")[0])
            reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=sep)
            rows = list(reader)
            # The header itself: a first row's keys would hold None for cells beyond it.
            header = [h.strip() for h in reader.fieldnames or []]
    except FileNotFoundError:
        raise HistoryError(f"{p}: history file not found; give a CSV with columns date,railcars") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise HistoryError(
            f"{p}: cannot read the history CSV ({exc}); give a UTF-8 CSV file, or the Parquet file "
            "railcount export writes"
        ) from None
    if "date" not in header and "acquired" in header:
        date_col = "acquired"  # a CSV written by `railcount export`
    else:
        date_col = "date"
    missing = [c for c in REQUIRED if c not in header and not (c == "date" and date_col == "acquired")]
    if missing:
        raise HistoryError(
            f"{p}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(found: {', '.join(h for h in header if h) or 'none'}); the CSV needs date and railcars"
        )
    # Cells beyond the header (key None) are ignored; missing cells read as empty.
    rows = [{k.strip(): (v or "").strip() for k, v in r.items() if k is not None} for r in rows]
    for r in rows:
        r["date"] = r.get(date_col, "")
    if "station" in header:
        names = sorted({r["station"] for r in rows})
        rows_for = [(i, r) for i, r in enumerate(rows, start=2) if r["station"] == station]
        if not rows_for:
            raise HistoryError(
                f"{p}: no rows for station {station!r} (stations in the file: {_names(names)}); "
                "check --station"
            )
    else:
        rows_for = list(enumerate(rows, start=2))
    if "status" in header:
        # Failed or skipped scenes (and undated ones) are not observations.
        rows_for = [(i, r) for i, r in rows_for if r["status"] == "ok" and r["date"]]
    # Where the decimal mark is a comma, spreadsheets separate cells with semicolons (0,95).
    out = [_row(p, line, r, decimal_comma=sep == ";") for line, r in rows_for]
    if not out:
        raise HistoryError(f"{p}: the history has no rows; add one line per count (date,railcars)")
    return sorted(out, key=lambda o: o.date)


def read_history_db(db: str | os.PathLike[str], station: str) -> list[Observation]:
    """Observations of ``station`` in the batch results store (only rows whose status is ``ok``)."""
    from railcount.store import read_counts

    # Only this station's rows, without the cars' outlines (the report does not draw from them);
    # all stations only to name them in the error.
    mine = read_counts(db, station, detections=False)
    if not mine:
        names = sorted({str(r["station"]) for r in read_counts(db, detections=False)})
        raise HistoryError(
            f"{db}: no counts for station {station!r} (stations in the store: {_names(names)}); "
            "check --station"
        )
    out = [obs for r in mine if (obs := observation_from_record(r)) is not None]
    if not out:
        raise HistoryError(
            f"{db}: station {station!r} has no successful dated counts in the store "
            f"({len(mine)} failed, skipped or undated); run the batch again or check its failures"
        )
    return sorted(out, key=lambda o: o.date)


def observation_from_record(r: dict[str, Any]) -> Observation | None:
    """An observation from a store row or a count record; ``None`` unless it is ok and dated."""
    if r.get("status", "ok") != "ok" or not r.get("acquired") or r.get("railcars") is None:
        return None
    return Observation(
        date=parse_date(str(r["acquired"])),
        railcars=r["railcars"],
        railcars_low=r.get("railcars_low"),
        railcars_high=r.get("railcars_high"),
        observed_fraction=r.get("observed_fraction"),
        scene=r.get("scene"),
        gsd_m=r.get("gsd_m"),
        detector_version=r.get("detector_version"),
        params=r.get("params") or r.get("detector_params"),
        warnings=split_warnings(r.get("warnings")),
        time_unknown=_time_unknown(r),
        tiles=tuple(str(t) for t in r.get("tiles") or ()),
        acquired_at=_acquired_at(r.get("acquired")),
        acquired_from=r.get("acquired_from") if isinstance(r.get("acquired_from"), str) else None,
        scene_key=r.get("scene_key") if isinstance(r.get("scene_key"), str) else None,
        synthetic=r.get("synthetic") is True,
        shadows_toward=_shadows_toward(r),
        bands=tuple(int(b) for b in r.get("bands") or ()),
    )


def _shadows_toward(r: dict[str, Any]) -> float | None:
    """The shadows' bearing a count placed its sun from: a store row's, or a count record's ``sun``
    (0, north, is a bearing)."""
    value = r.get("shadows_toward_deg")
    if value is None and isinstance(r.get("sun"), dict):
        value = r["sun"].get("shadows_toward_deg")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _acquired_at(value: Any) -> datetime | None:
    """A stored count's acquisition time, as the count was made at it (None if it is not one)."""
    from railcount.io.scenes import parse_datetime

    return parse_datetime(value) if isinstance(value, str) else None


TIMES_OF_DAY = ("given", "assumed", "from shadows")
"""The values of a count record's ``sun["time_of_day"]``: the time given, the sun assumed at 10:30, or
the sun placed from the shadows' bearing (``--shadows-toward``)."""


def _time_unknown(r: dict[str, Any]) -> bool | None:
    """Whether a count record, store row or exported CSV row was counted with no time of day (the sun
    assumed); None when it does not say.

    A record's ``sun`` says so since session 24 (``from shadows``, since session 61, is a sun placed
    from the shadows' bearing: not assumed), a store row or an exported CSV its ``time_of_day``;
    else a full acquisition time does (exactly midnight UTC is how date-only metadata reads); a bare
    date says nothing.
    """
    from railcount.io.scenes import parse_datetime, stored_time_unknown

    sun = r.get("sun")
    said = sun.get("time_of_day") if isinstance(sun, dict) else r.get("time_of_day")
    if said in TIMES_OF_DAY:
        return bool(said == "assumed")
    text = str(r.get("acquired") or "")
    if len(text) <= 10 or parse_datetime(text) is None:
        return None
    return stored_time_unknown(text)


def _separator(header: str) -> str:
    """The cell separator of a history CSV, read from its header line: a comma, or, in a header with
    no comma, a semicolon (spreadsheets where the decimal mark is a comma) or a tab."""
    if "," not in header:
        for sep in (";", "\t"):
            if sep in header:
                return sep
    return ","


def _row(path: Path, line: int, r: dict[str, str], *, decimal_comma: bool = False) -> Observation:
    try:
        day = parse_date(r["date"])
    except ValueError:
        raise HistoryError(
            f"{path}: line {line}: cannot read date {r['date']!r}; write dates as YYYY-MM-DD"
        ) from None
    values: dict[str, float | None] = {}
    for col in ("railcars", "railcars_low", "railcars_high", "observed_fraction", "gsd_m"):
        text = r.get(col, "")
        if decimal_comma and text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        if text == "" and col != "railcars":
            values[col] = None
            continue
        try:
            v = float(text)
        except ValueError:
            v = math.nan
        if not math.isfinite(v) or v < 0:
            wanted = "a share between 0 and 1" if col == "observed_fraction" else "a number of 0 or more"
            hint = ""
            if not decimal_comma and text.count(",") == 1 and "." not in text:
                hint = (
                    " with a decimal point (0.935), or, for decimal commas, cells separated by "
                    "semicolons as a spreadsheet saves them"
                )
            elif text.endswith("%"):
                hint = " (a share, not a percentage: 0.93, not 93%)"
            raise HistoryError(f"{path}: line {line}: {col} is {text!r}; expected {wanted}{hint}")
        if col.startswith("railcars") and not v.is_integer():
            raise HistoryError(f"{path}: line {line}: {col} is {text!r}; expected a whole number of cars")
        if col == "observed_fraction" and v > 1:
            # A percentage (95 for 95 %) would make every count look well observed.
            raise HistoryError(
                f"{path}: line {line}: observed_fraction is {text!r}; expected a share between 0 and 1 "
                "(0.95, not 95)"
            )
        values[col] = int(v) if v.is_integer() and col.startswith("railcars") else v
    railcars = values.pop("railcars")
    assert railcars is not None
    low, high = values["railcars_low"], values["railcars_high"]
    if (low is not None and low > railcars) or (high is not None and high < railcars):
        raise HistoryError(
            f"{path}: line {line}: interval {low}-{high} does not contain the count {railcars}; "
            "railcars_low <= railcars <= railcars_high"
        )
    return Observation(
        date=day,
        railcars=railcars,
        railcars_low=low,
        railcars_high=high,
        observed_fraction=values["observed_fraction"],
        scene=r.get("scene") or None,
        gsd_m=values["gsd_m"],
        detector_version=r.get("detector_version") or None,
        warnings=split_warnings(r.get("warnings")),
        time_unknown=_time_unknown(r),
        # railcount export writes True/False; a spreadsheet may have made it TRUE or 1.
        synthetic=str(r.get("synthetic") or "").strip().lower() in ("true", "1", "yes"),
    )


def split_warnings(value: Any) -> tuple[str, ...]:
    """A count's warnings from a record (a list) or a store row or CSV cell (one text, joined)."""
    if not value:
        return ()
    if isinstance(value, str):
        from railcount.store import WARNINGS_SEPARATOR

        return tuple(w.strip() for w in value.split(WARNINGS_SEPARATOR) if w.strip())
    return tuple(str(w) for w in value)


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:8])
    return shown + (f" and {len(names) - 8} more" if len(names) > 8 else "") if names else "none"
