"""Exceptions raised by railcount.

Every error a user can cause derives from :class:`RailcountError` and also from
the matching builtin, so callers may catch either. Messages say what was
received, what was expected and what to do; the CLI prints them as one line.

Exit codes used by the CLI:

* 2 -- usage errors (:class:`UsageError` and its subclasses): bad arguments,
  missing files, malformed station GeoJSON.
* 1 -- data errors (:class:`DataError` and its subclasses): a scene that cannot
  be read or used, a station outside the scene.
* 3 -- a batch stopped part-way (:class:`BatchStoppedError`), after storing some scenes.
"""

from __future__ import annotations


class RailcountError(Exception):
    """Root of all railcount errors."""

    exit_code: int = 1


class UsageError(RailcountError, ValueError):
    """The command or its arguments cannot be used as given."""

    exit_code = 2


class StationError(UsageError):
    """A station file or polygon is missing, malformed or unusable."""


class DataError(RailcountError):
    """Input data exists but cannot be used."""

    exit_code = 1


class SceneReadError(DataError, OSError):
    """A scene file cannot be opened or read (missing, corrupt, not a raster)."""


class NotGeoreferencedError(DataError, ValueError):
    """A scene has no coordinate reference system or no geotransform."""


class NoOverlapError(DataError, ValueError):
    """A station polygon does not overlap the scene's footprint."""


class WindowTooLargeError(DataError, MemoryError):
    """A station's window would need more memory to count than the machine has free."""


class TooCoarseError(DataError, ValueError):
    """The scene's pixels are too coarse to count railcars by (``DetectorParams.max_gsd_m``); a batch
    records such a scene as skipped, with the reason."""

    @classmethod
    def of(cls, scene: str, gsd_m: float, max_gsd_m: float) -> TooCoarseError:
        """The error for ``scene`` with ``gsd_m`` pixels, coarser than ``max_gsd_m``: one line."""
        return cls(
            f"{scene}: {gsd_m:.2f} m pixels are too coarse to count railcars by (a car, about 3 m wide, "
            f"is {3.0 / gsd_m:.1f} pixels across); railcount counts imagery of {max_gsd_m:g} m or finer, "
            "best 0.3-0.5 m: yards made coarser were counted a quarter to two thirds low at 1.2 m, and at "
            "3 m nothing was found"
        )


class NoValidPixelsError(DataError, ValueError):
    """The station's window holds no valid (non-nodata) pixels."""


class RailcountWarning(UserWarning):
    """Root of railcount's warnings: the input works, but the user should know something."""


class SlowReadWarning(RailcountWarning):
    """A scene can be read, but its layout makes reading slow (e.g. a striped, untiled file)."""


class BandOrderWarning(RailcountWarning):
    """A multispectral file names none of its bands red, green or blue, so its first three are read as
    red, green, blue; many 4-band products are blue, green, red, near-infrared (``--bands 3,2,1``)."""


class NegativeValuesWarning(RailcountWarning):
    """Many of a window's pixels hold values below zero, which read as black: a signed file stored with
    an offset, or a product scaled otherwise than as reflectance or counts (a few negative pixels, a
    surface-reflectance product's over-corrected darks, are normal and not warned of)."""


class TruthRepeatWarning(RailcountWarning):
    """A truth file outlines one car twice (two centres closer than any two cars stand); the car is
    counted once (:data:`railcount.io.truth.REPEAT_M`)."""


class TruthDateWarning(RailcountWarning):
    """A truth file's name carries a date more than a day from the scene's acquisition: it may be the
    truth of another day's scene of the same station, which no other check can tell."""


class OverlayUnavailableWarning(RailcountWarning):
    """A report could not count its judged scene again to draw it (the file moved, or cannot be read):
    its figures are the history's, and the evidence pack has no overlay."""


class ChartFontWarning(RailcountWarning):
    """The report's chart font cannot draw some characters of the station's name."""


class SeveralCountsWarning(RailcountWarning):
    """A report's history holds several counts of the station on the date judged: the best observed
    is judged, and the warning names the others."""


