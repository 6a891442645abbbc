"""Where the patient-level definitions run: DuckDB (embedded, the default) or Spark."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa


@dataclass
class Engine:
    """Where the definitions run: 'duckdb' (Ibis's DuckDB backend) or 'spark'."""

    name: str
    backend: Any
    dialect: str

    def register(self, name: str, frame: pd.DataFrame) -> ir.Table:
        """A small pandas table (organisation ids) as a table the engine can join."""
        if self.name == "duckdb":
            self.backend.con.register(name, frame)
        else:
            self.backend._session.createDataFrame(frame).createOrReplaceTempView(name)
        return self.backend.table(name)

    def arrow(self, expr: ir.Table) -> pa.Table:
        """An expression's result as Arrow (Spark: collected as Arrow batches, not rows)."""
        if self.name == "duckdb":
            return expr.to_pyarrow()
        return self.backend._session.sql(self.backend.compile(expr)).toArrow()

    def sql(self, query: str) -> pd.DataFrame:
        if self.name == "duckdb":
            return self.backend.con.sql(query).df()
        return self.backend._session.sql(query).toPandas()


def duckdb_engine(threads: int | None = None, memory_limit: str | None = None) -> Engine:
    """An in-process DuckDB, separate from the warehouse connection."""
    backend = ibis.duckdb.connect()
    if threads:
        backend.con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        backend.con.execute(f"SET memory_limit = '{memory_limit}'")
    return Engine("duckdb", backend, "duckdb")


def spark_engine(master: str) -> Engine:
    """Spark through Ibis: local mode by default, or any master (spark://, yarn, k8s://)."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(master)
        .appName("fourhour")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.warehouse.dir", "/tmp/fourhour-spark-warehouse")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return Engine("spark", ibis.pyspark.connect(session), "spark")


def read_attendances(engine: Engine, files: Sequence[Any]) -> ir.Table:
    """The stored Parquet files as one Ibis table."""
    paths = [str(f) for f in files]
    if engine.name == "spark":
        engine.backend._session.read.parquet(*paths).createOrReplaceTempView("fourhour_attendances")
        return engine.backend.table("fourhour_attendances")
    return engine.backend.read_parquet(paths)
