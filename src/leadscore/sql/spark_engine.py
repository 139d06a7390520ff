"""Running a compiled query on Apache Spark (PySpark).

Each canonical relation becomes a temporary view named as the query names it: a PySpark
DataFrame, a Parquet path, or an Arrow table. Without `ls_values`, a given `ls_history` is
pivoted into it. `spark_session` starts a quiet local session (`master`, e.g. "local[2]"; no
UI, logging at errors only); a session `run_spark` started itself is stopped when it is done.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from leadscore.sql.compiler import CompiledQuery
from leadscore.sql.pivot import pivot_values
from leadscore.sql.relations import HISTORY, VALUES

QUIET_LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
logger.spark.name = org.apache.spark
logger.spark.level = error
logger.py4j.name = py4j
logger.py4j.level = error
"""


def spark_session(master: str = "local[2]", *, app_name: str = "leadscore",
                  shuffle_partitions: int = 4, driver_memory: str = "2g") -> Any:
    """A local SparkSession with no UI and logging at errors only."""
    with warnings.catch_warnings():  # PySpark warns about pandas versions it has not tried
        warnings.simplefilter("ignore", FutureWarning)
        from pyspark.sql import SparkSession

        conf_dir = Path(tempfile.gettempdir()) / "leadscore-spark-conf"
        conf_dir.mkdir(exist_ok=True)
        log_config = conf_dir / "log4j2.properties"
        if not log_config.exists() or log_config.read_text() != QUIET_LOG4J2:
            log_config.write_text(QUIET_LOG4J2)
        java_options = f"-Dlog4j2.configurationFile=file:{log_config}"
        spark = (SparkSession.builder.master(master).appName(app_name)
                 .config("spark.ui.enabled", "false")
                 .config("spark.ui.showConsoleProgress", "false")
                 .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
                 .config("spark.driver.memory", driver_memory)
                 .config("spark.driver.extraJavaOptions", java_options)
                 .config("spark.sql.session.timeZone", "UTC")
                 .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@contextmanager
def _session(spark: Any, master: str) -> Iterator[Any]:
    if spark is not None:
        yield spark
        return
    own = spark_session(master)
    try:
        yield own
    finally:
        own.stop()


def bind(spark: Any, name: str, source: Any, scratch: Path) -> None:
    """Make `name` a temporary view over `source`."""
    if isinstance(source, str | Path):
        frame = spark.read.parquet(str(source))
    elif hasattr(source, "createOrReplaceTempView"):
        frame = source
    else:  # an Arrow table: through Parquet, which keeps every type and null exactly
        import pyarrow.parquet as pq

        path = scratch / f"{name}.parquet"
        pq.write_table(source, path)
        frame = spark.read.parquet(str(path))
    frame.createOrReplaceTempView(name)


def run_spark(query: CompiledQuery, relations: Mapping[str, Any], *, spark: Any = None,
              master: str = "local[2]", output: str = "rows") -> Any:
    """Run `query` over `relations` (canonical name → DataFrame, Parquet path or Arrow table).
    Returns a list of tuples ("rows"), an Arrow table ("arrow") or a pandas frame ("pandas")."""
    if query.dialect.name != "spark":
        raise ValueError(f"this query is compiled for {query.dialect.title}, not Spark")
    with _session(spark, master) as session, tempfile.TemporaryDirectory() as scratch:
        for canonical, source in relations.items():
            bind(session, query.relations.get(canonical, canonical), source, Path(scratch))
        if VALUES not in relations and HISTORY in relations:
            pivot = pivot_values(query.required_properties, query.as_of_us, "spark",
                                 query.relations.get(HISTORY, HISTORY))
            session.sql(pivot.sql(dialect="spark")).createOrReplaceTempView(
                query.relations.get(VALUES, VALUES))
        frame = session.sql(query.sql)
        if output == "rows":
            return [tuple(row) for row in frame.collect()]
        if output == "arrow":
            return frame.toArrow()
        return frame.toPandas()
