"""Count the railcars of every station in a scene: read -> detect -> summarise -> write.

Also the evaluation path: the same count compared with ground truth.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import numpy as np

from railcount.cautions import (
    ALONG_PHRASE,
    cloud_shadow_caution,
    coarse_imagery_caution,
    light_stretch_caution,
    partial_view_caution,
    provider_cloud_caution,
    short_shadow_caution,
    stretched_caution,
    tiled_caution,
)
from railcount.cautions import (
    caption as caution_caption,
)
from railcount.counting import summarise, unsure_railcars
from railcount.detect.cloud import cloud_shadow, hide_cloud, opaque_cloud
from railcount.detect.detector import detect, shadows_along_tracks
from railcount.detect.params import DetectorParams, too_coarse
from railcount.detect.prepare import Levels
from railcount.detect.stretch import BandLifts, lifted, lifts_for
from railcount.detect.sun import (
    ASSUMED_SOLAR_TIME_H,
    SHADOW_SUN_UP_DEG,
    solar_position,
    sun_height_words,
    time_of_day_unknown,
    window_sun,
)
from railcount.detect.tiles import detect_in_tiles, tile_seams, tile_windows
from railcount.errors import (
    AcquiredDateWarning,
    AssumedSunWarning,
    CloudShadowWarning,
    CoarseImageryWarning,
    PartialViewWarning,
    ProviderCloudWarning,
    ShadowsAlongTracksWarning,
    ShortShadowsWarning,
    StretchedPictureWarning,
    TiledCountWarning,
    TooCoarseError,
    TruthDateWarning,
    TruthRepeatWarning,
    UsageError,
)
from railcount.evaluate import Match, match_centres, match_pairs
from railcount.io.memory import (
    WINDOW_BYTES_PER_PIXEL,
    helper_fits,
    limit_from_env,
    needed_bytes,
    window_plan,
)
from railcount.io.outputs import (
    ErrorMarks,
    check_output_dir,
    detections_geojson,
    display_bgr,
    overlay_image,
    write_evaluation,
    write_outputs,
)
from railcount.io.pixelspace import is_pixel_space, read_image
from railcount.io.scenes import ACQUIRED_FROM, Scene, date_from_name, read_windows
from railcount.io.truth import REPEAT_M, Stock, check_truth_near, stock_in_window, truth_features
from railcount.models import RAILCAR_TYPES, CountResult, Detections, SceneWindow, Station
from railcount.runtime import aside, helper_allowed


@dataclass(frozen=True, eq=False)
class StationCount:
    """Everything produced for one station in one scene."""

    window: SceneWindow
    detections: Detections
    result: CountResult
    outputs: dict[str, Path]
    cautions: tuple[str, ...] = ()  # what was warned of (one line each), as count.json's "warnings"
    cloud: np.ndarray | None = None
    """Where opaque cloud hid the window (not counted; ``window.data`` is already without it)."""
    grid: tuple[int, int] = (1, 1)
    """The tiles (rows, cols) the window was counted in (:func:`tile_windows`): one where it fit whole."""
    shade: np.ndarray | None = None
    """Where a cloud's shadow lay (:func:`~railcount.detect.cloud.cloud_shadow`): the cars found there
    are counted, but ``window.data`` is without it, as the count saw too little there to call it
    observed."""

    def line(self) -> str:
        """The line ``railcount count`` prints: station, date, the count and its interval, the
        locomotives, the GSD, the observed share, how many boxes are unsure, the scene."""
        r = self.result
        date = r.acquired.date().isoformat() if r.acquired else "date unknown"
        locos = f", {r.locomotives} locomotive{'s' if r.locomotives != 1 else ''}" if r.locomotives else ""
        # The boxes the overlay draws dashed: the ones to check first.
        unsure = int(unsure_railcars(self.detections).sum())
        made = ", synthetic scene" if r.synthetic else ""  # railcount synth's: not an observation
        return (
            f"{r.station}  {date}  {r.railcars} railcars (likely {r.railcars_low}-{r.railcars_high}){locos}"
            f"  [gsd {r.gsd_m:.2f} m, {r.observed_fraction:.0%} observed, {unsure} unsure{made}]"
            f"  {Path(r.scene).name}"
        )

    def __repr__(self) -> str:
        # (The dataclass's own would print the window's pixel arrays: two hundred lines in a notebook.)
        return f"<StationCount {self.line()}>"

    def record(self) -> dict[str, Any]:
        """The record ``railcount count --json`` prints: the count, its interval, the types, the
        observed share, the sun..., and ``warnings`` when the count came with cautions."""
        return {**self.result.to_dict(), **({"warnings": list(self.cautions)} if self.cautions else {})}

    def geojson(self) -> dict[str, Any]:
        """The counted cars as ``detections.geojson`` holds them: an RFC 7946 FeatureCollection in
        lon/lat, a Polygon per car with its ``type``, ``score``, ``unsure``, ``method`` ...
        (``geopandas.GeoDataFrame.from_features(sc.geojson(), crs=4326)``). In pixel space (an image
        counted with ``gsd``) there is no place on a map: that is an error, as a CSV is written there."""
        if is_pixel_space(self.window):
            raise UsageError(
                f"{self.window.scene_id}: counted in pixel space, so its cars have no place on a map; "
                "read their pixel boxes from .detections"
            )
        return detections_geojson(self.window, self.detections, self.result)

    def overlay(self) -> np.ndarray:
        """The overlay picture as ``overlay.png`` holds it, as an RGB uint8 array (rows, cols, 3), for
        matplotlib's ``imshow`` or ``PIL.Image.fromarray``."""
        window = self._shown(self.cloud, self.shade)
        caution = caution_caption(self.cautions, window.gsd_m)
        seams = tile_seams(window.shape, self.grid)
        picture = overlay_image(
            window, self.detections, self.result, self.cloud, caution=caution, seams=seams, shade=self.shade
        )
        return np.ascontiguousarray(picture[:, :, ::-1])

    def _shown(self, *hidden: np.ndarray | None) -> SceneWindow:
        """The count's window with ``hidden`` (masks it took out of its data: the cloud, a cloud's
        shadow) put back, for a picture to hatch instead of greying them."""
        window = self.window
        for mask in hidden:
            if mask is not None and mask.any():
                window = dataclasses.replace(window, data=window.data | mask)
        return window


