"""The baseline chart: a station's counts over time and where the judged count stands.

matplotlib is imported here only, lazily, with the Agg backend. The function
takes data and an optional ``ax`` and returns the figure; saving is the
caller's business.

Colours are from the Okabe-Ito colour-blind-safe set (as in the overlay).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from railcount.cautions import is_along, is_light_stretch, is_short_shadow, is_stretched
from railcount.counting import LIGHT_STRETCH_INTERVAL_SINCE, SHORT_INTERVAL_SINCE, STRETCHED_INTERVAL_SINCE
from railcount.report.baseline import Comparison, Observation, synthetic_note

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Okabe-Ito
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#999999"
_PERIOD_COLOURS = (PURPLE, GREEN, ORANGE, SKY_BLUE)
SHORT_SHADOW_DASH = (0, (1.0, 1.6))
"""How the interval line of a count under short shadows is drawn (dotted; the interval widened for them)."""

VERDICT_WORDS = {
    "unprecedented": "UNPRECEDENTED",
    "elevated": "ELEVATED",
    "normal": "NORMAL",
    "insufficient-history": "TOO LITTLE HISTORY TO JUDGE",
}


def _dt(d: date) -> float:
    """Noon of ``d`` as a matplotlib date number."""
    import matplotlib.dates as mdates

    return float(mdates.date2num(datetime.combine(d, time(12))))


def title_of(c: Comparison) -> str:
    """The chart's title: station, verdict and the count in one line."""
    s, j = c.baseline, c.judged
    word = VERDICT_WORDS.get(c.verdict, c.verdict.upper())
    years = c.baseline_label.replace("-year", " years") if c.baseline_label != "baseline" else "baseline"
    if c.verdict == "unprecedented":
        tail = f"above all {s.n} observations of the previous {years}"
    elif c.verdict == "elevated":
        tail = f"above the {c.thresholds.elevated_percentile:g}th percentile of the previous {years}"
    elif c.verdict == "normal":
        tail = f"within the usual range of the previous {years}"
    else:
        plural = "s" if s.n != 1 else ""
        tail = f"only {s.n} earlier observation{plural} (need {c.thresholds.min_observations})"
    # A chart travels without its report: one made from generated scenes says so in its title.
    made = "SYNTHETIC DATA \N{EM DASH} " if synthetic_note(c) else ""
    return f"{made}{c.station}: {word}\n{j.railcars:g} railcars on {j.date.isoformat()}, {tail}"


def _widened_for(o: Observation, caution: Callable[[str], bool], since: tuple[int, ...]) -> bool:
    """Whether ``o`` came with a caution ``caution`` recognises from the detector version ``since`` on,
    which widened its interval (an earlier, unknown or unreleased version's was not)."""
    if not any(caution(n) for n in o.warnings) or not o.detector_version:
        return False
    try:
        version = tuple(int(part) for part in o.detector_version.split(".")[:3])
    except ValueError:
        return False
    return version >= since


def widened_for_short_shadows(o: Observation) -> bool:
    """Whether a count's interval was widened for a high sun's short shadows: it came with the
    short-shadow caution from detector 0.6.18 or later (an earlier or unknown version's was not)."""
    return _widened_for(o, is_short_shadow, SHORT_INTERVAL_SINCE)


def widened_for_stretch(o: Observation) -> bool:
    """Whether a count's interval was widened (downwards) for a contrast-stretched picture: it came
    with the stretched caution from detector 0.6.28 or later."""
    return _widened_for(o, is_stretched, STRETCHED_INTERVAL_SINCE)


def widened_for_light_stretch(o: Observation) -> bool:
    """Whether a count's interval was widened (downwards) for a lightly stretched picture: it came with
    the light stretch's caution from detector 0.6.30 or later."""
    return _widened_for(o, is_light_stretch, LIGHT_STRETCH_INTERVAL_SINCE)


def widened(o: Observation) -> bool:
    """Whether a count's interval was widened for a doubt its caution names (its line is dotted)."""
    return widened_for_short_shadows(o) or widened_for_stretch(o) or widened_for_light_stretch(o)


def _dot_interval(bars: Any) -> None:
    """Draw the interval lines of an ``errorbar`` container (its vertical bars) dotted."""
    (vertical,) = bars.lines[2]
    vertical.set_linestyle(SHORT_SHADOW_DASH)


