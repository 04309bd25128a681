"""The evidence pack: one self-contained HTML page (no network, images inlined).

:func:`render_html` returns the page as a string; writing it is the caller's
business. Every text that comes from input files (station and scene names,
period names, detector parameters) goes through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from railcount import __version__
from railcount.report.baseline import Observation, Stats, format_count, synthetic_note
from railcount.report.chart import VERDICT_WORDS

if TYPE_CHECKING:
    from railcount.reporting import Report

_VERDICT_COLOURS = {
    "unprecedented": "#D55E00",
    "elevated": "#E69F00",
    "normal": "#0072B2",
    "insufficient-history": "#555555",
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0 auto;max-width:1180px;
padding:1.2em 1.5em 3em;color:#111;line-height:1.45}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ccc}
.verdict{display:inline-block;color:#fff;font-weight:700;padding:.2em .7em;border-radius:.3em;
letter-spacing:.04em}
.sentence{font-size:1.2em;margin:.6em 0 1em}
table{border-collapse:collapse;font-size:.92em}td,th{padding:.25em .7em;border-bottom:1px solid #e3e3e3;
text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;height:auto;border:1px solid #ddd}
.thumbs{display:flex;flex-wrap:wrap;gap:12px}.thumbs figure{margin:0;width:270px}
.thumbs img{width:270px}figcaption{font-size:.85em;color:#333}
.note{color:#555;font-style:italic}
.synthetic{background:#000;color:#fff;font-weight:bold;padding:.5em .8em}
.caveat{border-left:4px solid #E69F00;padding-left:.6em}
code{font-size:.9em;word-break:break-all}
details pre{white-space:pre-wrap;font-size:.8em;background:#f6f6f6;padding:.6em}
"""


def data_uri(png: bytes, mime: str = "image/png") -> str:
    """``data:`` URI of an image, so the page needs no other file."""
    return f"data:{mime};base64,{base64.b64encode(png).decode('ascii')}"


def _n(x: float | None, digits: int = 1) -> str:
    return "\N{EN DASH}" if x is None else format_count(x, digits)


def _stats_rows(s: Stats) -> list[tuple[str, str]]:
    return [
        ("observations", str(s.n)),
        ("first / last", f"{s.first or '-'} / {s.last or '-'}"),
        ("median", _n(s.median)),
        ("interquartile range", f"{_n(s.q1)}\N{EN DASH}{_n(s.q3)} (IQR {_n(s.iqr)})"),
        ("mean", _n(s.mean)),
        ("10th / 90th percentile", f"{_n(s.p10)} / {_n(s.p90)}"),
        ("maximum", f"{_n(s.max)} on {s.max_date}" if s.max is not None else "\N{EN DASH}"),
        ("percentile rank of the count", _n(s.percentile)),
        ("robust z-score (median/MAD)", _n(s.robust_z, 2)),
        ("ratio to median", _n(s.ratio_to_median, 2)),
        ("ratio to maximum", _n(s.ratio_to_max, 2)),
        ("observations at or above the count", str(s.reached)),
    ]


def _obs_cells(o: Observation) -> str:
    interval = f" ({_n(o.low)}\N{EN DASH}{_n(o.high)})" if o.low != o.high else ""
    seen = "\N{EN DASH}" if o.observed_fraction is None else f"{o.observed_fraction:.0%}"
    gsd = "\N{EN DASH}" if o.gsd_m is None else f"{o.gsd_m:.2f} m"
    return (
        f"<td>{o.date.isoformat()}</td><td class=n>{_n(o.railcars)}{escape(interval)}</td>"
        f"<td class=n>{seen}</td><td class=n>{gsd}</td><td><code>{escape(shown_name(o.scene))}</code></td>"
        f"<td>{escape(o.detector_version or '')}</td>"
    )


def shown_name(path: str | None) -> str:
    """A scene or store as the page names it: a local file by its name alone (a published evidence
    pack need not show the folders of the machine that made it), a URL whole.

    >>> shown_name("/home/analyst/cases/2023/tumangang_2023-10-05.tif"), shown_name(None)
    ('tumangang_2023-10-05.tif', '')
    >>> shown_name("https://example.org/scenes/yard.tif")
    'https://example.org/scenes/yard.tif'
    """
    if not path:
        return ""
    return path if "://" in path else PurePath(path).name or path


