"""partnerlift: measure which partner support goes with sales, and repeat it."""

from __future__ import annotations

__version__ = "0.1.0"
