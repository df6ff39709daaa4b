"""The ``partnerlift serve`` command."""

from __future__ import annotations
