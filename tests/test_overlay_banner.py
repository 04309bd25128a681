"""The overlay's banner: the shadows' direction the count used, drawn as an arrow to set against the
picture's shadows, and every part of the banner kept inside a narrow picture."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from railcount.io import outputs


def _yellow(img: np.ndarray) -> np.ndarray:
    return np.all(np.abs(img.astype(int) - outputs._STATION) < 40, axis=2)


def _banner_rows(img: np.ndarray) -> int:
    """Rows of the black banner (its left margin, before any text, is black to its last row)."""
    margin_black = (img[:, :6] == 0).all(axis=(1, 2))
    return int(np.argmin(margin_black)) if not margin_black.all() else img.shape[0]


def test_the_arrow_points_where_the_count_put_the_shadows(counted_sample):
    """The sample's sun (known time) and the same count with no sun: the banner gains an arrow, in the
    station's yellow, pointing away from the sun."""
    window, dets, result = counted_sample.window, counted_sample.detections, counted_sample.result
    assert result.sun is not None and result.sun["time_of_day"] == "given"
    with_sun = outputs.overlay_image(window, dets, result)
    without = outputs.overlay_image(window, dets, dataclasses.replace(result, sun=None))
    top = _banner_rows(with_sun)
    arrow = _yellow(with_sun[:top]) & ~_yellow(without[:top])
    rows, cols = np.nonzero(arrow)
    assert 20 < rows.size < 2000  # a small arrow, not a swatch or a line of text
    # Its head is the end with more ink: the tip's barbs. The head lies toward the shadows.
    dx, dy = outputs.shadow_arrow(window, result.sun)
    along = (cols - cols.mean()) * dx + (rows - rows.mean()) * dy
    assert (along > 0).sum() > (along < 0).sum()
    # The sun in the south-east of a morning at Tumangang: shadows to the north-west, up and left.
    assert dx < 0 and dy < 0


def test_a_narrow_picture_wraps_the_banner_instead_of_cutting_it(counted_sample):
    window, dets, result = counted_sample.window, counted_sample.detections, counted_sample.result
    narrow = dataclasses.replace(
        window,
        pixels=np.ascontiguousarray(window.pixels[:, :300]),
        data=np.ascontiguousarray(window.data[:, :300]),
        inside=np.ascontiguousarray(window.inside[:, :300]),
    )
    img = outputs.overlay_image(
        narrow, dets, result, caution="a caution long enough to need a second line " * 3
    )
    wide = outputs.overlay_image(window, dets, result)
    top = _banner_rows(img)
    assert img.shape[1] < 1300 and top > _banner_rows(wide)  # more lines than on the wide picture
    # The banner's width (black along its top row), and nothing written in its last 6 px: every line
    # fits inside it, and it inside the picture.
    width = int(np.argmin((img[0] == 0).all(axis=1))) or img.shape[1]
    assert (img[:top, width - 6 : width] == 0).all()


def test_the_banner_stands_above_the_picture_and_hides_none_of_it(counted_sample):
    window, dets, result = counted_sample.window, counted_sample.detections, counted_sample.result
    img = outputs.overlay_image(window, dets, result)
    scale = img.shape[1] / window.shape[1]
    top = _banner_rows(img)
    assert img.shape[0] - top == round(window.shape[0] * scale)  # every row of the picture is below it
    assert (img[:top] == 0).mean() > 0.8  # a black band, text on it
    assert not (img[top] == 0).all()  # the picture's first row, shown


def test_types_read_from_guessed_bands_say_so_on_the_banner(counted_sample):
    """The car types are read from colour: when the file named none of its bands, the banner's types
    line says which were taken for red, green and blue (and is drawn: the banner changes)."""
    window, dets, result = counted_sample.window, counted_sample.detections, counted_sample.result
    guessed = dataclasses.replace(result, bands=(1, 2, 3), bands_guessed=True)
    assert outputs.types_note(result).startswith("types (indicative): ")
    assert outputs.types_note(guessed).startswith(
        "types (indicative; bands 1, 2, 3 taken for red, green, blue): "
    )
    plain, marked = outputs.overlay_image(window, dets, result), outputs.overlay_image(window, dets, guessed)
    top = min(_banner_rows(plain), _banner_rows(marked))
    assert plain.shape[1] == marked.shape[1] and not np.array_equal(plain[:top], marked[:top])
    np.testing.assert_array_equal(plain[_banner_rows(plain) :], marked[_banner_rows(marked) :])


