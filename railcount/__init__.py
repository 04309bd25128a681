"""railcount: count freight railcars in rail yards on satellite imagery."""

from __future__ import annotations

__version__ = "0.1.0"