class BatchNoteWarning(RailcountWarning):
    """Something ``railcount.count_series`` planned that its caller should know and ``railcount batch``
    prints: stored counts of a station whose outline changed are counted again (and replaced), a
    station no scene covers, scenes whose bands were guessed."""


class DaskIdleWarning(RailcountWarning):
    """A batch on a Dask cluster waits for scenes while the cluster has no worker left."""


class StationNotCountedWarning(RailcountWarning):
    """One of several stations lies outside the scene (or where it holds no data) and was not counted;
    the others were."""


class StationRepairedWarning(RailcountWarning):
    """A station polygon was invalid (its outline crosses itself) and was repaired: the area counted is
    the repair's, which may not be what was meant."""


class AssumedSunWarning(RailcountWarning):
    """A scene gives no time of day, so the sun's position (which side shadows fall on) is assumed."""


class AcquiredDateWarning(RailcountWarning):
    """``--acquired`` gives a date more than a day from the one the scene's own metadata gives: a typed
    date that places the sun for another day of the year."""


class CautionWarning(RailcountWarning):
    """A count's caution (:mod:`railcount.cautions`): the count was made, but where the detector is known
    to be weak. Each kind is kept with the count's record (``warnings``), so a caller that stores the
    record can ignore them all at once."""


class ShadowsAlongTracksWarning(CautionWarning):
    """The sun throws the cars' shadows along the tracks, where the detector, which finds cars beside
    their shadows, misses many of them (the count is likely low)."""


class ShortShadowsWarning(CautionWarning):
    """The sun stands so high that the cars' shadows are a few pixels long, where the detector, which
    finds cars beside their shadows, misses more of them (see :mod:`railcount.cautions`)."""


class ProviderCloudWarning(CautionWarning):
    """The scene's provider reported cloud over it, which may hide cars: railcount cannot see thin cloud
    (see :mod:`railcount.cautions`)."""


class CloudShadowWarning(CautionWarning):
    """Part of the station lay in a wide shadow (a cloud's, or a tall building's), where cars cast no
    shadow and most are missed: the count leaves that part out of ``observed_fraction`` (see
    :mod:`railcount.cautions`)."""


class PartialViewWarning(CautionWarning):
    """Under four fifths of the station was seen (outside the scene, no data, opaque cloud or a wide
    shadow): the count is of the seen part (see :func:`railcount.cautions.partial_view_caution`)."""


class CoarseImageryWarning(CautionWarning):
    """The imagery is too coarse to see the gaps between coupled cars; on real yards counts made at such
    resolutions have run low (see :mod:`railcount.cautions`)."""


class TiledCountWarning(CautionWarning):
    """The window was too large to count whole in the memory free and was counted in tiles, which read
    the whole window's contrast and track directions but see less of the yard near their seams (see
    :func:`railcount.cautions.tiled_caution`)."""


class StretchedPictureWarning(CautionWarning):
    """The picture's darkest tones are clipped to black: a contrast stretch made it for display, and
    stretched pictures are counted high (see :func:`railcount.cautions.stretched_caution`)."""


class StoreError(UsageError):
    """A results store is missing, is not a railcount store, or was written by a newer railcount."""


class StoreLockedError(StoreError):
    """Another program (another ``railcount batch``, a database browser) held the results store's lock
    for longer than railcount waits (:data:`railcount.store.LOCK_WAIT_S`): nothing could be processed
    (exit code 1, as issue 5 reads it), and the same command run later goes on."""

    exit_code = 1


class StoreReadOnlyError(StoreError):
    """The results store cannot be written (a read-only file, folder or disk)."""


class BatchStoppedError(RailcountError, RuntimeError):
    """A batch stopped part-way because its store could no longer be written; the scenes it stored
    before are kept, and the same command run again counts the rest (exit code 3, as for a batch in
    which some scenes failed)."""

    exit_code = 3


class HistoryError(UsageError):
    """A counts history (CSV or results store) is missing, malformed or lacks the station asked for."""


class NoObservationError(DataError, LookupError):
    """The history holds no observation for the date or scene to be judged."""


class EmptyBaselineError(DataError, ValueError):
    """No earlier, well-observed observation lies in the baseline window."""
