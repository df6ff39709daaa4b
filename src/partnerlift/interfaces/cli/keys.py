"""The ``partnerlift keys`` command."""

from __future__ import annotations
