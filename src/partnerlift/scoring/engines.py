"""The engines that run scoring: DuckDB (the workspace database) or PySpark.

Scoring reads the canonical tables through ``table(name)``. The DuckDB engine is the
:class:`partnerlift.store.Database` itself. The PySpark engine copies the canonical
tables into Spark temporary views and runs the same Ibis expressions there. It needs
the ``spark`` extra (``pip install 'partnerlift[spark]'``) and Java 17.
"""

from __future__ import annotations

import itertools
import logging
import os
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from partnerlift.errors import ConfigError
from partnerlift.store import Database

logger = logging.getLogger(__name__)

SCORING_TABLES = ("partners", "users", "assets", "events")
_views = itertools.count()


def spark_session(*, partitions: int = 4) -> Any:
    """Return the active PySpark session, or start a local one whose clock is UTC.

    Times are stored as naive UTC and local wall-clock columns, so the session zone
    must be UTC for Spark to read them back unchanged. An active session is returned
    as it is, so its settings (such as ``partitions``) stay the caller's.

    Raises
    ------
    ConfigError
        If PySpark is not installed.
    """
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # before the JVM starts
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(
            "The engine 'pyspark' needs PySpark. Install it with "
            "pip install 'partnerlift[spark]', or set engine = \"duckdb\"."
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    return (
        SparkSession.builder.master("local[1]")
        .appName("partnerlift")
        .config("spark.sql.session.timeZone", "UTC")
        # Local mode talks to itself only: keep the driver on the loopback address.
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


def _spark_frame(session: Any, rows: Any) -> Any:
    """Return a Spark DataFrame of an Arrow table, empty tables included."""
    if rows.num_rows:
        return session.createDataFrame(rows)
    # PySpark 4.0 cannot build a DataFrame from an empty Arrow table with timestamp
    # columns, so an empty table is created from its schema alone.
    from pyspark.sql.pandas.types import from_arrow_schema

    return session.createDataFrame([], from_arrow_schema(rows.schema))


class SparkTables:
    """The canonical tables of a database, copied into a PySpark session.

    Parameters
    ----------
    database
        The workspace database to copy from.
    session
        A PySpark session with ``spark.sql.session.timeZone`` set to UTC.
    """

    def __init__(self, database: Database, session: Any) -> None:
        self.session = session
        self.backend = ibis.pyspark.connect(session)
        self._users = database.query(
            "SELECT user_id, partner_id, valid_from, valid_to FROM users"
        )
        prefix = f"partnerlift_{next(_views)}"
        self.views = {}
        for name in SCORING_TABLES:
            rows = database.raw.sql(f'SELECT * FROM "{name}"').to_arrow_table()
            view = f"{prefix}_{name}"
            _spark_frame(session, rows).createOrReplaceTempView(view)
            self.views[name] = view
        logger.info("Copied %s into PySpark views %s_*", SCORING_TABLES, prefix)

    def table(self, name: str) -> ir.Table:
        """Return the Spark copy of the canonical table ``name``."""
        return self.backend.table(self.views[name])

    def users_frame(self) -> pd.DataFrame:
        """Return the users table as copied, read once from the source database."""
        return self._users

    def close(self) -> None:
        """Drop the temporary views; the session stays up for the next use."""
        for view in self.views.values():
            self.session.catalog.dropTempView(view)


def scoring_tables(database: Database, engine: str) -> Database | SparkTables:
    """Return the tables scoring reads for ``engine`` (``duckdb`` or ``pyspark``)."""
    if engine == "pyspark":
        return SparkTables(database, spark_session())
    return database


__all__ = ["SCORING_TABLES", "SparkTables", "scoring_tables", "spark_session"]
