"""The sensor: area-sample, blur, add haze and noise, quantise; products and delivery.

:func:`sense` is realism v1's 8-bit RGB sensor, kept pixel for pixel.
"""

from __future__ import annotations

import cv2
import numpy as np


def sense(
    reflectance: np.ndarray,
    supersample: int,
    rng: np.random.Generator,
    *,
    psf_sigma_px: float = 0.55,
    haze: tuple[float, float, float] = (0.02, 0.026, 0.042),
    shot: float = 0.05,
    read: float = 1.1,
) -> np.ndarray:
    """Image fine-grid reflectance through a simple sensor.

    Parameters
    ----------
    reflectance : ndarray of float32, shape (rows * supersample, cols * supersample, 3)
    supersample : int
        Fine pixels per output pixel along each axis (block mean = detector area).
    rng : numpy.random.Generator
        Noise stream.
    psf_sigma_px : float
        Gaussian optics + motion blur, in output pixels.
    haze : (float, float, float)
        Additive path radiance per band (reflectance units).
    shot, read : float
        Shot-noise variance per DN and read-noise sigma in DN.

    Returns
    -------
    ndarray of uint8, shape (rows, cols, 3)
    """
    h, w = reflectance.shape[:2]
    img = reflectance
    if supersample > 1:
        img = cv2.resize(img, (w // supersample, h // supersample), interpolation=cv2.INTER_AREA)
    img = cv2.GaussianBlur(img, (0, 0), psf_sigma_px)
    dn = 255 * (0.94 * img + np.asarray(haze, np.float32))
    sigma = np.sqrt(shot * np.maximum(dn, 0) + read * read)
    common = rng.standard_normal(dn.shape[:2], dtype=np.float32)[..., None]
    own = rng.standard_normal(dn.shape, dtype=np.float32)
    dn += sigma * (0.6 * common + 0.8 * own)
    return np.clip(np.rint(dn), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------- realism v2

# per internal band R, G, B, NIR
_CLOUD = np.array([0.92, 0.93, 0.96, 0.85], np.float32)
_THIN = np.array([0.86, 0.88, 0.92, 0.78], np.float32)
_HAZE = np.array([0.58, 0.64, 0.76, 0.40], np.float32)
_BASE_8 = np.array([0.02, 0.026, 0.042, 0.015], np.float32)  # path radiance (v1's haze) in reflectance
_BASE_11 = np.array([0.025, 0.035, 0.05, 0.02], np.float32)
_GAIN_11 = 0.70  # 11-bit data sit low in their range, as delivered products do
_PAN = np.array([0.30, 0.30, 0.20, 0.20], np.float32)  # weights of R, G, B, NIR in the panchromatic band
BAND_ORDER = {"rgb8": (0, 1, 2), "bgrn16": (2, 1, 0, 3)}
BAND_NAMES = {
    "rgb8": ("red", "green", "blue"),
    "bgrn16": ("blue", "green", "red", "nir"),
    "pan8": ("pan",),
    "pan16": ("pan",),
}


def near_infrared(rgb: np.ndarray) -> np.ndarray:
    """NIR reflectance (rows, cols) estimated from visible reflectance (rows, cols, 3).

    Vegetation (green above red) is bright in the NIR, red paint and rust
    fairly bright, blue paint and shadows dark; grey things stay grey.
    """
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    green = np.clip(g - r, 0, None) * (g > b)
    return np.maximum(r, 0.8 * (r + g + b) / 3) + 2.6 * green


CLOUD_SHADOW_LEFT = 0.28
"""What a cloud's shadow leaves of the light where no ``direct`` map is given (the skylight)."""


def _cloud_shadow_factor(
    shadow: np.ndarray, direct: np.ndarray | None, tint: np.ndarray | None, supersample: int
) -> np.ndarray:
    """What a cloud's shadow (opacity 0-1, output grid) leaves of each band's light (rows, cols, 4).

    Without ``direct`` everything under it is dimmed alike, to :data:`CLOUD_SHADOW_LEFT`. With it
    (the share of the direct sun each fine-grid pixel receives, :func:`~railcount.synth.render.direct_light`)
    a pixel keeps its skylight, ``tint`` (R, G, B: a cast shadow's share of the light), and loses its
    direct sun: sunlit ground and roofs fall to the tint, and a cast shadow, which had no direct sun,
    stays as it was, as under a real cloud's shadow, where nothing casts one.
    """
    s = shadow[..., None]
    if direct is None or tint is None:
        return 1 - (1 - CLOUD_SHADOW_LEFT) * s
    h, w = shadow.shape
    d = cv2.resize(direct, (w, h), interpolation=cv2.INTER_AREA) if supersample > 1 else direct
    k = np.append(np.asarray(tint, np.float32), np.float32(np.mean(tint)))  # NIR: the bands' mean
    lit = k + (1 - k) * d[..., None]
    return (1 - s) + s * (k / lit)


def sense_v2(
    reflectance: np.ndarray,
    supersample: int,
    rng: np.random.Generator,
    *,
    bands: str,
    sky: dict[str, np.ndarray] | None,
    direct: np.ndarray | None = None,
    tint: np.ndarray | None = None,
    blur: float = 1.0,
    noise: float = 1.0,
    sharpen: bool = True,
) -> np.ndarray:
    """Image fine-grid reflectance through the sensor, under the sky, into a product.

    Parameters
    ----------
    reflectance : ndarray of float32, shape (rows * supersample, cols * supersample, 3)
    supersample : int
    rng : numpy.random.Generator
        Noise stream.
    bands : str
        ``"rgb8"``, ``"bgrn16"``, ``"pan16"`` or ``"pan8"`` (see :class:`~railcount.synth.spec.Product`).
    sky : dict or None
        Fields from :meth:`~railcount.synth.atmosphere.Sky.on_grid` on the output grid.
    direct, tint : ndarray or None
        The share of the direct sun each fine-grid pixel receives, and a cast shadow's share of the
        light (R, G, B): under a cloud's shadow the direct sun alone is taken away (see
        :func:`_cloud_shadow_factor`); without them the shadow dims everything alike.
    blur, noise : float
        Multipliers of the point-spread width and of the noise.
    sharpen : bool
        Realism v2: a slightly narrower PSF and the MTF compensation (unsharp
        mask) that delivered products get; False keeps realism v1's optics.

    Returns
    -------
    ndarray of uint8 or uint16, shape (rows, cols, n_bands)
        Bands in the product's order; 16-bit products hold 11-bit values.
    """
    h, w = reflectance.shape[:2]
    img = reflectance
    if supersample > 1:
        img = cv2.resize(img, (w // supersample, h // supersample), interpolation=cv2.INTER_AREA)
    rgbn = np.concatenate([img, near_infrared(img)[..., None]], axis=-1)
    del img
    if sky is not None:
        rgbn *= _cloud_shadow_factor(sky["shadow"], direct, tint, supersample)
        for alpha, colour in (
            (sky["thin"], _THIN),
            (sky["cloud"], _CLOUD * sky["tone"][..., None]),
            (sky["haze"], _HAZE),
        ):
            a = alpha[..., None]
            rgbn *= 1 - a
            rgbn += colour * a
    # optics and detector blur, then the MTF compensation that every delivered product gets
    rgbn = cv2.GaussianBlur(rgbn, (0, 0), (0.5 if sharpen else 0.55) * blur)
    if sharpen:
        rgbn = rgbn + 0.35 * (rgbn - cv2.GaussianBlur(rgbn, (0, 0), 1.2))
    eight = bands.endswith("8")
    scale = 1.0 if eight else 2047 / 255
    dn: np.ndarray = 255 * (0.94 * rgbn + _BASE_8) if eight else 2047 * (_GAIN_11 * rgbn + _BASE_11)
    if bands.startswith("pan"):
        dn = (dn @ _PAN)[..., None]
    else:
        dn = dn[..., list(BAND_ORDER[bands])]
    dn = np.ascontiguousarray(dn, dtype=np.float32)
    sigma_n = scale * np.sqrt(0.05 * np.maximum(dn, 0) / scale + 1.1**2) * noise
    common = rng.standard_normal(dn.shape[:2], dtype=np.float32)[..., None]
    own = rng.standard_normal(dn.shape, dtype=np.float32)
    dn += sigma_n * (0.6 * common + 0.8 * own)
    top = 255 if eight else 2047
    return np.clip(np.rint(dn), 0, top).astype(np.uint8 if eight else np.uint16)


def jpeg_artefacts(pixels: np.ndarray, quality: int) -> np.ndarray:
    """Encode 8-bit pixels (rows, cols, 1 or 3; RGB) as JPEG at ``quality`` and decode them."""
    colour = pixels.shape[-1] == 3
    plane = pixels[..., ::-1] if colour else pixels[..., 0]  # OpenCV wants BGR
    _, buf = cv2.imencode(".jpg", np.ascontiguousarray(plane), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR if colour else cv2.IMREAD_GRAYSCALE)
    if decoded is None:  # pragma: no cover - OpenCV decodes what it encoded
        raise RuntimeError("JPEG round trip failed")
    return np.ascontiguousarray(decoded[..., ::-1]) if colour else decoded[..., None]
