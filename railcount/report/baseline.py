"""Is a count out of line with the station's history? Pure statistics, no I/O.

The observation being judged is compared with a *baseline*: every earlier,
well-observed observation of the same station within a window (by default the
five years before it). The result is a frozen :class:`Comparison` holding the
baseline's statistics, the count's standing in it, a verdict and one plain
sentence.

Verdicts (thresholds in :class:`Thresholds`, all configurable):

* ``insufficient-history`` -- fewer than ``min_observations`` (default 5)
  baseline observations; no judgement is made.
* ``unprecedented`` -- the count is above every baseline observation. With
  ``use_interval`` (default) it is the *low end* of the count's interval that
  must be above the previous maximum, so an uncertain count is not called
  unprecedented on its point estimate alone.
* ``elevated`` -- the count (its low end, with ``use_interval``) is above the
  baseline's ``elevated_percentile`` (default the 90th percentile).
* ``normal`` -- anything else.

Definitions:

* percentile rank: the share of baseline observations below the count, ties
  counting half (``scipy.stats.percentileofscore(kind="mean")``), 0-100;
* robust z-score: ``(count - median) / (1.4826 * MAD)``, MAD the median
  absolute deviation; ``None`` when the MAD is 0 (half or more of the baseline
  share one value);
* quantiles are numpy's default (linear interpolation).

>>> from datetime import date, datetime
>>> hist = [Observation(date(2020, 1, d), 10 + d % 3) for d in range(1, 21)]
>>> c = compare(Observation(date(2020, 2, 1), 30, 27, 33), hist)
>>> c.verdict, c.baseline.n, c.baseline.max
('unprecedented', 20, 12.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from railcount.cautions import (
    COARSE_GSD_M,
    COARSE_REAL_FINDINGS,
    coarse_gsd,
    is_light_stretch,
    is_stretched,
    missed_kinds,
    scene_cautions,
)

VERDICTS = ("normal", "elevated", "unprecedented", "insufficient-history")
MAD_TO_SIGMA = 1.4826
"""Scales the MAD to the standard deviation of a normal distribution."""


@dataclass(frozen=True)
class Observation:
    """One count of one station on one date (from a history CSV or the results store).

    ``railcars_low``/``railcars_high`` are the count's interval (``None``: the
    count itself); ``observed_fraction`` is the share of the station seen
    (``None``: unknown, assumed fully seen).
    """

    date: date
    railcars: float
    railcars_low: float | None = None
    railcars_high: float | None = None
    observed_fraction: float | None = None
    scene: str | None = None
    gsd_m: float | None = None
    detector_version: str | None = None
    params: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)
    # True: counted with no time of day (the sun assumed); None: not known (a history CSV's date).
    time_unknown: bool | None = field(default=None, compare=False)
    # The files of a scene counted as a mosaic of tiles (``scene`` is then its label); () for one file.
    tiles: tuple[str, ...] = field(default=(), compare=False)
    # The acquisition time the count was made at (a STAC item's or a scene list's, else the file's), to
    # count the scene again at it; None where the history gives a date alone (a CSV).
    acquired_at: datetime | None = field(default=None, compare=False)
    # Where acquired_at came from (a key of railcount.io.scenes.ACQUIRED_FROM), when the record says.
    acquired_from: str | None = field(default=None, compare=False)
    # The shadows' bearing the count placed its sun from (a scene list's shadows=), or None.
    shadows_toward: float | None = field(default=None, compare=False)
    # The file's bands the count read as red, green, blue (a batch's or a count's --bands), or ().
    bands: tuple[int, ...] = field(default=(), compare=False)
    # The results store's identity of the scene's content (railcount.io.sources.scene_key), or None
    # (a history CSV): how a report's --scene is known for the same file under another path.
    scene_key: str | None = field(default=None, compare=False)
    # True: counted on a scene made by railcount synth (a demonstration, not an observation).
    synthetic: bool = field(default=False, compare=False)

    @property
    def low(self) -> float:
        return self.railcars if self.railcars_low is None else self.railcars_low

    @property
    def high(self) -> float:
        return self.railcars if self.railcars_high is None else self.railcars_high


@dataclass(frozen=True)
class Thresholds:
    """What the verdict needs; see the module docstring."""

    min_observations: int = 5
    elevated_percentile: float = 90.0
    use_interval: bool = True


@dataclass(frozen=True)
class Period:
    """A named span of dates (both ends included), e.g. ``pre-pandemic=2018-01-01:2020-01-31``."""

    name: str
    start: date
    end: date


@dataclass(frozen=True)
class Stats:
    """Statistics of a set of observations, and the judged count's standing among them.

    Values are ``None`` where they are undefined (no observations, a zero
    median or MAD).
    """

    n: int
    first: date | None
    last: date | None
    median: float | None
    q1: float | None
    q3: float | None
    iqr: float | None
    mean: float | None
    p10: float | None
    p90: float | None
    max: float | None
    max_date: date | None
    max_scene: str | None
    percentile: float | None
    robust_z: float | None
    ratio_to_median: float | None
    ratio_to_max: float | None
    reached: int
    """Observations at or above the judged count."""
    above_all: bool
    """The count (its low end, with ``use_interval``) is above every observation."""
    elevated_cut: float | None = None
    """The percentile above which a count is elevated (``Thresholds.elevated_percentile``)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            if isinstance(v, date):
                v = v.isoformat()
            elif isinstance(v, float):
                v = round(v, 3)
            out[k] = v
        return out


