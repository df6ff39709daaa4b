from __future__ import annotations

from pathlib import Path

import pytest

from partnerlift.settings import Workspace, create_workspace
from partnerlift.store import Database

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace in Asia/Tokyo with English texts."""
    return create_workspace(tmp_path / "ws", timezone="Asia/Tokyo", locale="en")


@pytest.fixture
def database(workspace: Workspace):
    """The database of the empty workspace, closed after the test."""
    db = Database(workspace.database_path)
    yield db
    db.close()