def baseline_chart(
    comparison: Comparison,
    history: Sequence[Observation],
    *,
    ax: Axes | None = None,
    show_after: bool = False,
) -> Figure:
    """Counts over time with their intervals, the baseline and the judged count.

    Parameters
    ----------
    comparison : Comparison
        The result of :func:`railcount.report.baseline.compare`.
    history : sequence of Observation
        Every observation of the station (the chart shows those up to the
        judged date; later ones too with ``show_after``).
    ax : matplotlib Axes, optional
        Draw here; default a new 11 x 5.5 inch figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    # A bare Figure draws with the Agg canvas whatever pyplot's backend is (and never opens a window).
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    own = ax is None
    if ax is None:
        fig = Figure(figsize=(11, 6.2), dpi=110, layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.get_figure()  # type: ignore[assignment]
    c, s, j = comparison, comparison.baseline, comparison.judged
    base_ids = {id(o) for o in c.baseline_obs}
    excl_ids = {id(o) for o in c.excluded}
    shown = [o for o in history if (show_after or o.date <= j.date) and o is not j and o.date != j.date]
    legend: list[Any] = []

    # Baseline window, shaded, with its median and 10-90 % band.
    x0, x1 = _dt(c.baseline_start), _dt(c.baseline_end)
    ax.axvspan(x0, x1, color="#EEEEEE", zorder=0, lw=0)
    legend.append(Patch(color="#E4E4E4", label=f"baseline window ({c.baseline_label})"))
    for i, p in enumerate(c.period_spans):
        col = _PERIOD_COLOURS[i % len(_PERIOD_COLOURS)]
        ax.axvspan(_dt(p.start), _dt(p.end), ymin=0.965, ymax=1.0, color=col, alpha=0.85, lw=0, zorder=1)
        ax.axvspan(_dt(p.start), _dt(p.end), color=col, alpha=0.10, lw=0, zorder=0)
        ax.annotate(
            p.name,
            (_dt(p.end), 0.96),
            xycoords=("data", "axes fraction"),
            xytext=(-4, -2),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=9.5,
            color="#6b2f55",
            fontweight="bold",
            zorder=6,
        )
        legend.append(Patch(color=col, alpha=0.5, label=f"period: {p.name}"))
    if s.n and s.median is not None and s.p10 is not None and s.p90 is not None:
        # The band spans the baseline's observations, not the empty part of the window.
        b0 = _dt(s.first) if s.first else x0
        ax.fill_between([b0, x1], [s.p10] * 2, [s.p90] * 2, color=SKY_BLUE, alpha=0.30, lw=0, zorder=1)
        ax.plot([b0, x1], [s.median] * 2, color=BLUE, lw=2, zorder=3)
        legend.append(Patch(color=SKY_BLUE, alpha=0.45, label="baseline 10-90 % range"))
        legend.append(Line2D([], [], color=BLUE, lw=2, label=f"baseline median ({s.median:g})"))

    # Every observation with its interval; excluded (poorly observed) ones hollow.
    groups: list[tuple[list[Observation], dict[str, Any]]] = [
        ([o for o in shown if id(o) in base_ids], {"color": BLACK, "mfc": BLACK}),
        ([o for o in shown if id(o) not in base_ids and id(o) not in excl_ids], {"color": GREY, "mfc": GREY}),
        ([o for o in shown if id(o) in excl_ids], {"color": GREY, "mfc": "white"}),
    ]
    # A count under a high sun's short shadows has an interval widened for them (detector 0.6.18):
    # its line is dotted, so that a tall summer line reads as doubt, not as a busy day.
    short = {id(o) for o in shown if widened(o)}
    for (group, style), dotted in itertools.product(groups, (False, True)):
        part = [o for o in group if (id(o) in short) == dotted]
        if not part:
            continue
        xs = [_dt(o.date) for o in part]
        ys = [o.railcars for o in part]
        err = [[o.railcars - o.low for o in part], [o.high - o.railcars for o in part]]
        bars = ax.errorbar(xs, ys, yerr=err, fmt="o", ms=4, lw=0.9, capsize=0, zorder=4, **style)
        if dotted:
            _dot_interval(bars)
    legend.append(Line2D([], [], color=BLACK, marker="o", ms=4, lw=0.9, label="count (line: its interval)"))
    why = [
        reason
        for reason, test in (
            ("high sun, short shadows", widened_for_short_shadows),
            ("stretched picture", widened_for_stretch),
            ("lightly stretched picture", widened_for_light_stretch),
        )
        if any(test(o) for o in [*shown, j])
    ]
    if why:
        label = f"interval widened: {'; '.join(why)}"
        legend.append(Line2D([], [], color=BLACK, lw=0.9, ls=SHORT_SHADOW_DASH, label=label))
    if any(id(o) not in base_ids and id(o) not in excl_ids for o in shown):
        legend.append(Line2D([], [], color=GREY, marker="o", ms=4, ls="", label="count outside the baseline"))
    if c.excluded:
        legend.append(
            Line2D(
                [],
                [],
                color=GREY,
                mfc="white",
                marker="o",
                ms=4,
                ls="",
                label=f"left out: under {c.min_observed:.0%} of station seen",
            )
        )
    # Counts that came with a warning of the sun along the tracks (two cars in three found: likely
    # low) are ringed. Coarse imagery is the product's, often shared by the whole history, and a high
    # sun's short shadows mark every summer count of a coarse history (6-9 % low on Tumangang-like
    # yards): the caveats say those once (no rings).
    warned = [o for o in shown if any(is_along(n) for n in o.warnings)]
    judged_warned = any(is_along(n) for n in j.warnings)
    for group, size in ((warned, 10), ([j] if judged_warned else [], 20)):
        if group:
            xs = [_dt(o.date) for o in group]
            ys = [o.railcars for o in group]
            ax.plot(xs, ys, ls="", marker="o", ms=size, mfc="none", mec=PURPLE, mew=1.8, zorder=9)
    if warned or judged_warned:
        label = "count with a warning (likely low)"
        legend.append(Line2D([], [], color=PURPLE, marker="o", mfc="none", ms=9, mew=1.8, ls="", label=label))

    # The previous maximum.
    if s.max is not None and s.max_date is not None:
        left = min([c.baseline_start, *(o.date for o in shown)])
        where = (s.max_date - left).days / max(1, (j.date - left).days)
        # The label reads away from the nearer edge, so it stays inside the plot: leftwards from a
        # high late in the window, rightwards from one early in it (it would cross the axis), else
        # centred on it.
        ha, dx = ("right", 6) if where > 0.75 else ("left", -6) if where < 0.25 else ("center", 0)
        ax.axhline(s.max, color=ORANGE, lw=1.4, ls="--", zorder=2)
        ax.plot([_dt(s.max_date)], [s.max], marker="o", ms=13, mfc="none", mec=ORANGE, mew=2.2, zorder=5)
        ax.annotate(
            f"previous high: {s.max:g} ({s.max_date.isoformat()})",
            (_dt(s.max_date), s.max),
            xytext=(dx, 10),
            textcoords="offset points",
            ha=ha,
            va="bottom",
            fontsize=10,
            color="#8a5d00",
            fontweight="bold",
            zorder=6,
            # On a light ground of its own: the counts' interval lines run behind it.
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
        )
        legend.append(Line2D([], [], color=ORANGE, lw=1.4, ls="--", label="previous high"))

    # The judged observation.
    jx = _dt(j.date)
    judged_bars = ax.errorbar(
        [jx],
        [j.railcars],
        yerr=[[j.railcars - j.low], [j.high - j.railcars]],
        fmt="D",
        ms=11,
        color=VERMILLION,
        mec=BLACK,
        mew=1.0,
        lw=2.4,
        capsize=5,
        zorder=7,
    )
    if widened(j):
        _dot_interval(judged_bars)
    interval = f" ({j.low:g}-{j.high:g})" if j.low != j.high else ""
    ax.annotate(
        f"{j.railcars:g}{interval}\n{j.date.isoformat()}",
        (jx, j.railcars),
        xytext=(-14, 0),
        textcoords="offset points",
        ha="right",
        va="center",
        fontsize=13,
        fontweight="bold",
        color=VERMILLION,
        zorder=8,
        bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": VERMILLION, "alpha": 0.9},
    )
    legend.append(
        Line2D([], [], color=VERMILLION, marker="D", ms=8, mec=BLACK, ls="", label="count being judged")
    )

    top = max([j.high, *(o.high for o in shown)], default=1.0)
    ax.set_ylim(0, top * 1.15 + 1)
    ax.set_ylabel("railcars counted", fontsize=11)
    # Start at the first count: an empty stretch of window says nothing.
    first = min([j.date, *(o.date for o in shown)])
    pad = max(15.0, 0.03 * (j.date - first).days)
    ax.set_xlim(_dt(first) - pad, _dt(j.date) + pad)
    ax.xaxis_date()
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=10))
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.grid(axis="y", color="#DDDDDD", lw=0.8, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    head, _, detail = title_of(c).partition("\n")
    if own:
        ax.set_title(detail, loc="left", fontsize=11)
        fig.suptitle(
            head,
            x=0.01,
            ha="left",
            fontsize=15,
            fontweight="bold",
            color=VERMILLION if c.verdict in ("unprecedented", "elevated") else BLACK,
        )
    else:
        ax.set_title(f"{head}\n{detail}", loc="left", fontsize=11, fontweight="bold")
    ax.legend(
        handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.07), fontsize=9, frameon=False, ncols=4
    )
    if own:
        # A chart travels without its report: the rule it was judged by, the detector and the caveats.
        fig.supxlabel(footnote(c), x=0.01, ha="left", fontsize=8, color="#555555")
    return fig


def footnote(c: Comparison) -> str:
    """The chart's last line: what the verdict compared, the detector, and how many caveats the report
    gives (a chart shared alone still says them)."""
    j = c.judged
    probe = "the count's low end" if c.thresholds.use_interval else "the count"
    rule = {
        "unprecedented": f"{probe} above every baseline count",
        "elevated": f"{probe} above the baseline's {c.thresholds.elevated_percentile:g}th percentile",
        "normal": f"{probe} within the baseline's range",
    }.get(c.verdict, f"fewer than {c.thresholds.min_observations} baseline counts")
    version = f"detector {j.detector_version}" if j.detector_version else "detector unknown"
    n = len(c.caveats)
    said = f"{n} caveat{'s' if n != 1 else ''} in the report" if n else "no caveats"
    gsd = f"; judged scene at {j.gsd_m:.2f} m" if j.gsd_m else ""
    return f"Verdict: {rule}. railcount {version}{gsd}; {said}."