def count_scene(
    scene: Scene,
    stations: Sequence[Station],
    *,
    params: DetectorParams | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    bands: Sequence[int] | None = None,
    gsd_m: float | None = None,
    acquired: datetime | None = None,
    cloud_cover: float | None = None,
    shadows_toward: float | None = None,
    acquired_from: str = "given",
) -> list[StationCount]:
    """Count railcars in ``scene`` for each station, optionally writing outputs.

    ``scene`` is a path or URL, a directory of tiles or a list of tiles of
    one acquisition (read as one mosaic); the scene is opened once for all
    stations. ``bands`` picks the bands used (three for R, G, B, or one);
    by default they are chosen from the file's colour interpretation or band
    descriptions. With ``out_dir`` and more than one station, each station's
    files go in a subfolder named after it.

    ``gsd_m`` counts an image without georeferencing in pixel space: the
    whole image is counted and ``stations`` must be empty (see
    :mod:`railcount.io.pixelspace`).

    ``acquired`` (timezone-aware; naive is UTC) replaces the acquisition
    time read from the scene's metadata or name: the sun, and so the side
    the shadows fall on, is placed from it. Midnight UTC exactly reads as a
    date with no time of day, as date-only metadata does. ``acquired_from`` says where it came from
    (a key of :data:`railcount.io.scenes.ACQUIRED_FROM`; a batch passes its STAC item's or scene
    list's, or what the file said when it planned the scene), kept with the count.

    ``cloud_cover`` (percent of the scene) replaces the cloud cover its provider's metadata gives
    (GDAL's ``IMAGERY`` domain); a batch passes a STAC item's ``eo:cloud_cover``. It is kept with the
    count (``provider_cloud_cover``), and from :data:`~railcount.cautions.PROVIDER_CLOUD_PCT` up the
    count comes with a caution.

    ``shadows_toward`` is the compass bearing (degrees clockwise from north; from the image's top in
    pixel space) the shadows point to, as a person reads it off the image: the sun is placed at the
    time of the acquisition date when they point there (:func:`~railcount.detect.sun.sun_from_shadows`),
    for a scene whose file gives a date but no time of day, or a wrong one.
    """
    params = params or DetectorParams()
    if out_dir is not None:  # before the scene is read and counted, not after
        check_output_dir(out_dir)
    if gsd_m is not None and acquired is not None:
        raise UsageError(
            "an image counted in pixel space (--gsd) has no place on Earth to put the sun over; "
            "drop --acquired, or georeference the image and pass --station"
        )
    if gsd_m is not None:
        if stations:
            raise UsageError(
                "a station polygon (lon/lat) cannot be placed on an image counted in pixel space; "
                "with --gsd the whole image is counted: drop --station"
            )
        if not isinstance(scene, (str, os.PathLike)):
            raise UsageError("--gsd counts one ungeoreferenced image; pass a single file")
        windows = [read_image(scene, gsd_m=gsd_m, bands=bands)]
        stations = [windows[0].station]
    else:
        # A time the caller gives (a batch's plan, --acquired) dates the scene whatever its tiles say.
        windows = read_windows(
            scene, stations, bands=bands, dated=acquired is not None, skip_outside=len(stations) > 1
        )
    for w in windows:  # before anything is said of the sun: no count will be made
        _refuse_too_coarse(w, params)
    if acquired is not None:
        moment = acquired if acquired.tzinfo else acquired.replace(tzinfo=timezone.utc)
        if acquired_from == "given" and windows:
            _check_given_date(windows[0], moment)
        windows = [
            dataclasses.replace(w, acquired=moment, acquired_from=acquired_from, night_time=None)
            for w in windows
        ]
        if acquired_from in ("given", "scene_list") and gsd_m is None:
            for w in windows:  # a person's time: a local one written as UTC is refused
                _refuse_a_night_time(w)
    if cloud_cover is not None:
        windows = [dataclasses.replace(w, cloud_cover=cloud_cover) for w in windows]
    if shadows_toward is not None:
        windows = [dataclasses.replace(w, shadows_toward_deg=float(shadows_toward)) for w in windows]
        for w in windows:  # a bearing the sun cannot give fails here, before any counting
            try:
                window_sun(w)
            except ValueError as err:
                raise UsageError(f"{w.scene_id}: --shadows-toward: {err}") from None
        if windows and windows[0].acquired is None:
            # (In pixel space --acquired is refused: the date comes from the file's name or tags.)
            mend = (
                "name the file with its date (YYYY-MM-DD)"
                if is_pixel_space(windows[0])
                else "pass the date (--acquired YYYY-MM-DD)"
            )
            warnings.warn(
                AssumedSunWarning(
                    f"{windows[0].scene_id}: no acquisition date, so the sun's height for the shadows' "
                    f"bearing is taken at the spring equinox; {mend}"
                ),
                stacklevel=2,
            )
    elif windows and time_of_day_unknown(windows[0].acquired):
        when = "no acquisition date" if windows[0].acquired is None else "a date but no time of day"
        night = windows[0].night_time
        if night is not None:
            height = solar_position(*_centre(windows[0]), night).elevation_deg
            when = (
                f"its acquisition time {night.astimezone(timezone.utc):%Y-%m-%dT%H:%M}Z "
                f"(from {ACQUIRED_FROM.get(windows[0].acquired_from or '', 'the file')}) puts the sun "
                f"{sun_height_words(height)} over the station, so it is not when the picture "
                "was taken (a processing time, or a local time written as UTC); only its date is kept "
                "(check that too)"
            )
        hour, minute = divmod(round(ASSUMED_SOLAR_TIME_H * 60), 60)
        day = windows[0].acquired.date().isoformat() if windows[0].acquired else "2023-10-05"
        toward = (window_sun(windows[0]).azimuth_deg + 180.0) % 360.0
        if is_pixel_space(windows[0]):
            # No place on Earth to put the sun over, so no time helps (--acquired is refused): only the
            # bearing read off the image can give the side.
            text = (
                f"{windows[0].scene_id}: {when} and no place on Earth, so where the image does not show "
                f"the shadow side clearly the sun is taken at {hour:02d}:{minute:02d} local solar time at "
                f"a mid-latitude (shadows pointing about {toward:.0f} degrees, clockwise from the image's "
                "top) and shadows may be read on the wrong side (false cars beside buildings); give the "
                "bearing the shadows point to, clockwise from the image's top (--shadows-toward DEGREES)"
            )
        else:
            text = (
                f"{windows[0].scene_id}: {when}, so the sun is assumed at {hour:02d}:{minute:02d} local "
                f"solar time (shadows pointing about {toward:.0f} degrees, clockwise from north) and "
                "shadows may be read on the wrong side (false cars beside buildings); "
                f"if the acquisition time is known, pass it (--acquired {day}THH:MMZ, UTC) or set "
                "it in the file (TIFFTAG_DATETIME); if not, give the compass bearing the shadows point "
                "to on the image (--shadows-toward DEGREES)"
            )
        warnings.warn(AssumedSunWarning(text), stacklevel=2)
    results = []
    dirs = station_dirs(out_dir, stations)
    for window in windows:
        # A window too large to count whole in the memory free is counted in tiles (plan_tiles), as
        # the loader planned before the read: the window's arrays, read since, are counted back in.
        read = window.pixels.nbytes + window.data.nbytes + window.inside.nbytes
        grid, free = window_plan(*window.shape, window.gsd_m, window.scene_id, window.station.name, held=read)
        tiles = tile_windows(window, grid)
        # The caution and the cloud read the window alone: where the command line allows a second
        # process (runtime.helper_process), a copy of this one makes them while this one detects;
        # not where the memory free holds one count of the window (or of its largest tile) but not
        # two. Tiles leave room for the window's arrays, of which the memory free now has lost what
        # was read (a limit the user set does not shrink as the window is read).
        held = 0
        if len(tiles) > 1:
            held = window.shape[0] * window.shape[1] * WINDOW_BYTES_PER_PIXEL
            held -= read if limit_from_env() is None else 0
        two = all(helper_fits(*t.shape, window.gsd_m, held) for t in tiles)
        # A contrast-stretched picture's lifts, read once: the detector, the window checks and the
        # caution all use them.
        found = lifts_for(window, params)
        with contextlib.nullcontext() if two else helper_allowed(False):
            beside = aside(functools.partial(_window_checks, window, params, out_dir is not None, found))
            # The levels the detector prepared the bands with: whether a light stretch was levelled.
            prepared: list[Levels] = []
            try:
                if len(tiles) == 1:
                    dets = detect(window, params, lifts=found, levels_out=prepared)
                else:
                    dets = detect_in_tiles(window, tiles, params, lifts=found, levels_out=prepared)
            except BaseException:
                beside.cancel()  # (its copy would otherwise wait to hand over what nobody reads)
                raise
            along, cloud_mask, shade, shown = beside.result()
        tiled = ""
        if len(tiles) > 1:
            tiled = tiled_caution(
                window.station.name, grid, needed_bytes(*window.shape, window.gsd_m), free or 0
            )
        coarse = coarse_imagery_caution(window.station.name, window.gsd_m, params.gap_visible_gsd_m)
        sun = sun_record(window)
        # With no date at all the sun is made up (the equinox), and says nothing of the season.
        elevation = float(cast(float, sun["elevation_deg"])) if sun and window.acquired is not None else None
        short = short_shadow_caution(window.station.name, window.gsd_m, elevation)
        cloudy = provider_cloud_caution(window.station.name, window.cloud_cover)
        shaded = cloud_shadow_caution(window.station.name, shade_share(window, shade))
        stretched = stretched_caution(
            window.station.name,
            max(found.clipped, default=0.0),
            lifted=found.any,
            white=max(found.white, default=0.0),
        )
        # A stretch too light to read as one by its clipping leaves a few black and white pixels, or is
        # levelled.
        light = ""
        if not stretched:
            levelled = next((lv.floor_ratio for lv in prepared if lv.lift > 0), None)
            light = light_stretch_caution(window.station.name, *found.ends, levelled)
        kinds = (
            (along, ShadowsAlongTracksWarning),
            (short, ShortShadowsWarning),
            (cloudy, ProviderCloudWarning),
            (shaded, CloudShadowWarning),
            (coarse, CoarseImageryWarning),
            (tiled, TiledCountWarning),
            (stretched, StretchedPictureWarning),
            (light, StretchedPictureWarning),
        )
        for text, kind in kinds:
            if text:
                warnings.warn(kind(f"{window.scene_id}: {text}"), stacklevel=2)
        seen, cloud = window, None
        if params.mask_cloud:
            # What opaque cloud hides is not counted, and observed_fraction says so; it leaves out a
            # cloud's shadow too, where most cars are missed (those found there are counted).
            seen, dets, cloud = hide_cloud(window, dets, cloud_mask, shade)
        result = summarise(
            seen,
            dets,
            shadows_along=bool(along),
            short_shadows=bool(short),
            stretched=bool(stretched),
            light_stretch=bool(light),
            sun=sun,
        )
        partial = partial_view_caution(window.station.name, result.observed_fraction)
        if partial:  # (the seen share is known once cloud and shade are taken out)
            warnings.warn(PartialViewWarning(f"{window.scene_id}: {partial}"), stacklevel=2)
        cautions = [c for c in (along, short, cloudy, shaded, partial, coarse, tiled, stretched, light) if c]
        outputs: dict[str, Path] = {}
        if out_dir is not None:
            target = dirs[window.station.name]
            outputs = write_outputs(
                target,
                window,
                dets,
                result,
                params=params.to_dict(),
                cloud=cloud,
                shade=shade,
                cautions=cautions,
                shown=shown,
                seams=tile_seams(window.shape, grid),
            )
        results.append(StationCount(seen, dets, result, outputs, tuple(cautions), cloud, grid, shade))
    return results


