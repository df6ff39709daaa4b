"""The ``partnerlift``  commands of this area."""

from __future__ import annotations
