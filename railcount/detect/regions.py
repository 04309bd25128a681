"""Where in a window each track direction's lines run: the part of its frame worth searching.

A window is a rectangle around a station; its track frames (one per track
direction, :mod:`~railcount.detect.frame`) are the window rotated, so each
holds up to twice the window's pixels, most of them fields, roads and the
other direction's yard. Rails, ballast edges and car sides make gradients
across one direction only; fields and roofs make them every way or none.
The structure tensor of the log luminance, averaged over blocks a few car
widths wide, says how much gradient energy lies across each direction. A
block belongs to a direction when most of its energy lies across it and
there is enough of it; the frame is then cut to those blocks, widened by
a margin (``DetectorParams.frame_margin_m``) so the filters see every car whole with its surroundings.

The cut is generous by design: leaving grass in costs time, leaving a yard
out costs cars.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

BLOCK_M = 8.0
"""Side of the averaging block (metres): about three car widths."""

REGION_GSD_M = 0.6
"""The tensor is computed no finer than this (metres per pixel)."""

MIN_SHARE = 0.6
"""Share of a block's gradient energy that must lie across the direction (0.5 is no preference)."""

MIN_ENERGY = 0.02
"""Least across-track energy, as a share of the window's 99th percentile of it."""

CELL_M = 4.0
"""Blocks are judged on a grid of this pitch (metres)."""

MIN_AREA_M2 = 300.0
"""A patch of qualifying blocks smaller than this is texture, not a yard (a track 40 m long)."""

JOIN_M = 30.0
"""Patches closer than twice this are cut out as one frame."""


