"""The shared processing-rule cases (test/rules/*.cases.json, format in test/rules/README.md), run by this engine:
each event through the rules (rules.py), and the kept rows, deduplicated by id, through the aggregation on a batch
DataFrame built the way the job builds its rows (canonical JSON -> from_json with the output schema's struct)."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, SCHEMAS
from stream_foundry_delta.rules import aggregate, compile_rules, group_column, row_encoder
from stream_foundry_delta.schema import spark_schema

CASE_FILES = sorted((REPO / "test" / "rules").glob("*.cases.json"))


def load(path: Path) -> dict:
    case = json.loads(path.read_text())
    if isinstance(case["schema"], str):
        case["schema"] = json.loads((SCHEMAS / case["schema"]).read_text())
    return case


def as_json(result) -> dict:
    if result.row is not None:
        return {"row": result.row}
    if result.filtered is not None:
        return {"filtered": result.filtered}
    return {"error": result.error}


def same(got: Any, want: Any) -> bool:
    """The README's comparison: JSON values, numbers by numeric value (7 equals 7.0), a null member the same as an
    absent one; booleans are not numbers."""
    if isinstance(got, dict) and isinstance(want, dict):
        keys = {k for k, v in got.items() if v is not None} | {k for k, v in want.items() if v is not None}
        return all(same(got.get(k), want.get(k)) for k in keys)
    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(same(g, w) for g, w in zip(got, want))
    if isinstance(got, bool) or isinstance(want, bool):
        return type(got) is type(want) and got == want
    if isinstance(got, (int, float)) and isinstance(want, (int, float)):
        return got == want or (isinstance(got, float) and isinstance(want, float) and math.isnan(got) and math.isnan(want))
    return got == want


def test_the_comparison_follows_the_readme():
    assert same({"a": 7, "b": None}, {"a": 7.0}) and same([{"x": None}], [{}])
    assert not same({"a": True}, {"a": 1}) and not same({"a": 1}, {"a": 2}) and not same([1], [1, 2])


@pytest.fixture(params=CASE_FILES, ids=[p.name for p in CASE_FILES])
def case(request) -> dict:
    return load(request.param)


def test_every_case_file_is_found():
    assert {p.name for p in CASE_FILES} >= {"clickstream.cases.json", "casts-and-errors.cases.json"}


def test_results(case):
    rules = compile_rules(case["rules"], case["hashKey"], case["schema"])
    assert len(case["events"]) == len(case["expected"]["results"])
    for index, (event, expected) in enumerate(zip(case["events"], case["expected"]["results"])):
        snapshot = json.dumps(event, sort_keys=True)
        got = as_json(rules(event))
        assert same(got, expected), f"event {index}: got {got}, expected {expected}"
        assert json.dumps(event, sort_keys=True) == snapshot, "the rules do not modify the input event"


def test_the_schema_the_rules_produce_is_the_documents_output_schema(case):
    """What this engine derives while compiling the rules (the type of each field after each transform) is the
    table synth declared: the same columns and Spark types."""
    rules = compile_rules(case["rules"], case["hashKey"], case["schema"])

    def shape(struct) -> dict:
        return {f.name: (shape(f.dataType) if hasattr(f.dataType, "fields") else f.dataType.simpleString())
                for f in struct.fields}

    assert shape(spark_schema(rules.output_schema)) == shape(spark_schema(case["outputSchema"]))


def window_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_aggregates(case, spark):
    from pyspark.sql import functions as F

    spec = case["rules"].get("aggregate")
    if not spec:
        assert case["expected"]["aggregates"] == [], "no aggregate section, yet aggregates are expected"
        return
    rules = compile_rules(case["rules"], case["hashKey"], case["schema"])
    encode = row_encoder(case["outputSchema"])
    kept: dict[Any, dict] = {}
    for event in case["events"]:
        row = rules(event).row
        if row is not None:
            kept.setdefault(row[case["idField"]], row)  # first occurrence wins
    struct = spark_schema(case["outputSchema"])
    texts = spark.createDataFrame([(encode(row),) for row in kept.values()], "json string")
    rows = texts.select(F.from_json("json", struct).alias("e")).select("e.*")
    assert rows.filter(F.col(case["eventTimeField"]).isNull()).count() == 0, "every row parsed"

    result = aggregate(rows, spec, case["eventTimeField"]).collect()
    groups = [group_column(field) for field in spec.get("groupBy") or []]

    def key(row: dict) -> tuple:
        return (row["window_start"], *[(row.get(g) is not None, row.get(g)) for g in groups])

    got = sorted(({**r.asDict(), "window_start": window_text(r["window_start"]),
                   "window_end": window_text(r["window_end"])} for r in result), key=key)
    expected = case["expected"]["aggregates"]
    assert same(got, expected), f"got {got}, expected {expected}"
    # the aggregates table's types are the aggregateSchema's
    aggregate_struct = spark_schema({k: v for k, v in case["aggregateSchema"].items() if k != "required"})
    declared = {f.name: f.dataType.simpleString() for f in aggregate_struct.fields}
    produced = {f.name: f.dataType.simpleString() for f in aggregate(rows, spec, case["eventTimeField"]).schema.fields}
    assert produced == declared


def test_python_pitfalls_json_types_not_python_types():
    """Python's True == 1 and 3.0 == 3: the rules go by JSON types as JSON Schema counts them (a boolean is never an
    integer; a whole number such as 1.0 is an integer, 1.5 is not)."""
    schema = {"type": "object", "properties": {"i": {"type": "integer"}, "n": {"type": "number"},
                                               "b": {"type": "boolean"}, "o": {"type": "object", "properties": {
                                                   "s": {"type": "string"}}}}}
    rules = compile_rules({"filter": [{"name": "one", "keep": {"any": [{"field": "i", "eq": 1}, {"field": "n", "in": [1]}]}}],
                           "transform": [{"name": "flag", "derive": "flag", "from": {"concat": [{"field": "b"}]}},
                                         {"name": "s", "mask": "o.s", "with": "fixed"}]}, None, schema)
    assert rules({"i": True, "b": True}).error == "rule one: field i is boolean, expected integer"
    assert rules({"i": 1.0, "b": True}).row == {"i": 1.0, "b": True, "flag": "true"}
    assert rules({"i": 1.5, "b": True}).error == "rule one: field i is number, expected integer"
    assert rules({"i": 2, "n": True, "b": True}).error == "rule one: field n is boolean, expected number"
    assert rules({"i": 2, "n": 1.0, "b": True}).row == {"i": 2, "n": 1.0, "b": True, "flag": "true"}
    assert rules({"i": 1, "b": 1}).error == "rule flag: field b is integer, expected boolean"
    # a value on the path that is not an object: a schema changed underneath the rules, so the event fails
    assert rules({"i": 1, "b": False, "o": "text"}).error == "rule s: field o is string, expected object"
    assert rules({"i": 1, "b": False, "o": {"s": "abc"}}).row["o"] == {"s": "***"}
