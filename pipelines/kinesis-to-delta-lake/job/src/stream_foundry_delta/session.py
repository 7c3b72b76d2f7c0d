"""A local SparkSession with Delta Lake, for the tests, the bench and running the job outside Glue.

In AWS Glue the session comes from Glue (``--datalake-formats delta`` puts Delta on the classpath); nothing here
runs there. Locally, Delta and the Kinesis connector jars come from Maven Central through Spark's Ivy resolver
(``spark.jars.packages``) on the first run and from the Ivy cache (``~/.ivy2``) after that.
"""

from __future__ import annotations

import os
import tempfile
from typing import Iterable

from pyspark.sql import SparkSession

from .sources import SPARK_KINESIS_PACKAGE


def local_session(
    app_name: str = "stream-foundry-spark-delta",
    *,
    master: str = "local[2]",
    extra_packages: Iterable[str] = (SPARK_KINESIS_PACKAGE,),
    warehouse: str | None = None,
    conf: dict[str, str] | None = None,
) -> SparkSession:
    from delta import configure_spark_with_delta_pip

    # kinesalite answers GetRecords in JSON, the connector's AWS SDK asks for CBOR unless told not to.
    os.environ.setdefault("AWS_CBOR_DISABLE", "true")
    # Locally there is no instance-metadata endpoint to ask for credentials.
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    builder = (
        SparkSession.builder.appName(app_name)
        .master(master)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.streaming.stateStore.providerClass",
                "org.apache.spark.sql.execution.streaming.state.HDFSBackedStateStoreProvider")
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.speculation", "false")
    )
    # Spark's default warehouse is ./spark-warehouse in the working directory (the repository, for the tests and the
    # bench): a temporary one keeps local runs from leaving it behind.
    builder = builder.config("spark.sql.warehouse.dir", warehouse or tempfile.mkdtemp(prefix="spark-warehouse-"))
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    spark = configure_spark_with_delta_pip(builder, extra_packages=list(extra_packages)).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
