"""Railcar types on real pixels: the detector's type calls on Muttenz west against types given by eye.

Usage:  python benchmarks/real_types.py [--set NAME=VALUE ...]

The generated suites measure the types (``by_type``) against the generator's
own classes (``benchmarks/accuracy.py``: about nine classified cars in ten
right at 0.3-0.5 m); on real imagery nobody had, because the one real
truth, Muttenz west (``../shared/real``), labels every outline ``wagon``.
``muttenz_west_types.json`` gives each of its 45 outlines a type by eye
(session 56: tank, covered, open, flat, or ``unsure``; with ``sure`` false
where the likelier type is given with doubt, such as a white curved roof
that may be a covered wagon or a tank). Those labels are a person's
reading of smeared, inpainted pixels, not a truth from the source; most
of the wagons are covered wagons, so the table says more about covered
wagons than about the other types.

The script writes a copy of the truth with those types as each outline's
``class`` to a temporary folder, counts the scene against it as
``railcount evaluate`` does, and prints, for the matched wagons, the
detector's calls against the types by eye (``railcar``: left
unclassified), the wagons missed by type, and how many of the classified
calls are right, for the sure labels and for all. Nothing is printed
from the generator. Skips with a message when ``../shared/real`` is
absent.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from railcount.detect.params import DetectorParams
from railcount.io.stations import read_stations
from railcount.io.truth import truth_features
from railcount.models import RAILCAR_TYPES
from railcount.pipeline import evaluate_scene

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import SHARED_REAL, add_set_argument, known_warnings_ignored, params_of, parse_overrides

LABELS = Path(__file__).with_name("muttenz_west_types.json")
KINDS = (*RAILCAR_TYPES, "railcar")
"""The detector's calls: a type, or ``railcar`` when it leaves a car unclassified."""
ROWS = (*RAILCAR_TYPES, "unsure")
DOUBT = "?"
"""Appended to a label's class in the labelled truth where the label is not sure."""


def read_labels(path: Path = LABELS) -> list[dict]:
    """The labels, one per truth feature in order (``feature``, ``class``, ``sure``)."""
    labels = json.loads(path.read_text())["labels"]
    if [lab["feature"] for lab in labels] != list(range(len(labels))):
        raise ValueError(f"{path}: the labels must number the truth's features 0, 1, 2, ... in order")
    return labels


def labelled_truth(feats: list[dict], labels: list[dict]) -> dict:
    """A FeatureCollection of ``feats`` with each label's type as its ``class`` (``unsure`` as
    given; a type that is not sure marked with :data:`DOUBT`)."""
    if len(feats) != len(labels):
        raise ValueError(f"{len(labels)} labels for {len(feats)} truth outlines: the truth file has changed")
    out = []
    for f, lab in zip(feats, labels, strict=True):
        cls = lab["class"]
        if cls not in ROWS:
            raise ValueError(f"label {lab['feature']}: class {cls!r} is none of {', '.join(ROWS)}")
        props = dict(f.get("properties") or {})
        props["class"] = cls if cls == "unsure" or lab.get("sure", True) else cls + DOUBT
        out.append({**f, "properties": props})
    return {"type": "FeatureCollection", "features": out}


def confusion(pairs: Iterable[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """Counts of (label, call): rows :data:`ROWS` (a doubtful label counted with its type), columns
    :data:`KINDS`."""
    table = {r: dict.fromkeys(KINDS, 0) for r in ROWS}
    for called, label in pairs:
        table[label.rstrip(DOUBT)][called] += 1
    return table


def right_of_classified(pairs: Iterable[tuple[str, str]], *, sure_only: bool) -> tuple[int, int]:
    """(right, classified): of the calls other than ``railcar`` on wagons with a type by eye (only
    the sure ones with ``sure_only``), how many name that type."""
    right = classified = 0
    for called, label in pairs:
        if called == "railcar" or label == "unsure" or (sure_only and label.endswith(DOUBT)):
            continue
        classified += 1
        right += called == label.rstrip(DOUBT)
    return right, classified


def type_calls(
    scene: Path, station: Path, feats: list[dict], labels: list[dict], params: DetectorParams | None = None
) -> tuple[list[tuple[str, str]], list[str]]:
    """Count ``scene`` in ``station`` against ``feats`` labelled by ``labels``: (the detector's call,
    the label) of each matched car, and the label of each missed one (doubt marks kept)."""
    truth = labelled_truth(feats, labels)
    with tempfile.TemporaryDirectory() as tmp, known_warnings_ignored():
        path = Path(tmp) / "truth_types.geojson"
        path.write_text(json.dumps(truth))
        (ev,) = evaluate_scene(scene, read_stations(station), path, params=params)
    pairs = [(str(d), str(t)) for d, t in ev.type_pairs]
    return pairs, [str(ev.truth.classes[j]) for j in ev.missed]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_set_argument(ap)
    args = ap.parse_args(argv)
    params = params_of(parse_overrides(args.set, ap))
    folder = SHARED_REAL / "muttenz"
    if not folder.is_dir():
        print(f"no {SHARED_REAL}: nothing to measure (the real scenes are not in the repository)")
        return 0
    feats = truth_features(folder / "truth_west.geojson")
    scene, station = folder / "muttenz_2018.tif", folder / "station_west.geojson"
    pairs, missed_labels = type_calls(scene, station, feats, read_labels(), params)
    missed = [m.rstrip(DOUBT) for m in missed_labels]
    table = confusion(pairs)
    print(f"Muttenz west: the detector's type calls on matched wagons against types by eye ({LABELS.name})")
    print(f"{'by eye':<10}" + "".join(f"{k:>9}" for k in KINDS) + f"{'missed':>9}")
    print("-" * (10 + 9 * (len(KINDS) + 1)))
    for r in ROWS:
        print(f"{r:<10}" + "".join(f"{table[r][k]:>9}" for k in KINDS) + f"{missed.count(r):>9}")
    print("-" * (10 + 9 * (len(KINDS) + 1)))
    typed = sum(1 for _, t in pairs if t != "unsure")
    classified = right_of_classified(pairs, sure_only=False)[1]
    print(f"classified: {classified} of the {typed} matched wagons with a type by eye")
    for sure_only, what in ((True, "sure labels"), (False, "sure and likely labels")):
        right, n = right_of_classified(pairs, sure_only=sure_only)
        print(f"right of classified, {what}: {right} / {n}" + (f" = {right / n:.0%}" if n else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