def _named(result, name: str):
    return dataclasses.replace(result, station=name)


def test_a_station_named_in_greek_is_titled_in_greek(counted_sample):
    """OpenCV's built-in font draws '?' for Greek letters: the title is drawn with a font file that
    has them (matplotlib's DejaVu Sans), not as the '?' the built-in font would give, the banner's
    height unchanged; a Latin name keeps the built-in font."""
    from railcount.io import fonts

    window, dets, result = counted_sample.window, counted_sample.detections, counted_sample.result
    greek = outputs.overlay_image(window, dets, _named(result, "Σταθμός"))
    marks = outputs.overlay_image(window, dets, _named(result, "???????"))
    top = _banner_rows(greek)
    assert top == _banner_rows(marks)
    assert not np.array_equal(greek[:top], marks[:top])
    assert fonts.title_face("Σταθμός | 2023-10-05") is not None and fonts.title_face("Tumangang") is None
    # The title's letters stay inside the banner's first line, as tall as the built-in font's.
    ink = (greek[:top, :, :].max(axis=2) > 128) & ~(marks[:top, :, :].max(axis=2) > 128)
    rows = np.nonzero(ink.any(axis=1))[0]
    assert rows.size and rows.max() < top // 3


def test_korean_letters_take_a_system_font_that_has_them(counted_sample):
    """Korean needs a font of the system's (none ships with railcount): where one that OpenCV can draw
    with has the letters, the title is drawn with it; where none does, the built-in font's '?' stay."""
    import cv2
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    from railcount.io import fonts

    letters = frozenset("두만강역")

    def usable(path: str) -> bool:
        try:
            if not all(FT2Font(path).get_char_index(ord(c)) for c in letters):
                return False
            return fonts._draws(cv2.FontFace(path), letters)
        except Exception:
            return False

    window, dets, result = counted_sample.window, counted_sample.detections, counted_sample.result
    korean = outputs.overlay_image(window, dets, _named(result, "두만강역"))
    marks = outputs.overlay_image(window, dets, _named(result, "????"))
    top = _banner_rows(korean)
    system = any(usable(p) for p in font_manager.findSystemFonts())
    assert (fonts.title_face("두만강역") is not None) == system
    assert np.array_equal(korean[:top], marks[:top]) != system


def test_a_wide_picture_s_legend_keys_grow_with_its_text(counted_sample):
    """A large station's overlay is drawn at full resolution, many thousand pixels wide, and its caption's
    text grows with it; the legend's keys grow too (before, they stayed 22 px wide, slivers beside
    letters over a hundred pixels tall, and the tarp dot ran into its neighbour's label)."""
    import cv2

    window, dets, result = counted_sample.window, counted_sample.detections, counted_sample.result
    reps = 5
    wide_window = dataclasses.replace(
        window,
        pixels=np.ascontiguousarray(np.tile(window.pixels, (1, reps, 1))),
        data=np.ascontiguousarray(np.tile(window.data, (1, reps))),
        inside=np.ascontiguousarray(np.tile(window.inside, (1, reps))),
    )
    widths = []
    for w in (window, wide_window):
        img = outputs.overlay_image(w, dets, result)
        top = _banner_rows(img)
        n, _, stats, _ = cv2.connectedComponentsWithStats(_yellow(img[:top]).astype(np.uint8))
        # The station's key: the largest solid yellow patch of the banner (the arrow is a thin line).
        solid = max(range(1, n), key=lambda i: stats[i, cv2.CC_STAT_AREA])
        widths.append((img.shape[1], int(stats[solid, cv2.CC_STAT_WIDTH])))
    (narrow_px, narrow_key), (wide_px, wide_key) = widths
    assert wide_px > 2.5 * narrow_px
    assert narrow_key == 23  # as drawn since the legend was made (22 px and its last column)
    scale = (wide_px / 2000) / 1.25  # the text's scale over the scale keys grow from (2500 px wide)
    assert wide_key >= 0.9 * 22 * scale, (wide_key, scale)


