"""A rotated pixel frame in which one track direction runs along the rows.

Working with horizontal tracks turns every along-track operation into a row
operation (box filters, run-lengths) and every cross-track one into a column
operation, which keeps the detector vectorised. The frame maps points back
to the window's pixels exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True, eq=False)
class TrackFrame:
    """Affine map from window pixels (x=col, y=row) to a frame where tracks are horizontal.

    Attributes
    ----------
    angle_deg : float
        Track direction in the window, degrees from +col towards +row.
    matrix : ndarray, shape (2, 3)
        Window (x, y) -> frame (x, y).
    shape : (rows, cols)
        Size of the frame, large enough to hold the whole window.
    """

    angle_deg: float
    matrix: np.ndarray
    shape: tuple[int, int]

    @classmethod
    def for_direction(
        cls,
        window_shape: tuple[int, int],
        angle_deg: float,
        region: np.ndarray | None = None,
        margin_px: float = 0.0,
    ) -> TrackFrame:
        """The frame of a track direction, holding the whole window, or with ``region`` (window (x, y)
        points) only the rectangle of the frame around them, widened by ``margin_px``."""
        rows, cols = window_shape
        # Rotating the image by +angle (OpenCV: counter-clockwise on screen) turns
        # a line at +angle (towards +row, i.e. clockwise on screen) horizontal.
        m = cv2.getRotationMatrix2D((cols / 2.0, rows / 2.0), angle_deg, 1.0)
        c, s = abs(m[0, 0]), abs(m[0, 1])
        new_cols = int(np.ceil(rows * s + cols * c))
        new_rows = int(np.ceil(rows * c + cols * s))
        m[0, 2] += new_cols / 2.0 - cols / 2.0
        m[1, 2] += new_rows / 2.0 - rows / 2.0
        if region is not None and len(region):
            at = np.asarray(region, float) @ m[:, :2].T + m[:, 2]
            x0, y0 = (max(0, int(np.floor(v - margin_px))) for v in at.min(axis=0))
            x1 = min(new_cols, int(np.ceil(at[:, 0].max() + margin_px)))
            y1 = min(new_rows, int(np.ceil(at[:, 1].max() + margin_px)))
            if x1 > x0 and y1 > y0:
                m[0, 2] -= x0
                m[1, 2] -= y0
                new_cols, new_rows = x1 - x0, y1 - y0
        return cls(angle_deg=angle_deg, matrix=m, shape=(new_rows, new_cols))

    def warp(self, image: np.ndarray, *, nearest: bool = False) -> np.ndarray:
        """Resample a window-sized image into the frame (outside filled with 0)."""
        flags = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
        # A bool image is warped as its bytes (0 or 1), without copies either way
        # (nearest keeps the values; bilinear can make others, which then read as True).
        boolean = image.dtype == bool
        src = np.ascontiguousarray(image).view(np.uint8) if boolean else image
        out = cv2.warpAffine(
            src,
            self.matrix,
            (self.shape[1], self.shape[0]),
            flags=flags,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        return out.view(bool) if boolean and nearest else out.astype(bool) if boolean else out

    def to_window(self, xy: np.ndarray) -> np.ndarray:
        """Map frame (x, y) points, shape (n, 2), back to window (x, y)."""
        inv = cv2.invertAffineTransform(self.matrix)
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        return xy @ inv[:, :2].T + inv[:, 2]


def along_across(
    d_row: np.ndarray, d_col: np.ndarray, angle_deg: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Distances (pixels, unsigned) along and across a track at ``angle_deg`` (degrees from +col towards
    +row) of window offsets (``d_row``, ``d_col``); the arguments broadcast."""
    theta = np.deg2rad(angle_deg)
    cos, sin = np.cos(theta), np.sin(theta)
    return np.abs(d_col * cos + d_row * sin), np.abs(-d_col * sin + d_row * cos)
