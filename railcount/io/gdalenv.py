"""GDAL settings for reading scenes, local or remote, in one place.

Remote scenes (``http(s)://``, ``s3://``, ``gs://``, ``az://``...) are read by
GDAL's virtual file systems (``/vsicurl/``, ``/vsis3/``...), which fetch byte
ranges: a Cloud-Optimized GeoTIFF's header first, then only the tiles a
window needs. The defaults below keep that cheap and predictable:

* ``GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR``: do not list the URL's
  "directory" looking for side-car files (one request saved per open, and
  object stores often forbid listing).
* ``CPL_VSIL_CURL_ALLOWED_EXTENSIONS``: only probe side-car files of raster
  extensions, never ``.aux.xml`` guesses. Set only when every URL ends in
  one of them (query strings aside): GDAL would otherwise refuse a URL such
  as ``https://host/download?id=5`` as "does not exist".
* ``GDAL_HTTP_MERGE_CONSECUTIVE_RANGES=YES``: one request for adjacent tiles.
* ``GDAL_HTTP_TIMEOUT`` / ``GDAL_HTTP_CONNECTTIMEOUT`` / ``GDAL_HTTP_MAX_RETRY``:
  an unreachable server fails in seconds with a clear message instead of
  hanging; transient 429/5xx answers are retried twice.
* ``GDAL_HTTP_LOW_SPEED_TIME=20`` / ``GDAL_HTTP_LOW_SPEED_LIMIT=1``: a server
  that takes the connection but sends nothing for 20 s is given up on (with
  the retries, about a minute), where the 60 s timeout and its retries held
  a count, or a batch's plan, silent for three minutes.
* ``VSI_CACHE=TRUE``: re-reading a byte range within a process is free.

A value already set in the environment wins over these defaults, so a user
can tune any of them (and supply ``AWS_*`` credentials or
``AWS_NO_SIGN_REQUEST=YES`` for ``s3://``) without touching railcount.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence

import rasterio

REMOTE_SCHEMES = ("http://", "https://", "s3://", "gs://", "az://", "azure://", "oss://", "zip+http")

# GDAL's network file systems, for names given in GDAL's own form.
_NETWORK_VSI = ("/vsicurl", "/vsis3", "/vsigs", "/vsiaz", "/vsiadls", "/vsioss", "/vsiswift", "/vsiwebhdfs")

ALLOWED_EXTENSIONS = (".tif", ".tiff", ".vrt", ".ovr", ".msk", ".jp2")

REMOTE_DEFAULTS: dict[str, str] = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ",".join(
        [*ALLOWED_EXTENSIONS, *(e.upper() for e in ALLOWED_EXTENSIONS)]
    ),
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    "GDAL_HTTP_TIMEOUT": "60",
    "GDAL_HTTP_CONNECTTIMEOUT": "10",
    "GDAL_HTTP_MAX_RETRY": "2",
    "GDAL_HTTP_RETRY_DELAY": "1",
    "GDAL_HTTP_LOW_SPEED_TIME": "20",
    "GDAL_HTTP_LOW_SPEED_LIMIT": "1",
    "VSI_CACHE": "TRUE",
}


def is_remote(name: str) -> bool:
    """True for URLs GDAL reads through a network virtual file system."""
    low = name.lower()
    return low.startswith(REMOTE_SCHEMES) or low.startswith(_NETWORK_VSI)


def gdal_options(*, remote: bool, names: Sequence[str] = ()) -> dict[str, str]:
    """GDAL configuration options for reading ``names``; the user's environment overrides each default."""
    if not remote:
        return {}
    options = {k: v for k, v in REMOTE_DEFAULTS.items() if k not in os.environ}
    remote_names = [n for n in names if is_remote(n)]
    if not all(n.split("?", 1)[0].lower().endswith(ALLOWED_EXTENSIONS) for n in remote_names):
        options.pop("CPL_VSIL_CURL_ALLOWED_EXTENSIONS", None)
    return options


@contextlib.contextmanager
def gdal_env(*, remote: bool, names: Sequence[str] = ()) -> Iterator[None]:
    """A ``rasterio.Env`` with :func:`gdal_options`, active for as long as the dataset is read."""
    with rasterio.Env(**gdal_options(remote=remote, names=names)):
        yield