def _solid_block(img: np.ndarray, colour: tuple[int, int, int], size: int = 8) -> bool:
    """Whether ``img`` holds a ``size`` x ``size`` square of exactly ``colour`` (a legend key; the
    text's anti-aliased edges never fill one)."""
    exact = np.all(img == np.array(colour, np.uint8), axis=2).astype(np.uint8)
    return bool((cv2.boxFilter(exact, cv2.CV_32F, (size, size), normalize=False) >= size * size).any())


def test_a_partly_observed_station_says_how_much_was_seen(counted_sample):
    """Half the station without data: the title gains the share seen (its ink grows by the words'),
    and the legend a dark-grey key for the part not seen; a whole station shows neither."""
    window, dets, result = counted_sample.window, counted_sample.detections, counted_sample.result
    assert result.observed_fraction == 1.0
    data = window.data.copy()
    data[:, : data.shape[1] // 2] = False
    half = dataclasses.replace(window, data=data)
    whole_img = outputs.overlay_image(window, dets, result)
    half_img = outputs.overlay_image(half, dets, dataclasses.replace(result, observed_fraction=0.46))
    top_whole, top_half = _banner_rows(whole_img), _banner_rows(half_img)
    assert not _solid_block(whole_img[:top_whole], outputs._NODATA)
    assert _solid_block(half_img[:top_half], outputs._NODATA)
    # The title's first line (the same up to the observed share) has more ink with it.
    line = slice(0, 30)
    assert (half_img[line] > 128).sum() > (whole_img[line] > 128).sum() + 200
    assert outputs.observed_note(0.46) == "46% observed" and outputs.observed_note(1.0) == ""


def test_a_synthetic_scene_says_so_on_its_overlay_and_its_line(counted_sample, tmp_path):
    """The bundled sample was made by railcount synth (its RAILCOUNT_SYNTHETIC tag): its count, the line
    printed and the overlay's title say so; the same pixels saved without the tag (as an acquisition's
    file would be) count alike and say nothing of it."""
    import rasterio

    from railcount.io.scenes import read_windows
    from railcount.io.stations import read_stations
    from railcount.models import SYNTHETIC_TAG

    from .geofixtures import SAMPLE_SCENE, SAMPLE_STATION

    window, dets, result = counted_sample.window, counted_sample.detections, counted_sample.result
    assert window.synthetic and result.synthetic and result.to_dict()["synthetic"] is True
    assert counted_sample.line().endswith("unsure, synthetic scene]  tumangang_2023-10-05.tif")
    real = dataclasses.replace(result, synthetic=False)
    marked, plain = outputs.overlay_image(window, dets, result), outputs.overlay_image(window, dets, real)
    top = _banner_rows(marked)
    assert not np.array_equal(marked[:top], plain[:top])  # the title line differs
    np.testing.assert_array_equal(marked[top:], plain[_banner_rows(plain) :])  # the picture does not
    # Saved again without the tag: not synthetic.
    copy = tmp_path / "copy.tif"
    with rasterio.open(SAMPLE_SCENE) as src:
        profile, pixels, tags = src.profile, src.read(), src.tags()
    assert SYNTHETIC_TAG in tags
    profile.update(compress="deflate", photometric=None)
    with rasterio.open(copy, "w", **{k: v for k, v in profile.items() if v is not None}) as dst:
        dst.write(pixels)
        dst.update_tags(**{k: v for k, v in tags.items() if k != SYNTHETIC_TAG})
    (w,) = read_windows(copy, read_stations(SAMPLE_STATION))
    assert not w.synthetic
