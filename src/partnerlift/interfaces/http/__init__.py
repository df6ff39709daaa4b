"""The HTTP API (FastAPI): ``create_app`` in :mod:`partnerlift.interfaces.http.app`.

This module imports nothing heavy, so the CLI can use the API keys without loading
FastAPI.
"""

from __future__ import annotations
