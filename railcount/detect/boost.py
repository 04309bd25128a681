"""Gradient-boosted decision trees in numpy: the car model's scorer (fit and predict).

The car model judges each candidate from about fifty measurements. A
logistic model adds their effects up; but whether a dark band is a car
depends on combinations (dark *and* beside a sunlit strip *and* with a solid
shadow beyond), which trees capture and a sum does not. On held-out
generated scenes the trees rank candidates markedly better (see
docs/detector.md, "Boosted trees").

This module is small and self-contained, so the fitted model is a handful of
arrays written into the source by ``benchmarks/fit_car_model.py``; nothing
is downloaded, and no machine-learning library is needed at run time or to
refit.

Trees are complete binary trees of a fixed depth stored level by level
(node ``i`` has children ``2i + 1`` and ``2i + 2``). A node whose feature
is -1 is a leaf; its value is what the tree adds to the log-odds. A sample
goes right when its feature value is above the node's threshold.

Fitting is second-order gradient boosting of the logistic loss on binned
features (each feature's values cut at up to ``bins - 1`` quantiles), grown
level by level with an L2 penalty on leaf values, a minimum number of
samples per leaf and shrinkage: the method of XGBoost and LightGBM, written
out plainly here.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Forest:
    """A fitted ensemble of depth-``depth`` trees.

    Attributes
    ----------
    base : float
        Log-odds every prediction starts from.
    feature : ndarray of int, shape (trees, 2 ** (depth + 1) - 1)
        Feature tested at each node; -1 at leaves (and unused nodes).
    threshold : ndarray of float, same shape
        Go right when the feature value is above this.
    value : ndarray of float, same shape
        Log-odds a leaf adds (0 at inner nodes).
    """

    base: float
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray

    @property
    def depth(self) -> int:
        return int(np.log2(self.feature.shape[1] + 1)) - 1

    def log_odds(self, x: np.ndarray) -> np.ndarray:
        """Summed log-odds of each row of ``x`` (n, features)."""
        x = np.asarray(x, dtype=float)
        n, trees = x.shape[0], self.feature.shape[0]
        node = np.zeros((n, trees), dtype=np.intp)
        tree = np.arange(trees)[None, :]
        rows = np.arange(n)[:, None]
        for _ in range(self.depth):
            f = self.feature[tree, node]
            inner = f >= 0
            right = x[rows, np.maximum(f, 0)] > self.threshold[tree, node]
            node = np.where(inner, 2 * node + 1 + right, node)
        return self.base + self.value[tree, node].sum(axis=1)

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(y = 1) for each row of ``x``."""
        return 1.0 / (1.0 + np.exp(-np.clip(self.log_odds(x), -40.0, 40.0)))


def bin_edges(x: np.ndarray, bins: int) -> list[np.ndarray]:
    """Per feature, the distinct quantile cuts (float32-rounded) at 1/bins ... (bins-1)/bins."""
    q = np.linspace(0.0, 1.0, bins + 1)[1:-1]
    edges = []
    for col in np.asarray(x, dtype=float).T:
        cuts = np.unique(np.quantile(col, q).astype(np.float32).astype(float))
        edges.append(cuts[cuts < col.max()])
    return edges


