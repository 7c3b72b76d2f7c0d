"""The Glue path of the source module: the connection options Glue documents, and the documented output shape
(the schema's columns + __src_timestamp) mapped onto the columns the rest of the job reads."""

from __future__ import annotations

import json
from datetime import datetime

from conftest import click, clickstream_schema
from stream_foundry_delta.pipeline import RAW_COLUMNS, StreamConfig, classify, event_schema
from stream_foundry_delta.sources import (CORRUPT_RECORD, GLUE_RECORD_TIMESTAMP, glue_connection_options,
                                          glue_kinesis)

ARN = "arn:aws:kinesis:eu-west-1:123456789012:stream/clickstream"
CONFIG = StreamConfig(source="clickstream", schema=clickstream_schema(), event_time_field="occurred_at",
                      table_path="/t", error_path="/e", checkpoint_location="/c")


def test_connection_options_are_the_documented_ones_with_an_explicit_schema(spark):
    options = glue_connection_options(ARN, event_schema(CONFIG), starting_position="TRIM_HORIZON")
    assert {k: v for k, v in options.items() if k != "schema"} == {
        "streamARN": ARN, "classification": "json", "inferSchema": "false", "startingPosition": "trim_horizon",
        "addRecordTimestamp": "true", "emitConsumerLagMetrics": "true"}
    # "schema" is required when inferSchema is false, in DDL form: Spark's own DDL parser reads it back.
    parsed = spark._jvm.org.apache.spark.sql.types.StructType.fromDDL(options["schema"])
    shape = lambda fields: [(f["name"], f["type"]) for f in fields]  # noqa: E731
    assert shape(json.loads(parsed.json())["fields"]) == shape(json.loads(event_schema(CONFIG).json())["fields"]) + [
        (CORRUPT_RECORD, "string")]


class StubGlueContext:
    """create_data_frame.from_options as Glue documents its result: the schema's columns parsed from the JSON
    payload (Spark's JSON reader stands in for Glue's), plus __src_timestamp."""

    def __init__(self, spark, records: list[str]):
        self.spark, self.records, self.calls = spark, records, []
        self.create_data_frame = self

    def from_options(self, connection_type, connection_options, transformation_ctx):
        self.calls.append((connection_type, connection_options))
        parsed = (self.spark.read.schema(connection_options["schema"])
                  .option("columnNameOfCorruptRecord", CORRUPT_RECORD)
                  .json(self.spark.sparkContext.parallelize(self.records)))
        return parsed.withColumn(GLUE_RECORD_TIMESTAMP, __import__("pyspark.sql.functions").sql.functions.lit(
            datetime(2026, 11, 20, 9, 0, 1)))


def test_glue_path_returns_the_columns_of_the_local_path_and_the_checks_still_apply(spark):
    valid = click("2026-11-20T09:00:00Z")
    records = [json.dumps(valid), "this is not json", json.dumps(click("2026-11-20T09:00:00Z", duration_ms="slow")),
               json.dumps({k: v for k, v in valid.items() if k != "session_id"})]
    glue = StubGlueContext(spark, records)
    raw = glue_kinesis(glue, ARN, event_schema(CONFIG))
    assert glue.calls[0][0] == "kinesis"
    assert tuple(raw.columns) == RAW_COLUMNS
    rows = classify(raw, CONFIG).collect()
    reasons = sorted(row["_reason"] for row in rows if not row["_valid"])
    ok = [row for row in rows if row["_valid"]]
    assert len(ok) == 1, reasons
    ok = ok[0]
    assert ok["event_id"] == valid["event_id"] and ok["kinesis_arrival_time"] == datetime(2026, 11, 20, 9, 0, 1)
    assert len(reasons) == 3
    assert any(r.startswith("not JSON") for r in reasons), reasons
    assert "$.duration_ms: expected integer, got string" in reasons
    assert "$: missing required property 'session_id'" in reasons
    assert all(row["kinesis_sequence_number"] for row in rows)