@dataclass(frozen=True)
class Comparison:
    """A judged observation against its baseline: the statistics, verdict and sentence."""

    station: str
    judged: Observation
    baseline_start: date
    baseline_end: date
    baseline_label: str
    """``"5-year"`` or ``"baseline"`` (explicit dates), used in the sentence."""
    baseline: Stats
    baseline_obs: tuple[Observation, ...]
    excluded: tuple[Observation, ...]
    """Earlier observations in the window left out as poorly observed."""
    periods: dict[str, Stats]
    period_spans: tuple[Period, ...]
    verdict: str
    sentence: str
    thresholds: Thresholds
    min_observed: float
    caveats: tuple[str, ...] = ()
    """Things that weaken the comparison (a poorly seen judged scene, another detector or GSD)."""

    def __repr__(self) -> str:
        # (The dataclass's own printed every baseline observation: tens of thousands of characters.)
        return f"<Comparison {self.station!r} {self.judged.date.isoformat()}: {self.sentence}>"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object printed by ``railcount report --json``."""
        j = self.judged
        return {
            "station": self.station,
            "date": j.date.isoformat(),
            "scene": j.scene,
            "verdict": self.verdict,
            "railcars": j.railcars,
            "railcars_low": j.low,
            "railcars_high": j.high,
            "observed_fraction": j.observed_fraction,
            "percentile": _round(self.baseline.percentile),
            "robust_z": _round(self.baseline.robust_z),
            "baseline": {
                "from": self.baseline_start.isoformat(),
                "to": self.baseline_end.isoformat(),
                "excluded_poorly_observed": len(self.excluded),
                "min_observed": self.min_observed,
                **self.baseline.to_dict(),
            },
            "periods": {
                p.name: {
                    "from": p.start.isoformat(),
                    "to": p.end.isoformat(),
                    **self.periods[p.name].to_dict(),
                }
                for p in self.period_spans
            },
            "thresholds": {
                "min_observations": self.thresholds.min_observations,
                "elevated_percentile": self.thresholds.elevated_percentile,
                "use_interval": self.thresholds.use_interval,
            },
            "sentence": self.sentence,
            "caveats": list(self.caveats),
        }


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def describe(
    values: Sequence[float],
    dates: Sequence[date],
    scenes: Sequence[str | None],
    judged: Observation,
    *,
    use_interval: bool = True,
    elevated_percentile: float = 90.0,
) -> Stats:
    """Statistics of ``values`` (observed on ``dates``) and where ``judged`` stands among them."""
    x = float(judged.railcars)
    probe = float(judged.low) if use_interval else x
    n = len(values)
    if n == 0:
        empty: dict[str, Any] = {f.name: None for f in fields(Stats)}
        return Stats(**{**empty, "n": 0, "reached": 0, "above_all": False})
    v = np.asarray(values, dtype=float)
    q10, q1, med, q3, q90 = (float(q) for q in np.percentile(v, [10, 25, 50, 75, 90]))
    imax = int(np.argmax(v))  # the first date the maximum was reached
    vmax = float(v[imax])
    mad = float(np.median(np.abs(v - med)))
    below, equal = int(np.sum(v < x)), int(np.sum(v == x))
    return Stats(
        n=n,
        first=min(dates),
        last=max(dates),
        median=med,
        q1=q1,
        q3=q3,
        iqr=q3 - q1,
        mean=float(v.mean()),
        p10=q10,
        p90=q90,
        max=vmax,
        max_date=dates[imax],
        max_scene=scenes[imax],
        percentile=100.0 * (below + 0.5 * equal) / n,
        robust_z=(x - med) / (MAD_TO_SIGMA * mad) if mad > 0 else None,
        ratio_to_median=x / med if med > 0 else None,
        ratio_to_max=x / vmax if vmax > 0 else None,
        reached=int(np.sum(v >= x)),
        above_all=probe > vmax,
        elevated_cut=float(np.percentile(v, elevated_percentile)),
    )


def compare(
    judged: Observation,
    history: Sequence[Observation],
    *,
    station: str = "",
    baseline_years: int = 5,
    baseline_from: date | None = None,
    baseline_to: date | None = None,
    periods: Sequence[Period] = (),
    min_observed: float = 0.8,
    thresholds: Thresholds | None = None,
) -> Comparison:
    """Compare ``judged`` with the earlier observations in ``history``.

    Parameters
    ----------
    judged : Observation
        The count being judged.
    history : sequence of Observation
        The station's observations (may include ``judged`` and later ones:
        only those strictly before ``judged.date`` are used).
    station : str
        The station's name, for the sentence.
    baseline_years : int
        Length of the default window, ending the day before ``judged.date``.
    baseline_from, baseline_to : date, optional
        An explicit window (both ends included), instead of ``baseline_years``.
    periods : sequence of Period
        Named spans compared too (earlier, well-observed observations only).
    min_observed : float
        Observations with ``observed_fraction`` below this are left out.
    thresholds : Thresholds, optional
        Verdict thresholds; default :class:`Thresholds()`.
    """
    th = thresholds or Thresholds()
    day_before = judged.date - timedelta(days=1)
    explicit = baseline_from is not None or baseline_to is not None
    start = baseline_from or years_before(judged.date, baseline_years)
    end = min(baseline_to or day_before, day_before)
    earlier = sorted((o for o in history if o.date < judged.date), key=lambda o: o.date)

    def well_seen(o: Observation) -> bool:
        return o.observed_fraction is None or o.observed_fraction >= min_observed

    in_window = [o for o in earlier if start <= o.date <= end]
    base = tuple(o for o in in_window if well_seen(o))
    excluded = tuple(o for o in in_window if not well_seen(o))
    stats = _stats_of(base, judged, th)
    period_stats = {
        p.name: _stats_of([o for o in earlier if p.start <= o.date <= p.end and well_seen(o)], judged, th)
        for p in periods
    }
    verdict = judge(stats, judged, th)
    label = "baseline" if explicit else f"{baseline_years}-year"
    comp = Comparison(
        station=station,
        judged=judged,
        baseline_start=start,
        baseline_end=end,
        baseline_label=label,
        baseline=stats,
        baseline_obs=base,
        excluded=excluded,
        periods=period_stats,
        period_spans=tuple(periods),
        verdict=verdict,
        sentence="",
        thresholds=th,
        min_observed=min_observed,
    )
    return replace(comp, sentence=sentence(comp), caveats=caveats(comp))


def caveats(c: Comparison) -> tuple[str, ...]:
    """Plain warnings about what makes the judged count and its baseline hard to compare."""
    j, out = c.judged, []
    made = synthetic_note(c)
    if made:
        out.append(made)
    if j.observed_fraction is not None and j.observed_fraction < c.min_observed:
        out.append(
            f"only {j.observed_fraction:.0%} of the station was seen on {j.date.isoformat()}; "
            "the count may miss cars that were not seen"
        )
    versions = sorted({o.detector_version for o in c.baseline_obs if o.detector_version})
    if j.detector_version and versions and versions != [j.detector_version]:
        out.append(
            f"the judged count is from detector {j.detector_version}, the baseline's from "
            f"{', '.join(versions)}; recount the history with one detector to compare like with like"
        )
    for note in scene_cautions(j.warnings):
        out.append(f"the count on {j.date.isoformat()} came with a warning: {note}")
    if j.time_unknown:
        out.append(
            f"the count on {j.date.isoformat()} was made with no time of day: the sun was assumed at 10:30 "
            "local solar time, so shadows may have been read on the wrong side (buildings taken for cars); "
            "if the acquisition time is known, count the scene again with it (railcount count --acquired), "
            "or with the bearing its shadows point to on the image (--shadows-toward)"
        )
    # Every scene caution but a stretched picture's (lightly or not) says cars are missed; those say the
    # count is high.
    warned = [o for o in c.baseline_obs if any(not _processed(n) for n in scene_cautions(o.warnings))]
    if warned:
        kinds = missed_kinds(n for o in warned for n in scene_cautions(o.warnings))
        out.append(
            f"{len(warned)} of the {len(c.baseline_obs)} baseline counts came with a warning "
            f"({' or '.join(kinds) or 'see each'}, where cars are missed), the first on "
            f"{min(o.date for o in warned).isoformat()}; those counts may be low (see the warnings column of "
            "railcount export)"
        )
    stretched = [o for o in c.baseline_obs if any(_processed(n) for n in o.warnings)]
    if stretched:
        out.append(
            f"{len(stretched)} of the {len(c.baseline_obs)} baseline counts "
            f"{'was' if len(stretched) == 1 else 'were'} made on contrast-stretched "
            f"pictures (their darkest tones clipped to black, or a few), the first on "
            f"{min(o.date for o in stretched).isoformat()}; such pictures are counted high (see the warnings "
            "column of railcount export): count the providers' unstretched files if there are any"
        )
    unknown = [o for o in c.baseline_obs if o.time_unknown]
    if unknown:
        out.append(
            f"{len(unknown)} of the {len(c.baseline_obs)} baseline counts were made with no time of day "
            "(the sun assumed at 10:30 local solar time); where it was far from that hour their shadows may "
            "have been read on the wrong side (a batch takes scene times from a scene list or STAC)"
        )
    coarse = _coarse_caveat(c)
    if coarse:
        out.append(coarse)
    gsds = [o.gsd_m for o in c.baseline_obs if o.gsd_m]
    if j.gsd_m and gsds:
        med = float(np.median(gsds))
        if max(j.gsd_m, med) / min(j.gsd_m, med) > 1.5:
            out.append(
                f"the judged scene's ground sample distance is {j.gsd_m:.2f} m, the baseline's median "
                f"{med:.2f} m; counts at such different resolutions are not directly comparable"
            )
    return tuple(out)


def synthetic_note(c: Comparison) -> str:
    """The first caveat when the judged count or any baseline count was made on a scene ``railcount
    synth`` generated (else ""): such a report demonstrates the method and says nothing of the station.

    >>> from datetime import date
    >>> o = Observation(date(2023, 10, 5), 73, synthetic=True)
    >>> history = [Observation(date(2023, 1, d), 20 + d, synthetic=True) for d in range(1, 8)]
    >>> c = compare(o, history, station="T")
    >>> synthetic_note(c)[:61]
    'SYNTHETIC DATA: the count on 2023-10-05 and 7 of the 7 baseli'
    """
    j = c.judged
    n = sum(o.synthetic for o in c.baseline_obs)
    if not j.synthetic and not n:
        return ""
    which = [f"the count on {j.date.isoformat()}"] if j.synthetic else []
    if n:
        which.append(f"{n} of the {len(c.baseline_obs)} baseline counts")
    several = len(which) > 1 or n > 1
    return (
        f"SYNTHETIC DATA: {' and '.join(which)} {'were' if several else 'was'} made on "
        f"{'scenes' if several else 'a scene'} railcount synth generated, not on acquisitions: this report "
        f"demonstrates the method and says nothing about the real {c.station}"
    )


def _processed(caution: str) -> bool:
    """Whether a stored caution says the picture was processed for display (contrast-stretched, or
    lightly so): it is counted high, not low."""
    return is_stretched(caution) or is_light_stretch(caution)


def _coarse_caveat(c: Comparison) -> str:
    """One caveat when the judged count or any baseline count was made on imagery too coarse to see the
    gaps between coupled cars (:mod:`railcount.cautions`), else ""."""
    j = c.judged
    n_coarse = sum(coarse_gsd(o.gsd_m) for o in c.baseline_obs)
    if not coarse_gsd(j.gsd_m) and not n_coarse:
        return ""
    which = [f"the count on {j.date.isoformat()}"] if coarse_gsd(j.gsd_m) else []
    if n_coarse:
        which.append(f"{n_coarse} of the {len(c.baseline_obs)} baseline counts")
    return (
        f"{' and '.join(which)} {'were' if len(which) > 1 or n_coarse > 1 else 'was'} made on imagery "
        f"coarser than {COARSE_GSD_M:g} m, where runs of coupled cars are counted by their length; "
        f"{COARSE_REAL_FINDINGS}: read such counts as floors, compare them with counts at the same "
        "resolution, and check their overlays"
    )


def judge(stats: Stats, judged: Observation, thresholds: Thresholds) -> str:
    """The verdict for ``judged`` against baseline ``stats`` (see the module docstring)."""
    if stats.n < thresholds.min_observations or stats.max is None:
        return "insufficient-history"
    probe = judged.low if thresholds.use_interval else judged.railcars
    if stats.above_all:
        return "unprecedented"
    return "elevated" if stats.elevated_cut is not None and probe > stats.elevated_cut else "normal"


def _stats_of(obs: Sequence[Observation], judged: Observation, th: Thresholds) -> Stats:
    return describe(
        [o.railcars for o in obs],
        [o.date for o in obs],
        [o.scene for o in obs],
        judged,
        use_interval=th.use_interval,
        elevated_percentile=th.elevated_percentile,
    )


def format_count(x: float, digits: int = 1) -> str:
    """A number for prose and tables: no decimals when whole, else ``digits`` of them."""
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.{digits}f}"


def _ordinal(p: float) -> str:
    n = int(p) if float(p).is_integer() else p
    if isinstance(n, float):
        return f"{n}th"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def sentence(c: Comparison) -> str:
    """One plain sentence stating the count, its standing and the previous high."""
    j, s = c.judged, c.baseline
    head = f"{format_count(j.railcars)} railcars"
    if j.low != j.high:
        head += f" (likely {format_count(j.low)}-{format_count(j.high)})"
    head += f" on {j.date.isoformat()}"
    if c.baseline_label == "baseline":
        span = f"from {c.baseline_start.isoformat()} to {c.baseline_end.isoformat()}"
    else:
        span = f"in the {c.baseline_label.replace('-year', ' years')} before"
    if s.n == 0 or s.median is None or s.max is None or s.max_date is None or s.first is None:
        return f"{head}: no well-observed earlier observations {span}; no verdict."
    plural = "s" if s.n != 1 else ""
    if c.verdict == "insufficient-history":
        return (
            f"{head}: only {s.n} well-observed observation{plural} {span} "
            f"(at least {c.thresholds.min_observations} needed), so no verdict; "
            f"their median is {format_count(s.median)} and their high {format_count(s.max)} "
            f"on {s.max_date.isoformat()}."
        )
    median = f"the {c.baseline_label} median of {format_count(s.median)}"
    if c.baseline_label == "baseline":
        median = f"the median of {format_count(s.median)} {span}"
    rel = f"{s.ratio_to_median:.1f}x {median}" if s.ratio_to_median is not None else f"{median} was 0"
    since = f"{s.n} observation{plural} since {s.first.isoformat()}"
    high = f"the previous high was {format_count(s.max)} on {s.max_date.isoformat()}"
    if c.verdict == "unprecedented":
        return f"{head}: {rel} and above all {since}; {high}."
    if c.verdict == "elevated":
        reached = f"{s.reached} reached it" if s.reached else "its low end is not above all of them"
        return (
            f"{head}: {rel}, above the usual range ({_ordinal(c.thresholds.elevated_percentile)} "
            f"percentile {format_count(s.elevated_cut or 0)}) "
            f"of {since}, but not unprecedented ({reached}); {high}."
        )
    return f"{head}: {rel}, within the usual range of {since}; {high}."