def fit_forest(
    x: np.ndarray,
    y: np.ndarray,
    *,
    trees: int = 200,
    depth: int = 4,
    rate: float = 0.1,
    l2: float = 1.0,
    min_leaf: int = 20,
    bins: int = 64,
) -> Forest:
    """Fit a :class:`Forest` to labels ``y`` (0/1) by gradient boosting of the logistic loss.

    Deterministic: the same data give the same forest.

    Parameters
    ----------
    x : ndarray, shape (n, features)
    y : ndarray, shape (n,)
    trees, depth : int
        Number of trees and their depth.
    rate : float
        Shrinkage applied to every leaf value.
    l2 : float
        L2 penalty on leaf values (added to the summed Hessian).
    min_leaf : int
        Fewest samples on either side of a split.
    bins : int
        Quantile bins per feature (at most 256).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n, n_feat = x.shape
    edges = bin_edges(x, bins)
    width = max(len(e) for e in edges) + 1
    binned = np.column_stack(
        [np.searchsorted(e, col, side="left") for e, col in zip(edges, x.T, strict=True)]
    )
    flat_base = (np.arange(n_feat) * width)[None, :]
    prior = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    base = float(np.log(prior / (1 - prior)))
    score = np.full(n, base)
    size = 2 ** (depth + 1) - 1
    feature = np.full((trees, size), -1, dtype=np.int64)
    threshold = np.zeros((trees, size))
    value = np.zeros((trees, size))
    for t in range(trees):
        p = 1.0 / (1.0 + np.exp(-score))
        grad, hess = p - y, np.maximum(p * (1 - p), 1e-12)
        node_of = np.zeros(n, dtype=np.int64)
        for level in range(depth + 1):
            for node in range(2**level - 1, 2 ** (level + 1) - 1):
                rows = np.flatnonzero(node_of == node)
                if not rows.size:
                    continue
                g, h = grad[rows].sum(), hess[rows].sum()
                split = (
                    None
                    if level == depth
                    else _best_split(binned[rows], grad[rows], hess[rows], flat_base, width, l2, min_leaf)
                )
                if split is None:
                    value[t, node] = -rate * g / (h + l2)
                    score[rows] += value[t, node]
                    node_of[rows] = -1
                    continue
                f, b = split
                feature[t, node] = f
                threshold[t, node] = edges[f][b]
                right = binned[rows, f] > b
                node_of[rows] = np.where(right, 2 * node + 2, 2 * node + 1)
    return Forest(base, feature, threshold, value)


def _best_split(
    binned: np.ndarray,
    grad: np.ndarray,
    hess: np.ndarray,
    flat_base: np.ndarray,
    width: int,
    l2: float,
    min_leaf: int,
) -> tuple[int, int] | None:
    """(feature, bin) of the split with the largest gain, or None if none gains."""
    m, n_feat = binned.shape
    if m < 2 * min_leaf:
        return None
    flat = (binned + flat_base).ravel()
    total = n_feat * width
    hist_g = np.bincount(flat, weights=np.repeat(grad, n_feat), minlength=total).reshape(n_feat, width)
    hist_h = np.bincount(flat, weights=np.repeat(hess, n_feat), minlength=total).reshape(n_feat, width)
    hist_n = np.bincount(flat, minlength=total).reshape(n_feat, width)
    gl, hl, nl = hist_g.cumsum(axis=1), hist_h.cumsum(axis=1), hist_n.cumsum(axis=1)
    g, h = grad.sum(), hess.sum()
    gr, hr, nr = g - gl, h - hl, m - nl
    gain = gl**2 / (hl + l2) + gr**2 / (hr + l2) - g**2 / (h + l2)
    gain[(nl < min_leaf) | (nr < min_leaf)] = -np.inf
    best = int(np.argmax(gain))
    f, b = divmod(best, width)
    if not np.isfinite(gain[f, b]) or gain[f, b] <= 1e-12:
        return None
    return f, b


_NPY_DATE = (1980, 1, 1, 0, 0, 0)
"""Every member of a forests file is dated this, so that the same forests give the same bytes."""


def forests_bytes(forests: Mapping[str, Forest]) -> bytes:
    """Forests keyed by name as the bytes of a ``.npz`` file (numpy's zip of ``.npy`` arrays):
    ``NAME/base``, ``NAME/feature`` (int8), ``NAME/threshold`` (float32) and ``NAME/value``.

    The bytes depend on the forests alone (members in name order, fixed dates),
    so a refit on the same data rewrites the same file. Many forests (the type models: ten) cost
    far less to store and read this way than as Python source.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(forests):
            forest = forests[name]
            if forest.feature.max(initial=-1) > np.iinfo(np.int8).max:
                raise ValueError(f"forest {name!r} tests a feature beyond int8")
            arrays = {
                "base": np.array(forest.base, dtype=float),
                "feature": forest.feature.astype(np.int8),
                "threshold": forest.threshold.astype(np.float32),
                "value": forest.value.astype(float),
            }
            for key, array in arrays.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, array, allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}/{key}.npy", date_time=_NPY_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, buffer.getvalue())
    return out.getvalue()


def forests_from_bytes(data: bytes) -> dict[str, Forest]:
    """The forests :func:`forests_bytes` wrote, keyed by name (thresholds read back as the float32
    values the fit compared against)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        names = sorted({key.rsplit("/", 1)[0] for key in z.files})
        return {
            name: Forest(
                base=float(z[f"{name}/base"]),
                feature=z[f"{name}/feature"].astype(np.int64),
                threshold=z[f"{name}/threshold"].astype(np.float32).astype(float),
                value=z[f"{name}/value"].astype(float),
            )
            for name in names
        }
