"""What to synthesise: :class:`SceneSpec` and its imaging options.

A spec is a plain frozen value: equal specs give identical scenes. Besides
the site, date, car count and GSD it carries

* ``realism``: ``"v1"`` reproduces the bundled samples pixel for pixel;
  ``"v2"`` adds overhead-line masts and portals, turnouts and crossovers,
  curved and branching track groups, sleepers and ballast that read at
  0.3 m, smooth roofs, platforms, canopies, sheds and parked trailers;
* ``conditions`` (:class:`Conditions`): snow, haze, thin and opaque cloud,
  off-nadir lean, blur, noise and JPEG artefacts;
* ``product`` (:class:`Product`): 8-bit RGB, 11-bit B/G/R/NIR in uint16, or
  panchromatic, optionally cut by a nodata swath edge.

Random draws come from generators seeded by ``(seed, date)``; the three
streams of realism ``"v1"`` (:meth:`SceneSpec.streams`) are never shared with
what was added later, which draws from its own named streams
(:meth:`SceneSpec.named_rng`), so switching on a condition or a product does
not move a single car.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from railcount.errors import UsageError
from railcount.synth.layout import parse_date

REALISMS = ("v1", "v2")
"""Accepted values of :attr:`SceneSpec.realism`."""

# named streams (second seed word) for everything added after realism v1
STREAM_CONDITIONS = 17  # cloud, haze and view geometry
STREAM_PLAN_V2 = 23  # v2 additions to the layout: trailers, snow on roofs
STREAM_EDGE = 31  # the nodata swath edge
STREAM_LENGTHS_V2 = 37  # v2: which coupled runs are short wagons, and their lengths
STREAM_VEGETATION = 41  # hedges and trees (SceneSpec.vegetation); + 1 for their foliage, + 2 for weeds


@dataclass(frozen=True)
class Conditions:
    """Atmosphere, season and viewing conditions of an acquisition (all off by default).

    Parameters
    ----------
    snow : bool
        Snow on the ground and on the roofs of most standing cars.
    haze : float
        0-1: a veil of path radiance that lowers contrast (0.5 is a hazy day).
    thin_cloud : float
        0-1: peak opacity of thin, streaky cloud through which cars stay visible.
    cloud : float
        0-0.8: fraction of the scene under opaque cumulus, which hides what is
        below it (flagged ``hidden_by_cloud`` in the truth) and casts its own
        shadow on the ground.
    off_nadir_deg : float
        0-40: viewing angle; tall things lean away from the satellite by
        ``height * tan(off_nadir)`` and show the side that faces it.
    view_azimuth_deg : float or None
        Azimuth of the satellite seen from the ground, clockwise from north;
        ``None`` draws it from the seed.
    blur : float
        Multiplies the width of the point-spread function (1 = nominal).
    noise : float
        Multiplies the sensor noise (1 = nominal).
    jpeg_quality : int or None
        Re-encode 8-bit products as JPEG at this quality (5-95) before
        delivery, leaving block artefacts; ``None`` for none.

    Text form (CLI): comma-separated names with optional values, e.g.
    ``"snow,haze=0.4,cloud=0.3,off_nadir=20,blur=1.5,noise=2,jpeg=35"``.

    >>> Conditions.parse("snow,cloud").cloud
    0.3
    """

    snow: bool = False
    haze: float = 0.0
    thin_cloud: float = 0.0
    cloud: float = 0.0
    off_nadir_deg: float = 0.0
    view_azimuth_deg: float | None = None
    blur: float = 1.0
    noise: float = 1.0
    jpeg_quality: int | None = None

    # text name -> (field, value when given without "=value")
    _NAMES: ClassVar[dict[str, tuple[str, object]]] = {
        "snow": ("snow", True),
        "haze": ("haze", 0.5),
        "thin_cloud": ("thin_cloud", 0.45),
        "cloud": ("cloud", 0.3),
        "off_nadir": ("off_nadir_deg", 20.0),
        "view_azimuth": ("view_azimuth_deg", None),
        "blur": ("blur", 2.0),
        "noise": ("noise", 3.0),
        "jpeg": ("jpeg_quality", 35),
    }

    def __post_init__(self) -> None:
        checks = (
            ("haze", 0.0, 1.0),
            ("thin_cloud", 0.0, 1.0),
            ("cloud", 0.0, 0.8),
            ("off_nadir_deg", 0.0, 40.0),
            ("blur", 0.2, 5.0),
            ("noise", 0.0, 10.0),
        )
        for name, lo, hi in checks:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
                raise UsageError(f"condition {name} must be a number in {lo}-{hi}; got {value!r}")
        if self.jpeg_quality is not None and not 5 <= int(self.jpeg_quality) <= 95:
            raise UsageError(f"condition jpeg quality must be 5-95; got {self.jpeg_quality!r}")
        if self.view_azimuth_deg is not None and not 0 <= self.view_azimuth_deg < 360:
            raise UsageError(f"condition view_azimuth must be 0-360 degrees; got {self.view_azimuth_deg!r}")

    @classmethod
    def parse(cls, text: str | Iterable[str] | Conditions | None) -> Conditions:
        """Conditions from text (``"snow,cloud=0.3"``), a sequence of such items, or as given."""
        if text is None:
            return cls()
        if isinstance(text, Conditions):
            return text
        items = text.split(",") if isinstance(text, str) else list(text)
        values: dict[str, object] = {}
        for raw in items:
            item = raw.strip().lower().replace("-", "_")
            if not item or item == "none":
                continue
            name, _, value = item.partition("=")
            if name not in cls._NAMES:
                raise UsageError(
                    f"unknown condition {name!r}; known: {', '.join(sorted(cls._NAMES))} "
                    "(e.g. 'snow,cloud=0.3,off_nadir=20')"
                )
            fname, default = cls._NAMES[name]
            if not value:
                if default is None:
                    raise UsageError(f"condition {name} needs a value, e.g. {name}=135")
                values[fname] = default
                continue
            try:
                values[fname] = int(value) if fname == "jpeg_quality" else float(value)
            except ValueError:
                raise UsageError(f"condition {name} wants a number; got {value!r}") from None
            if fname == "snow":
                values[fname] = bool(values[fname])
        return cls(**values)  # type: ignore[arg-type]

    @property
    def clear(self) -> bool:
        """True when nothing differs from the defaults."""
        return self == Conditions()

    def to_text(self) -> str:
        """The text form, listing only what differs from the defaults (``""`` if nothing)."""
        out = []
        for name, (fname, _) in self._NAMES.items():
            value = getattr(self, fname)
            if value != getattr(Conditions, fname):
                out.append(name if value is True else f"{name}={value:g}")
        return ",".join(out)


@dataclass(frozen=True)
class Product:
    """The delivered raster: band set, bit depth and whether a swath edge cuts it.

    Parameters
    ----------
    bands : str
        ``"rgb8"`` (default): 3-band uint8 red, green, blue. ``"bgrn16"``:
        4-band uint16 blue, green, red, near-infrared holding 11-bit data
        (``NBITS=11``). ``"pan16"``: one panchromatic band, uint16, 11-bit.
        ``"pan8"``: one panchromatic band, uint8.
    swath_edge : bool
        Cut the raster with a diagonal swath edge through the yard: beyond it
        pixels are nodata (0, or masked in JPEG files), and the truth flags
        what lies there (``in_nodata``).

    Text form: the band set, with ``"+edge"`` for the swath edge, e.g. ``"bgrn16+edge"``.

    >>> Product.parse("pan8+edge")
    Product(bands='pan8', swath_edge=True)
    """

    bands: str = "rgb8"
    swath_edge: bool = False

    BAND_SETS: ClassVar[tuple[str, ...]] = ("rgb8", "bgrn16", "pan16", "pan8")

    def __post_init__(self) -> None:
        if self.bands not in self.BAND_SETS:
            raise UsageError(
                f"product bands must be one of {', '.join(self.BAND_SETS)}; got {self.bands!r} "
                "(add '+edge' for a nodata swath edge)"
            )

    @classmethod
    def parse(cls, text: str | Product | None) -> Product:
        """Product from text such as ``"bgrn16+edge"``, or as given."""
        if text is None:
            return cls()
        if isinstance(text, Product):
            return text
        parts = [p.strip().lower() for p in text.split("+")]
        extra = set(parts[1:])
        if extra - {"edge"}:
            raise UsageError(f"product {text!r}: only '+edge' may follow the band set; got {sorted(extra)}")
        return cls(bands=parts[0], swath_edge="edge" in extra)

    @property
    def dtype(self) -> str:
        return "uint16" if self.bands.endswith("16") else "uint8"

    @property
    def count(self) -> int:
        return {"rgb8": 3, "bgrn16": 4, "pan16": 1, "pan8": 1}[self.bands]

    @property
    def max_value(self) -> int:
        """Largest meaningful value: 255 for 8-bit data, 2047 for 11-bit data."""
        return 255 if self.dtype == "uint8" else 2047

    def to_text(self) -> str:
        return self.bands + ("+edge" if self.swath_edge else "")


@dataclass(frozen=True)
class SceneSpec:
    """Everything that determines one synthetic scene; equal specs give equal scenes.

    Parameters
    ----------
    site : str
        A name in :data:`railcount.synth.SITE_NAMES`: ``"tumangang"`` (default),
        or ``"generic"``, a yard built from ``seed`` (angle, tracks, curves, branch),
        or ``"town"``, apartment blocks and car parks with no railcars (look-alikes;
        needs realism ``"v2"`` and ``cars=0``).
    date : str
        Acquisition date ``YYYY-MM-DD``; sets the season and, with ``seed``,
        the sun and the time of day. Default ``"2023-10-05"``.
    cars : int
        Railcars (locomotives excluded) whose centroid lies inside the
        station polygon; met exactly. Default 40.
    gsd_m : float
        Ground sample distance in metres, 0.3-1.0. Default 0.5.
    crs : str or None
        Output CRS (any EPSG string). ``None`` (default) is the site's UTM
        zone; another CRS gets the rendered raster reprojected.
    seed : int
        Seed of every random choice (cars, textures, noise). Default 0.
    locomotives : int or None
        Locomotives inside the station; ``None`` (default) draws 0-2 from the seed.
    outside_cars : bool
        Park some consists on track ends and sidings outside the station. Default True.
    distractors : bool
        Trucks on the road and containers in the lot (and, with realism
        ``"v2"``, trailers in their park). Default True.
    sun_azimuth_deg, sun_elevation_deg : float or None
        Override the sun computed from date and time. Default None.
    time_utc : str or None
        ``HH:MM:SS`` acquisition time in UTC; ``None`` (default) draws a
        late-morning local solar time from the seed.
    supersample : int or None
        Render at ``gsd_m / supersample`` before area-downsampling; ``None``
        (default) picks 2-4 from the GSD, bounded by memory.
    realism : str
        ``"v1"`` (default, the bundled samples) or ``"v2"`` (see module docs).
    conditions : Conditions
        Default: clear. Text such as ``"snow,cloud=0.3"`` is parsed.
    product : Product
        Default: ``rgb8``. Text such as ``"bgrn16+edge"`` is parsed.
    vegetation : bool
        Hedges beside the tracks, trees around the yard and overgrown stretches
        of idle track inside the station, raised and casting shadows
        (:mod:`railcount.synth.vegetation`); needs realism ``"v2"``.
        Default False (the scene is as before, pixel for pixel).
    """

    site: str = "tumangang"
    date: str = "2023-10-05"
    cars: int = 40
    gsd_m: float = 0.5
    crs: str | None = None
    seed: int = 0
    locomotives: int | None = None
    outside_cars: bool = True
    distractors: bool = True
    sun_azimuth_deg: float | None = None
    sun_elevation_deg: float | None = None
    time_utc: str | None = None
    supersample: int | None = None
    realism: str = "v1"
    conditions: Conditions = Conditions()
    product: Product = Product()
    vegetation: bool = False

    def __post_init__(self) -> None:
        from railcount.synth.sites import SITE_NAMES  # sites builds on this module

        if self.site not in SITE_NAMES:
            raise UsageError(f"unknown site {self.site!r}; known sites: {', '.join(sorted(SITE_NAMES))}")
        parse_date(self.date)
        if isinstance(self.cars, bool) or not isinstance(self.cars, (int, np.integer)) or self.cars < 0:
            raise UsageError(f"cars must be an integer >= 0; got {self.cars!r}")
        if not 0.3 <= float(self.gsd_m) <= 1.0:
            raise UsageError(f"gsd_m must be between 0.3 and 1.0 m; got {self.gsd_m!r}")
        if self.locomotives is not None and self.locomotives < 0:
            raise UsageError(f"locomotives must be >= 0; got {self.locomotives!r}")
        if self.sun_elevation_deg is not None and not 5 <= self.sun_elevation_deg <= 90:
            raise UsageError(f"sun_elevation_deg must be 5-90; got {self.sun_elevation_deg!r}")
        if self.time_utc is not None and not re.fullmatch(r"\d{2}:\d{2}:\d{2}", self.time_utc):
            raise UsageError(f"time_utc must be HH:MM:SS; got {self.time_utc!r}")
        if self.supersample is not None and not 1 <= self.supersample <= 8:
            raise UsageError(f"supersample must be 1-8; got {self.supersample!r}")
        if self.realism not in REALISMS:
            raise UsageError(f"realism must be one of {', '.join(REALISMS)}; got {self.realism!r}")
        if self.vegetation and self.realism != "v2":
            raise UsageError("hedges and trees (vegetation) are drawn by the v2 painter: add --realism v2")
        if self.site == "town" and (self.realism != "v2" or self.cars or self.locomotives):
            raise UsageError(
                "site 'town' is a look-alike block with no railcars: pass --cars 0 and --realism v2 "
                "(and no locomotives)"
            )
        # accept the text forms; the stored values are always the dataclasses
        object.__setattr__(self, "conditions", Conditions.parse(self.conditions))
        object.__setattr__(self, "product", Product.parse(self.product))
        if self.realism == "v1" and (self.conditions.snow or self.conditions.off_nadir_deg > 0):
            raise UsageError(
                "conditions snow and off_nadir change what is painted and need realism 'v2'; "
                "add realism='v2' (--realism v2)"
            )
        if self.conditions.jpeg_quality is not None and self.product.dtype != "uint8":
            raise UsageError(
                f"condition jpeg applies to 8-bit products; product {self.product.to_text()!r} is "
                "16-bit: drop jpeg or choose rgb8/pan8"
            )
        if self.crs is not None:
            import rasterio
            from rasterio.crs import CRS
            from rasterio.errors import CRSError

            try:
                with rasterio.Env():  # GDAL's own message goes to rasterio's logger, not to stderr
                    CRS.from_user_input(self.crs)
            except CRSError as exc:
                raise UsageError(
                    f"crs {self.crs!r} is not a CRS rasterio knows ({exc}); "
                    "give an EPSG code such as EPSG:32652"
                ) from None

    @property
    def plain(self) -> bool:
        """True for a realism ``"v1"`` scene with clear conditions and the default product:
        the files it gives keep exactly the layout of the bundled samples."""
        return self.realism == "v1" and self.conditions.clear and self.product == Product()

    def streams(self) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
        """Independent generators for (layout, textures, sensor noise).

        Seeded from ``seed`` and ``date`` only, so changing the GSD or the CRS
        changes neither the cars nor their truth.
        """
        day = int(self.date.replace("-", ""))
        seqs = np.random.SeedSequence([int(self.seed), day]).spawn(3)
        return tuple(np.random.Generator(np.random.PCG64(s)) for s in seqs)  # type: ignore[return-value]

    def named_rng(self, stream: int) -> np.random.Generator:
        """A generator of its own for one later addition (``STREAM_*``), apart from :meth:`streams`."""
        return np.random.default_rng([int(self.seed), int(self.date.replace("-", "")), int(stream)])
