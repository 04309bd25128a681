"""Compare detections with ground truth (pure compute).

A detection matches a true car when their centres lie within half a car
length of each other (7.5 m by default); each true car matches at most one
detection, closest pairs first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Match:
    """Agreement between detected and true railcars in one station."""

    truth: int
    detected: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.detected if self.detected else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.truth if self.truth else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def count_error(self) -> int:
        """Detected minus true count."""
        return self.detected - self.truth


def match_pairs(detected: np.ndarray, truth: np.ndarray, radius: float) -> np.ndarray:
    """Greedy one-to-one (detection index, truth index) pairs within ``radius``, closest first: (k, 2)."""
    detected = np.asarray(detected, dtype=float).reshape(-1, 2)
    truth = np.asarray(truth, dtype=float).reshape(-1, 2)
    if not len(detected) or not len(truth):
        return np.zeros((0, 2), dtype=int)
    d = np.linalg.norm(detected[:, None, :] - truth[None, :, :], axis=2)
    pairs = np.argwhere(d <= radius)
    order = np.argsort(d[pairs[:, 0], pairs[:, 1]], kind="stable")
    used_d: set[int] = set()
    used_t: set[int] = set()
    kept = []
    for i, j in pairs[order]:
        if i not in used_d and j not in used_t:
            used_d.add(int(i))
            used_t.add(int(j))
            kept.append((int(i), int(j)))
    return np.asarray(kept, dtype=int).reshape(-1, 2)


def match_centres(detected: np.ndarray, truth: np.ndarray, radius: float) -> Match:
    """Greedy one-to-one matching of (n, 2) and (m, 2) centre arrays within ``radius``.

    Examples
    --------
    >>> import numpy as np
    >>> m = match_centres(np.array([[0.0, 0.0], [50.0, 0.0]]), np.array([[1.0, 0.0]]), 7.5)
    >>> (m.true_positives, m.precision, m.recall)
    (1, 0.5, 1.0)
    """
    n_det = np.asarray(detected).reshape(-1, 2).shape[0]
    n_true = np.asarray(truth).reshape(-1, 2).shape[0]
    return Match(n_true, n_det, len(match_pairs(detected, truth, radius)))
