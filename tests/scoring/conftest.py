"""A PySpark session shared by every scoring test that runs on Spark."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A local[1] PySpark session in UTC with the UI off and one shuffle partition.

    Adaptive execution and code generation are off: on a few rows per test they cost
    more time than they save. ``spark_session()`` returns this session while it runs.
    Without Java or PySpark the Spark tests are skipped, unless the environment sets
    ``PARTNERLIFT_REQUIRE_SPARK=1``, as CI does.
    """
    required = os.environ.get("PARTNERLIFT_REQUIRE_SPARK") == "1"
    has_java = shutil.which("java") is not None or "JAVA_HOME" in os.environ
    if not has_java and not required:
        pytest.skip("PySpark needs Java 17 (apt-get install openjdk-17-jre-headless)")
    if not required:
        pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("partnerlift-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