def render_html(report: Report, chart_png: bytes) -> str:
    """The evidence pack for ``report`` as one HTML document (a string)."""
    c = report.comparison
    j = c.judged
    colour = _VERDICT_COLOURS.get(c.verdict, "#555")
    word = VERDICT_WORDS.get(c.verdict, c.verdict)
    station = escape(c.station)
    made = synthetic_note(c)  # atop the page, not again among the caveats
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No network: forbid every fetch the page could make besides its inline images.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{station} {j.date.isoformat()}: {escape(c.verdict)} \N{EN DASH} railcount report</title>",
        f"<style>{_CSS}</style></head><body>",
        *([f'<p class="synthetic" id="synthetic">{escape(made)}</p>'] if made else []),
        f"<h1>{station} \N{EN DASH} {j.date.isoformat()}</h1>",
        f'<p><span class="verdict" id="verdict" style="background:{colour}">{escape(word)}</span></p>',
        f'<p class="sentence" id="sentence">{escape(c.sentence)}</p>',
        *(f'<p class="caveat">Caveat: {escape(n)}</p>' for n in c.caveats if n != made),
        "<h2>Chart</h2>",
        f'<img id="chart" alt="{escape(c.station)} railcar counts over time" src="{data_uri(chart_png)}">',
        "<h2>Statistics</h2>",
        _stats_table(report),
    ]
    parts += _overlay_section(report)
    parts += _provenance(report)
    parts.append(
        f'<p class="note">Made by railcount {escape(__version__)} from {escape(shown_name(report.source))}. '
        "Verdicts: unprecedented = the count's low end is above every baseline count; elevated = above "
        f"the baseline's {c.thresholds.elevated_percentile:g}th percentile; insufficient history = fewer "
        f"than {c.thresholds.min_observations} baseline counts.</p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def _stats_table(report: Report) -> str:
    c = report.comparison
    heads = [f"baseline {c.baseline_start.isoformat()} to {c.baseline_end.isoformat()}"]
    columns = [c.baseline]
    for p in c.period_spans:
        heads.append(f"{p.name} ({p.start.isoformat()} to {p.end.isoformat()})")
        columns.append(c.periods[p.name])
    rows = ["<table id=stats><tr><th></th>" + "".join(f"<th>{escape(h)}</th>" for h in heads) + "</tr>"]
    cells = [_stats_rows(col) for col in columns]
    for i, (label, _) in enumerate(cells[0]):
        tds = "".join(f"<td class=n>{escape(col[i][1])}</td>" for col in cells)
        rows.append(f"<tr><th>{escape(label)}</th>{tds}</tr>")
    rows.append("</table>")
    if c.excluded:
        rows.append(
            f'<p class="note">{len(c.excluded)} count(s) in the window were left out: less than '
            f"{c.min_observed:.0%} of the station was seen.</p>"
        )
    return "\n".join(rows)


def _overlay_section(report: Report) -> list[str]:
    out = ["<h2>The judged scene</h2>"]
    ov = report.judged_overlay
    if ov is not None and ov.png:
        o, judged = ov.observation, report.comparison.judged
        differs = ""
        if o.railcars != judged.railcars:
            differs = f" (the history holds {_n(judged.railcars)}: another detector or parameters)"
        out.append(
            f'<figure style="margin:0"><img id="overlay" alt="every counted car outlined" '
            f'src="{data_uri(ov.png)}"><figcaption>{escape(shown_name(o.scene))}: counted with detector '
            f"{escape(o.detector_version or '?')}, {_n(o.railcars)} railcars "
            f"({_n(o.low)}\N{EN DASH}{_n(o.high)}){escape(differs)}; "
            "every counted car is outlined; the dashed ones are those the car model was unsure of "
            "(under 0.7), which hold about half the false ones on generated yards: check them first; "
            "a white dot marks a car called tarped; the yellow arrow in the legend shows which way the "
            "count took the shadows to point: set it against the picture's shadows."
            "</figcaption></figure>"
        )
    else:
        note = report.overlay_note or "Overlay unavailable."
        out.append(f'<p class="note" id="overlay-note">{escape(note)}</p>')
    if report.thumbnails or report.thumbnail_note:
        out.append("<h2>Baseline scenes</h2>")
    if report.thumbnail_note:
        out.append(f'<p class="note" id="thumbnail-note">{escape(report.thumbnail_note)}</p>')
    if report.thumbnails:
        out.append("<div class=thumbs>")
        for t in report.thumbnails:
            o = t.observation
            out.append(
                f'<figure><img alt="overlay {o.date.isoformat()}" src="{data_uri(t.png)}">'
                f"<figcaption>{o.date.isoformat()}: {_n(o.railcars)} railcars "
                f"<code>{escape(shown_name(o.scene))}</code></figcaption></figure>"
            )
        out.append("</div>")
    return out


def _provenance(report: Report) -> list[str]:
    c = report.comparison
    out = [
        "<h2>Provenance</h2>",
        "<table id=provenance><tr><th>date</th><th>railcars</th><th>seen</th><th>GSD</th>"
        "<th>scene</th><th>detector</th></tr>",
        f'<tr style="font-weight:700">{_obs_cells(c.judged)}</tr>',
    ]
    out += [f"<tr>{_obs_cells(o)}</tr>" for o in reversed(c.baseline_obs)]
    out.append("</table>")
    out.append(
        f'<p class="note">First row: the judged count; then the {c.baseline.n} baseline counts. Scenes '
        "are named by their files (report.json gives their paths; this page leaves out the folders "
        "they were in on the machine that made it).</p>"
    )
    det: dict[str, Any] = report.detector
    if det:
        out.append(
            f"<p>Detector version <code>{escape(str(det.get('version')))}</code>.</p>"
            "<details><summary>Detector parameters</summary><pre>"
            f"{escape(json.dumps(det.get('params'), indent=1))}</pre></details>"
        )
    return out
