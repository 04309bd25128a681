"""A font for the overlay's title when OpenCV's built-in one lacks its letters.

OpenCV's built-in font draws Latin, Cyrillic and Arabic letters and puts a
``?`` in place of any other: a station named ``두만강역`` (Tumangang, in
Korean) or ``Σταθμός`` was titled ``????`` on a picture meant to be
published. The title is then drawn with a font file that has every one of
its letters: matplotlib's own DejaVu Sans Bold (always installed with railcount:
Greek, Armenian, Georgian, Hebrew and more), else the first of the
system's fonts that has them (Korean, Chinese and Japanese need one: macOS
and Windows have them, Linux has them with a package such as
``fonts-noto-cjk``). Nothing is downloaded. Where no font has them, the
built-in font's ``?`` stay, and ``count.json``, the detections and the
report keep the name as given.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable

import cv2
import numpy as np

_BUILTIN = cv2.FONT_HERSHEY_SIMPLEX


@functools.lru_cache(maxsize=4096)
def builtin_draws(letter: str) -> bool:
    """Whether OpenCV's built-in font draws ``letter`` itself (it draws a ``?`` for what it lacks).

    >>> builtin_draws("A"), builtin_draws("Ж"), builtin_draws("?"), builtin_draws("두")
    (True, True, True, False)
    """
    if letter == "?" or letter.isspace():
        return True

    def drawn(text: str) -> np.ndarray:
        img = np.zeros((48, 48), np.uint8)
        cv2.putText(img, text, (4, 36), _BUILTIN, 1.0, 255, 2, cv2.LINE_8)
        return img

    return not np.array_equal(drawn(letter), drawn("?"))


def missing_letters(text: str) -> frozenset[str]:
    """The letters of ``text`` OpenCV's built-in font would draw as ``?``."""
    return frozenset(c for c in set(text) if not builtin_draws(c))


def _candidates() -> Iterable[str]:
    """Font files to try, matplotlib's DejaVu Sans first, then the system's, sans-serif ones first."""
    import matplotlib
    from matplotlib import font_manager

    own = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
    yield os.path.join(own, "DejaVuSans-Bold.ttf")  # the built-in title is bold
    yield os.path.join(own, "DejaVuSans.ttf")

    def rank(path: str) -> tuple[bool, bool, str]:
        name = os.path.basename(path).lower()
        return (not any(w in name for w in ("sans", "gothic")), "bold" not in name, path)

    yield from sorted(font_manager.findSystemFonts(), key=rank)


@functools.lru_cache(maxsize=16)
def face_for(letters: frozenset[str]) -> cv2.FontFace | None:
    """An OpenCV font face that draws every one of ``letters`` (:func:`missing_letters`), or None when
    none is needed or no font file at hand has them all."""
    if not letters:
        return None
    from matplotlib.ft2font import FT2Font

    for path in _candidates():
        try:
            if not all(FT2Font(path).get_char_index(ord(c)) for c in letters):
                continue
            face = cv2.FontFace(path)
        except Exception:  # a font file FreeType or OpenCV cannot read: try the next
            continue
        if _draws(face, letters):
            return face
    return None


def _draws(face: cv2.FontFace, letters: frozenset[str]) -> bool:
    """Whether OpenCV really draws ``letters`` with ``face`` (not its ``?``): a collection (``.ttc``)
    or a font it reads otherwise than FreeType would be caught here."""

    def drawn(text: str) -> np.ndarray:
        img = np.zeros((48, 48 * max(1, len(text))), np.uint8)
        cv2.putText(img, text, (4, 36), 255, face, 28)
        return img

    text = "".join(sorted(letters))
    return not np.array_equal(drawn(text), drawn("?" * len(text)))


def title_face(text: str) -> cv2.FontFace | None:
    """The face to draw ``text`` with when the built-in font lacks some of its letters, else None."""
    return face_for(missing_letters(text))