def _window_checks(
    window: SceneWindow, params: DetectorParams, picture: bool, lifts: BandLifts
) -> tuple[str, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """What is read from the window apart from the detector: the caution when the sun throws the
    shadows along the tracks, the opaque cloud and a cloud's shadow (with ``params.mask_cloud`` and
    ``params.mask_cloud_shadow``) and, with ``picture``, the window as the overlay shows it
    (:func:`~railcount.io.outputs.display_bgr`). They are read, as the detector reads, on a
    contrast-stretched picture lifted back by ``lifts`` (:func:`~railcount.detect.stretch.lifts_for`);
    the overlay shows the picture as delivered."""
    seen = lifted(window, lifts)
    cloud = opaque_cloud(seen) if params.mask_cloud else None
    shade = cloud_shadow(seen, cloud) if params.mask_cloud and params.mask_cloud_shadow else None
    return along_tracks_caution(seen, params), cloud, shade, display_bgr(window) if picture else None


def shade_share(window: SceneWindow, shade: np.ndarray | None) -> float:
    """The share of ``window``'s station (its pixels with data) that ``shade`` covers (0 for None)."""
    if shade is None:
        return 0.0
    valid = window.valid
    n = int(valid.sum())
    return float((shade & valid).sum()) / n if n else 0.0


def sun_record(window: SceneWindow) -> dict[str, object] | None:
    """Where the detector puts the sun for ``window`` (as it does, from the station's centre and the
    acquisition time), for the count's record; None in pixel space, unless the shadows' bearing was
    given."""
    if is_pixel_space(window) and window.shadows_toward_deg is None:
        return None
    sun = window_sun(window)
    return {
        "azimuth_deg": round(sun.azimuth_deg, 1),
        "elevation_deg": round(sun.elevation_deg, 1),
        "time_of_day": "assumed" if sun.assumed_time else "given",
        **(
            {"time_of_day": "from shadows", "shadows_toward_deg": round(window.shadows_toward_deg, 1)}
            if window.shadows_toward_deg is not None
            else {}
        ),
    }


def along_tracks_caution(window: SceneWindow, params: DetectorParams) -> str:
    """One line for the user when the sun throws the shadows along the station's tracks (else "")."""
    along, sun = shadows_along_tracks(window, params)
    if not along:
        return ""
    # Frame degrees (from +col towards +row, rows running south) to compass bearings (0-180).
    bearings = ", ".join(f"{(90.0 + a) % 180.0:.0f}" for a in along)
    return (
        f"{window.station.name}: the sun (azimuth {sun.azimuth_deg:.0f}, {sun.elevation_deg:.0f} degrees up) "
        f"{ALONG_PHRASE} running at a bearing of {bearings} degrees; no shadow lies "
        "beside the cars, so many there are missed (about two in three found on generated yards): expect "
        "the count to be low, at times far off (its interval is widened for it), and check the overlay"
    )


def safe_name(name: str) -> str:
    """A file-system-safe folder name for a station: its letters and digits in any script (a Korean or
    Cyrillic name stays readable), runs of anything else one ``_``.

    >>> safe_name("Tumangang / yard 2"), safe_name("두만강역"), safe_name("..")
    ('Tumangang_yard_2', '두만강역', 'station')
    """
    cleaned = re.sub(r"[^\w.-]+", "_", name).strip("._")
    return cleaned or "station"


def station_dirs(out_dir: str | os.PathLike[str] | None, stations: Sequence[Station]) -> dict[str, Path]:
    """Where each station's files go, by its name (unique in a station file; a station the scene does
    not image has no window, so windows are matched by name, not by order): ``out_dir`` for one
    station; for several, a subfolder each, named after it, with ``_2``, ``_3``... after names that
    would share one (two names of letters no folder name keeps, or the same name in other capitals,
    which Windows and macOS folders do not tell apart): no station's files overwrite another's. None
    for no ``out_dir``."""
    if out_dir is None:
        return {}
    if len(stations) <= 1:
        return {st.name: Path(out_dir) for st in stations}
    taken: set[str] = set()
    out = {}
    for st in stations:
        base = name = safe_name(st.name)
        k = 1
        while name.casefold() in taken:
            k += 1
            name = f"{base}_{k}"
        taken.add(name.casefold())
        out[st.name] = Path(out_dir) / name
    return out


STRICT_RADIUS_M = 2.5
"""A detection within this distance of a true car's centre is on that car, not beside it."""


@dataclass(frozen=True, eq=False)
class StationEvaluation:
    """A station's count compared with ground truth."""

    count: StationCount
    truth_count: int
    match: Match
    type_pairs: list[tuple[str, str]]
    """(detected kind, true class) of every matched car."""
    strict: Match
    """The same comparison with centres within 2.5 m: is each detection on its car?"""
    locomotives: Match
    """Detections called locomotives against the true locomotives (within the same radius)."""
    tarped: Match
    """Railcars called tarped against the true tarped railcars (within the same radius)."""
    pairs: np.ndarray
    """(index into :attr:`cars`, index into the true railcars) of every match, (k, 2)."""
    truth: Stock
    """The true rolling stock of the station, in window pixels, with each railcar's outline."""
    outputs: dict[str, Path] = field(default_factory=dict)
    """Files written for this station (the count's and the evaluation's), by kind."""

    @property
    def cars(self) -> Detections:
        """The detections compared with the true railcars: all but those called locomotives."""
        dets = self.count.detections
        return dets.subset(dets.kind != "locomotive")

    @property
    def missed(self) -> np.ndarray:
        """Indices of the true railcars no detection matched."""
        return np.setdiff1d(np.arange(len(self.truth.cars)), self.pairs[:, 1])

    @property
    def false(self) -> np.ndarray:
        """Indices into :attr:`cars` of the detections that matched no true railcar."""
        return np.setdiff1d(np.arange(len(self.cars)), self.pairs[:, 0])

    def dashed_boxes(self) -> DashedBoxes:
        """How many railcar boxes the overlay draws dashed (unsure) and solid, and how many of each
        are false."""
        dashed = unsure_railcars(self.cars)
        false = np.zeros(dashed.size, bool)
        false[self.false] = True
        return DashedBoxes(
            int(dashed.sum()), int((~dashed).sum()), int((dashed & false).sum()), int((~dashed & false).sum())
        )

    def line(self) -> str:
        """The first line ``railcount evaluate`` prints: the count and its interval, the truth, the
        error, and precision, recall and F1."""
        r, m = self.count.result, self.match
        return (
            f"{r.station}: counted {r.railcars} ({r.railcars_low}-{r.railcars_high}), "
            f"truth {self.truth_count}, error {r.railcars - self.truth_count:+d}; "
            f"precision {m.precision:.2f}, recall {m.recall:.2f}, F1 {m.f1:.2f}"
        )

    def __repr__(self) -> str:
        return f"<StationEvaluation {self.line()}>"

    def to_dict(self) -> dict[str, object]:
        r = self.count.result
        # Types are scored only on matched cars whose truth names a type; truth that labels
        # every car "wagon" (Muttenz) says nothing about types.
        typed = [(d, t) for d, t in self.type_pairs if t in RAILCAR_TYPES]
        dashed = self.dashed_boxes()
        return {
            "station": r.station,
            "scene": r.scene,
            "acquired": r.acquired.isoformat() if r.acquired else None,
            "sun": dict(r.sun) if r.sun is not None else None,
            "railcars": r.railcars,
            "railcars_low": r.railcars_low,
            "railcars_high": r.railcars_high,
            "truth": self.truth_count,
            "count_error": r.railcars - self.truth_count,
            "interval_holds_truth": r.railcars_low <= self.truth_count <= r.railcars_high,
            "truth_repeats": [list(pair) for pair in self.truth.repeats],
            "true_positives": self.match.true_positives,
            "precision": round(self.match.precision, 4),
            "recall": round(self.match.recall, 4),
            "f1": round(self.match.f1, 4),
            "precision_2_5m": round(self.strict.precision, 4),
            "recall_2_5m": round(self.strict.recall, 4),
            "unsure": dashed.unsure,
            "unsure_false": dashed.unsure_false,
            "sure_false": dashed.sure_false,
            "locomotives": r.locomotives,
            "true_locomotives": self.locomotives.truth,
            "locomotives_matched": self.locomotives.true_positives,
            "tarped": r.tarped,
            "true_tarped": self.tarped.truth,
            "tarped_matched": self.tarped.true_positives,
            "types_labelled": len(typed),
            "types_classified": sum(1 for d, _ in typed if d in RAILCAR_TYPES),
            "types_right": sum(1 for d, t in typed if d in RAILCAR_TYPES and d == t),
            "gsd_m": round(r.gsd_m, 4),
            "detector_version": r.detector_version,
        }


@dataclass(frozen=True)
class DashedBoxes:
    """An evaluation's railcar boxes as the overlay draws them (:meth:`StationEvaluation.dashed_boxes`)."""

    unsure: int
    sure: int
    unsure_false: int
    sure_false: int


DATE_SLACK_DAYS = 1
"""Two dates of one acquisition may be a day apart: a local date (a file name's, a person's) against
the UTC date of the scene's metadata. Used by the truth file's and ``--acquired``'s date checks."""


def _days_apart(a: datetime, b: datetime) -> int:
    """Whole days between the UTC dates of two times."""
    return abs((a.astimezone(timezone.utc).date() - b.astimezone(timezone.utc).date()).days)


def _check_truth_date(truth: str | os.PathLike[str], acquired: datetime | None, scene: str) -> None:
    """Warn when ``truth``'s file name carries a date more than :data:`DATE_SLACK_DAYS` from the
    scene's acquisition (:class:`~railcount.errors.TruthDateWarning`); silent where either is unknown."""
    named = date_from_name(Path(truth).name)
    if named is None or acquired is None:
        return
    apart = _days_apart(named, acquired)
    if apart > DATE_SLACK_DAYS:
        warnings.warn(
            TruthDateWarning(
                f"{truth}: its name says {named.date().isoformat()}, but {scene} was acquired "
                f"{acquired.date().isoformat()}, {apart} days apart: if it is another day's truth, the "
                "count is compared with cars that were not there; give the truth of this scene"
            ),
            stacklevel=3,
        )


def evaluate_scene(
    scene: str | os.PathLike[str],
    stations: Sequence[Station],
    truth: str | os.PathLike[str],
    *,
    params: DetectorParams | None = None,
    match_radius_m: float = 7.5,
    out_dir: str | os.PathLike[str] | None = None,
    acquired: datetime | None = None,
    shadows_toward: float | None = None,
    bands: Sequence[int] | None = None,
) -> list[StationEvaluation]:
    """Count ``scene`` and compare each station with the railcars in ``truth`` (GeoJSON, lon/lat).

    A detection matches a true car when their centres lie within
    ``match_radius_m`` (half a car length) of each other. With ``out_dir``,
    the count's files and the evaluation's (``evaluation.json``,
    ``errors.geojson``: the missed and the false cars, ``evaluation.png``)
    are written there, in a subfolder per station when there are several.
    ``acquired`` replaces the scene's acquisition time, ``shadows_toward`` places the sun from the
    shadows' bearing, and ``bands`` picks the bands read (see :func:`count_scene`).
    """
    feats = truth_features(truth)  # read once, and a bad file fails before the scene is counted
    check_truth_near(truth, feats, stations)
    out: list[StationEvaluation] = []
    dirs = station_dirs(out_dir, stations)
    for sc in count_scene(
        scene,
        stations,
        params=params,
        out_dir=out_dir,
        acquired=acquired,
        shadows_toward=shadows_toward,
        bands=bands,
    ):
        if not out:
            _check_truth_date(truth, sc.window.acquired, sc.window.scene_id)
        stock = stock_in_window(feats, sc.window)
        if stock.repeats:
            said = ", ".join(f"{late} repeats {first}" for first, late in stock.repeats)
            warnings.warn(
                TruthRepeatWarning(
                    f"{truth}: {len(stock.repeats)} outline(s) in {sc.result.station} repeat an earlier "
                    f"car's, centred under {REPEAT_M:g} m from it (feature {said}; numbered from 0 in file "
                    "order); each car is counted once: delete the repeats from the file"
                ),
                stacklevel=2,
            )
        true_rc, true_cls, true_tarped, true_locos = stock[:4]
        is_loco = sc.detections.kind == "locomotive"
        cars = sc.detections.subset(~is_loco)
        radius = match_radius_m / sc.window.gsd_m
        pairs = match_pairs(cars.center, true_rc, radius)
        m = Match(len(true_rc), len(cars), len(pairs))
        types = [(str(cars.kind[i]), str(true_cls[j])) for i, j in pairs]
        strict = match_centres(cars.center, true_rc, STRICT_RADIUS_M / sc.window.gsd_m)
        locos = match_centres(sc.detections.center[is_loco], true_locos, radius)
        tarps = match_centres(cars.center[cars.tarped], true_rc[true_tarped], radius)
        ev = StationEvaluation(sc, len(true_rc), m, types, strict, locos, tarps, pairs, stock)
        if out_dir is not None:
            missed = ev.missed
            marks = ErrorMarks(
                truth=len(true_rc),
                missed_rings=tuple(stock.rings[j] for j in missed),
                missed_lonlat=tuple(stock.rings_lonlat[j] for j in missed),
                false=np.flatnonzero(~is_loco)[ev.false],
            )
            target = dirs[sc.window.station.name]
            seams = tile_seams(sc.window.shape, sc.grid)
            # The cloud and a cloud's shadow are shown, hatched inside the station as on the overlay
            # (greyed as no data, a bright roof outside it taken for cloud looked like a hole in the file).
            written = write_evaluation(
                target,
                sc._shown(sc.cloud, sc.shade),
                sc.detections,
                sc.result,
                ev.to_dict(),
                marks,
                seams,
                cloud=sc.cloud,
                shade=sc.shade,
            )
            ev.outputs.update(sc.outputs)
            ev.outputs.update(written)
        out.append(ev)
    return out


def _centre(window: SceneWindow) -> tuple[float, float]:
    """The station's centroid, lon and lat: where the sun is placed for a count."""
    c = window.station.geometry.centroid
    return float(c.x), float(c.y)


def _refuse_too_coarse(window: SceneWindow, params: DetectorParams) -> None:
    """A one-line :class:`TooCoarseError` for a window whose pixels are coarser than
    ``params.max_gsd_m``: there a railcar (about 3 m wide) is under three pixels across, its shadow
    as little, and a count would be a number with nothing under it (a 3 m PlanetScope scene of the
    bundled sample's yard read 0 railcars, interval 0-1, where 73 stand)."""
    if too_coarse(window.gsd_m, params):
        raise TooCoarseError.of(window.scene_id, window.gsd_m, params.max_gsd_m)


def _check_given_date(window: SceneWindow, given: datetime) -> None:
    """Warn (:class:`~railcount.errors.AcquiredDateWarning`) when a person's ``--acquired`` falls more
    than :data:`DATE_SLACK_DAYS` from the date the scene's own metadata gives. Not against
    TIFFTAG_DATETIME, which the TIFF standard makes the file's creation time: replacing it with the
    acquisition time is what ``--acquired`` is for."""
    own = window.acquired
    if own is None or window.acquired_from in (None, "tiff_datetime"):
        return
    apart = _days_apart(given, own)
    if apart <= DATE_SLACK_DAYS:
        return
    source = ACQUIRED_FROM.get(window.acquired_from or "", "the file")
    warnings.warn(
        AcquiredDateWarning(
            f"{window.scene_id}: --acquired {given:%Y-%m-%d} is {apart} days from {own:%Y-%m-%d}, the date "
            f"from {source}; the sun is placed for the date given, so if it was mistyped the shadows are "
            "looked for on the wrong side or at the wrong length: check it"
        ),
        stacklevel=3,
    )


def _refuse_a_night_time(window: SceneWindow) -> None:
    """A one-line usage error when the time a person gave (``--acquired``, or a scene list's time in a
    batch, which then records the scene as failed with it) puts the sun below the horizon over the
    station, or under :data:`~railcount.detect.sun.SHADOW_SUN_UP_DEG` up: no picture to count was
    taken then. A local time written without its offset reads as UTC: at Tumangang, 10:48 local read
    as UTC is 19:48 local, after dark, and the bundled sample then counted 39 of its 73 railcars
    where its true time gives 67."""
    if window.acquired is None or time_of_day_unknown(window.acquired):
        return
    height = solar_position(*_centre(window), window.acquired).elevation_deg
    if height >= SHADOW_SUN_UP_DEG:
        return
    when = window.acquired.astimezone(timezone.utc)
    zone = round(_centre(window)[0] / 15.0)  # the hours the local time runs ahead of UTC, by longitude
    sign = "+" if zone >= 0 else "-"
    by_hand = window.acquired_from == "given"
    given = (
        f"--acquired {when:%Y-%m-%dT%H:%M}Z"
        if by_hand
        else f"{window.scene_id}: the time listed, {when:%H:%M}Z,"
    )
    raise UsageError(
        f"{given} puts the sun {sun_height_words(height)} over "
        f"{window.station.name!r}, too low for a picture to count (railcount needs it {SHADOW_SUN_UP_DEG:g} "
        "degrees up); give the acquisition time in "
        f"UTC, or a local time with its offset (e.g. {when:%Y-%m-%dT%H:%M}{sign}{abs(zone):02d}:00 "
        f"if {when:%H:%M} was the time at UTC{sign}{abs(zone)})"
    )