def coarse(
    log_lum: np.ndarray, valid: np.ndarray, gsd_m: float, most_m: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """The log luminance averaged over f x f pixels so its pixels are no finer than ``most_m``
    (f = 1: as it is), where all f x f pixels are valid, and f.

    >>> import numpy as np
    >>> small, ok, f = coarse(np.zeros((301, 400), np.float32), np.ones((301, 400), bool), 0.3, 0.6)
    >>> small.shape, ok.dtype, f
    ((150, 200), dtype('bool'), 2)
    """
    f = max(1, round(most_m / gsd_m))
    if f == 1:
        return log_lum, valid, 1
    rows, cols = log_lum.shape
    size = (max(1, cols // f), max(1, rows // f))
    small = cv2.resize(log_lum[: size[1] * f, : size[0] * f], size, interpolation=cv2.INTER_AREA)
    share = cv2.resize(
        valid[: size[1] * f, : size[0] * f].astype(np.float32), size, interpolation=cv2.INTER_AREA
    )
    return small, share > 0.999, f


def direction_regions(
    small: np.ndarray,
    ok: np.ndarray,
    gsd_m: float,
    f: int,
    shape: tuple[int, int],
    directions: list[float],
    min_shares: list[float] | None = None,
) -> list[list[np.ndarray]]:
    """For each track direction, its patches: window (x, y) points whose convex hull holds one place
    where its tracks and cars may lie. No patch: nothing in the window runs that way.

    Parameters
    ----------
    small, ok, f : ndarray, ndarray of bool, int
        The log luminance of the (working) window and where it is valid, at
        f x f working pixels per pixel (:func:`coarse`, with
        :data:`REGION_GSD_M`).
    gsd_m : float
        Ground sample distance of the working window.
    shape : (rows, cols)
        Of the working window.
    directions : list of float
        Track directions, degrees from +col towards +row.
    min_shares : list of float, optional
        Per direction, the share of a block's gradient energy that must lie
        across it (default :data:`MIN_SHARE` for each).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.random.default_rng(0).normal(0, 0.05, (400, 400)).astype(np.float32)
    >>> img[100:200] += np.sin(np.arange(100) / 2.0)[:, None].astype(np.float32)  # lines along +col
    >>> (patches,) = direction_regions(img, np.ones(img.shape, bool), 0.5, 1, img.shape, [0.0])
    >>> [(int(p[:, 1].min()), int(p[:, 1].max())) for p in patches]  # the lines are rows 100-200
    [(88, 208)]
    """
    rows, cols = shape
    if not directions:
        return []
    jxx, jyy, jxy, inner, px_m = block_tensor(small, ok, gsd_m, f)
    total = jxx + jyy
    c = max(1, round(CELL_M / px_m))  # small pixels per cell
    grid = (max(1, small.shape[1] // c), max(1, small.shape[0] // c))
    cell_m = c * px_m
    min_cells = max(1, int(np.ceil(MIN_AREA_M2 / cell_m**2)))
    join = max(1, round(JOIN_M / cell_m))
    out = []
    for k, angle in enumerate(directions):
        least = MIN_SHARE if min_shares is None else min_shares[k]
        theta = np.deg2rad(angle)
        nx, ny = -np.sin(theta), np.cos(theta)  # unit normal to the track
        across = (nx * nx) * jxx + (2.0 * nx * ny) * jxy + (ny * ny) * jyy
        floor = MIN_ENERGY * float(np.percentile(across[inner], 99.0)) if inner.any() else np.inf
        hit = ((across > least * total) & (across > floor) & inner).astype(np.float32)
        # A cell qualifies when a quarter of it does.
        cells = (cv2.resize(hit, grid, interpolation=cv2.INTER_AREA) >= 0.25).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(cells, connectivity=8)
        big = np.zeros(n, bool)
        big[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_cells
        cells = big[labels].astype(np.uint8)
        # Patches within twice JOIN_M of each other become one.
        near = cv2.dilate(cells, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * join + 1, 2 * join + 1)))
        n, groups = cv2.connectedComponents(near, connectivity=8)
        patches = []
        for g in range(1, n):
            pts = np.column_stack(np.nonzero((groups == g) & (cells > 0))[::-1]).astype(np.int32)
            if len(pts):
                patches.append(_corners(pts, c * f, rows, cols))
        out.append(patches)
    return out


def _corners(cells: np.ndarray, size: int, rows: int, cols: int) -> np.ndarray:
    """Window (x, y) points whose convex hull holds every cell (x, y) of ``cells`` (``size`` window
    pixels square each)."""
    hull = cv2.convexHull(cells.reshape(-1, 1, 2)).reshape(-1, 2).astype(float)
    corners = np.concatenate([(hull + np.array(d)) * size for d in ((0, 0), (1, 0), (0, 1), (1, 1))])
    corners[:, 0] = np.clip(corners[:, 0], 0, cols)
    corners[:, 1] = np.clip(corners[:, 1], 0, rows)
    return corners


PIECE_SHARE = 0.8
"""A block of a curve piece holds at least this share of its gradient energy across its own direction."""

PIECE_BIN_DEG = 4.0
"""Curve pieces gather blocks whose own direction falls in bins this wide (a 15 m car on a 250 m curve
turns by 3.4 degrees)."""

PIECE_MIN_OFF_DEG = 5.0
"""Blocks within this of a direction already searched are left to its frame."""

PIECE_MIN_AREA_M2 = 200.0
"""Least area of a curve piece (a 40 m stretch of one track)."""

PIECE_BLUR_PX = 1.0
"""Gaussian blur (pixels of the coarse image) before the pieces' gradients: rails a pixel or less
wide alias into staircases that pull a block's direction towards the nearer pixel axis, by up to 5
degrees on a 250 m curve at 0.5 m (under 1 degree after the blur)."""

PIECE_ABSORB_SHARE = 0.25
"""A piece under this share of the size of a bigger one that it touches, at a direction within
:data:`PIECE_BIN_DEG` of it, is a fringe of that piece split off by the bins, and joins it."""


@dataclasses.dataclass(frozen=True, eq=False)
class Piece:
    """A stretch of curved (or otherwise unsearched) track: searched in its own frame, at its own
    direction, and the owner of the candidates whose centre lies in its cells.

    Attributes
    ----------
    angle_deg : float
        Its direction, degrees from +col towards +row.
    corners : ndarray, shape (n, 2)
        Window (x, y) points whose convex hull holds its cells.
    cells : ndarray of bool
        The grid of cells it owns (its own, grown by one cell).
    cell_px : int
        Window pixels per cell side.
    origin : (float, float)
        The window (x, y) where its grid of cells starts: (0, 0), but for a piece of a larger window
        moved into a tile of it (:meth:`moved`).
    """

    angle_deg: float
    corners: np.ndarray
    cells: np.ndarray
    cell_px: int
    origin: tuple[float, float] = (0.0, 0.0)

    def owns(self, xy: np.ndarray) -> np.ndarray:
        """Whether each window (x, y) point, shape (n, 2), lies in the piece's cells."""
        at = np.asarray(xy, float).reshape(-1, 2) - np.asarray(self.origin, float)
        ij = np.floor(at / self.cell_px).astype(np.int64)
        rows, cols = self.cells.shape
        inside = (ij[:, 0] >= 0) & (ij[:, 0] < cols) & (ij[:, 1] >= 0) & (ij[:, 1] < rows)
        out = np.zeros(len(ij), bool)
        out[inside] = self.cells[ij[inside, 1], ij[inside, 0]]
        return out

    def moved(self, dx: float, dy: float) -> Piece:
        """The same piece in a part of its window whose (0, 0) is the window's (``dx``, ``dy``).

        >>> p = Piece(30.0, np.array([[40.0, 40.0], [80.0, 60.0]]), np.eye(4, dtype=bool), 20)
        >>> q = p.moved(30.0, 10.0)
        >>> q.corners.tolist(), bool(p.owns([[45, 45]])[0]), bool(q.owns([[15, 35]])[0])
        ([[10.0, 30.0], [50.0, 50.0]], True, True)
        """
        shift = np.array([dx, dy], float)
        return dataclasses.replace(
            self,
            corners=np.asarray(self.corners, float) - shift,
            origin=(self.origin[0] - dx, self.origin[1] - dy),
        )


def curve_pieces(
    small: np.ndarray,
    ok: np.ndarray,
    gsd_m: float,
    f: int,
    shape: tuple[int, int],
    directions: list[float],
    near: np.ndarray | None = None,
) -> list[Piece]:
    """Stretches of track that run off every direction in ``directions``: the curves of a yard or a branch.

    Each block's own direction is read from the structure tensor (as in
    :func:`direction_regions`). Blocks whose gradients are orderly (at
    least :data:`PIECE_SHARE` of their energy across their own direction)
    and strong, and whose direction lies at least :data:`PIECE_MIN_OFF_DEG`
    off every direction searched, are put in bins of
    :data:`PIECE_BIN_DEG` by their direction; each connected patch of a
    bin's cells of at least :data:`PIECE_MIN_AREA_M2` is a piece, at the
    energy-weighted mean direction of its blocks. With ``near`` (bool, the
    shape of ``small``), only blocks there count: a piece outside the
    station holds no car that is counted.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y, x = np.mgrid[0:300, 0:300]
    >>> lines = np.sin((y * np.cos(np.pi / 6) - x * np.sin(np.pi / 6)) / 2.0)  # along 30 degrees
    >>> img = (lines + rng.normal(0, 0.05, (300, 300))).astype(np.float32)
    >>> pieces = curve_pieces(img, np.ones(img.shape, bool), 0.5, 1, img.shape, [0.0])
    >>> [round(p.angle_deg) for p in pieces]
    [30]
    >>> pieces = curve_pieces(img, np.ones(img.shape, bool), 0.5, 1, img.shape, [28.0])
    >>> len(pieces)
    0
    """
    rows, cols = shape
    blurred = cv2.GaussianBlur(small, (0, 0), PIECE_BLUR_PX)
    jxx, jyy, jxy, inner, px_m = block_tensor(blurred, ok, gsd_m, f)
    if not inner.any():
        return []
    cos2 = jxx - jyy
    sin2 = 2.0 * jxy
    spread = cv2.magnitude(cos2, sin2)
    total = jxx + jyy
    strongest = 0.5 * (total + spread)  # energy across the block's own direction
    floor = MIN_ENERGY * float(np.percentile(strongest[inner], 99.0))
    hit = (strongest >= PIECE_SHARE * total) & (strongest > floor) & inner
    if near is not None:
        hit &= near
    # The block's own track direction: its gradients' (doubled-angle) mean, turned by 90 degrees;
    # read only where a block qualifies so far.
    at = np.flatnonzero(hit)
    track = (np.degrees(0.5 * np.arctan2(sin2.flat[at], cos2.flat[at])) + 90.0) % 180.0
    away = np.ones(at.size, bool)
    for angle in directions:
        off = np.abs(track - angle % 180.0)
        away &= np.minimum(off, 180.0 - off) >= PIECE_MIN_OFF_DEG
    hit.flat[at[~away]] = False
    if not away.any():
        return []
    c = max(1, round(CELL_M / px_m))
    grid = (max(1, small.shape[1] // c), max(1, small.shape[0] // c))
    cell_m = c * px_m
    share = cv2.resize(hit.view(np.uint8).astype(np.float32), grid, interpolation=cv2.INTER_AREA)
    # Each cell's direction: the energy-weighted doubled-angle mean of its qualifying blocks.
    weight = np.zeros_like(strongest)
    weight.flat[at] = strongest.flat[at] / np.maximum(spread.flat[at], 1e-12)
    weight[~hit] = 0.0
    cx = cv2.resize(weight * cos2, grid, interpolation=cv2.INTER_AREA)
    sy = cv2.resize(weight * sin2, grid, interpolation=cv2.INTER_AREA)
    cell_track = (np.degrees(0.5 * np.arctan2(sy, cx)) + 90.0) % 180.0
    cells_ok = share >= 0.25
    min_cells = max(1, int(np.ceil(PIECE_MIN_AREA_M2 / cell_m**2)))
    grow = np.ones((3, 3), np.uint8)
    found: list[np.ndarray] = []  # each piece's own cells
    bins = np.floor(cell_track / PIECE_BIN_DEG).astype(np.int64)
    for b in np.unique(bins[cells_ok]).tolist():
        mask = (cells_ok & (bins == b)).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        found += [labels == k for k in range(1, n) if stats[k, cv2.CC_STAT_AREA] >= min_cells]

    def direction(own: np.ndarray) -> float:
        return float((np.degrees(0.5 * np.arctan2(sy[own].sum(), cx[own].sum())) + 90.0) % 180.0)

    # Fringes join the bigger piece beside them (biggest first).
    found.sort(key=lambda own: -int(own.sum()))
    kept: list[tuple[np.ndarray, float]] = []
    for own in found:
        angle, size = direction(own), int(own.sum())
        grown = cv2.dilate(own.view(np.uint8), grow).view(bool)
        for k, (big, big_angle) in enumerate(kept):
            off = abs(angle - big_angle) % 180.0
            if (
                size < PIECE_ABSORB_SHARE * big.sum()
                and min(off, 180.0 - off) < PIECE_BIN_DEG
                and (grown & big).any()
            ):
                kept[k] = (big | own, big_angle)
                break
        else:
            kept.append((own, angle))
    out = []
    for own, angle in kept:
        pts = np.column_stack(np.nonzero(own)[::-1]).astype(np.int32)
        owned = cv2.dilate(own.view(np.uint8), grow).view(bool)
        out.append(Piece(angle, _corners(pts, c * f, rows, cols), owned, c * f))
    return out


def block_tensor(
    small: np.ndarray, ok: np.ndarray, gsd_m: float, f: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """The structure tensor (jxx, jyy, jxy) averaged over blocks of :data:`BLOCK_M`, where it is
    valid, and the size of ``small``'s pixels (metres)."""
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    # Gradients at the edge of the data are the mask's, not the ground's.
    inner = cv2.erode(ok.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
    gx[~inner] = 0.0
    gy[~inner] = 0.0
    px_m = gsd_m * f
    block = max(3, round(BLOCK_M / px_m))
    jxx = cv2.boxFilter(gx * gx, -1, (block, block))
    jyy = cv2.boxFilter(gy * gy, -1, (block, block))
    jxy = cv2.boxFilter(gx * gy, -1, (block, block))
    return jxx, jyy, jxy, inner, px_m
