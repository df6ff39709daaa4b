"""A PySpark session shared by every scoring test that runs on Spark."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A local[1] PySpark session in UTC with the UI off and one shuffle partition."""
    pytest.importorskip("pyspark")
    from partnerlift.scoring.engines import spark_session

    session = spark_session(partitions=1)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
