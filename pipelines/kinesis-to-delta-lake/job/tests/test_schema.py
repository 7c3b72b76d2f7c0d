"""JSON Schema -> Spark schema and validation, on the project's real schemas and samples (no Spark session)."""

from __future__ import annotations

import json

import pytest
from pyspark.sql import types as T

from conftest import SCHEMAS
from stream_foundry_delta.schema import SchemaError, compile_checker, compile_validator, load_schema, spark_schema


def schema(name: str) -> dict:
    return load_schema(SCHEMAS / f"{name}.schema.json")


def test_clickstream_schema_becomes_the_table_schema():
    struct = spark_schema(schema("clickstream"))
    assert struct.simpleString() == (
        "struct<event_id:string,event_type:string,occurred_at:timestamp,user_id:string,session_id:string,"
        "page:struct<url:string,referrer:string,title:string>,"
        "device:struct<os:string,app_version:string,screen_width:bigint>,"
        "tags:array<string>,duration_ms:bigint,is_bot:boolean>"
    )
    assert struct["event_id"].metadata == {"comment": "Unique id of the event; duplicates share it."}
    assert all(field.nullable for field in struct.fields)


def test_orders_schema_with_nullable_object_array_of_structs_number_and_date():
    struct = spark_schema(schema("orders"))
    assert struct["items"].dataType == T.ArrayType(
        T.StructType([T.StructField("sku", T.StringType()), T.StructField("quantity", T.LongType()),
                      T.StructField("unit_price", T.DoubleType())])
    )
    assert struct["shipping_address"].dataType.fieldNames() == ["line1", "city", "postal_code", "country"]
    assert struct["total_amount"].dataType == T.DoubleType()
    assert struct["order_date"].dataType == T.DateType()
    assert struct["updated_at"].dataType == T.TimestampType()


@pytest.mark.parametrize("name", ["clickstream", "orders"])
def test_every_sample_event_is_valid(name):
    check = compile_validator(schema(name))
    lines = (SCHEMAS / f"{name}.samples.ndjson").read_text().splitlines()
    assert lines and [check(line) for line in lines] == [None] * len(lines)


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}]}}}, "$.a: 'oneOf' is not supported"),
        ({"type": "object", "properties": {"a": {"$ref": "#/definitions/x"}}}, "$.a: '$ref' is not supported"),
        ({"type": "object", "properties": {"a": {"enum": ["x"]}}}, "$.a: 'type' is required"),
        ({"type": "object", "properties": {"a": {"type": ["string", "integer"]}}}, "$.a: type ['string', 'integer']"),
        ({"type": "object", "properties": {"a": {"type": "string", "format": "ipv4"}}}, "format 'ipv4' is not"),
        ({"type": "object", "properties": {"a": {"type": "string", "contentEncoding": "base64"}}},
         "$.a: keyword(s) ['contentEncoding'] not supported for type 'string'"),
        ({"type": "object", "properties": {"a": {"type": "object", "additionalProperties": {"type": "string"}}}},
         "$.a: additionalProperties must be true or false"),
        ({"type": "object", "properties": {"a": {"type": "object"}}}, "$.a: an object needs 'properties'"),
        ({"type": "object", "properties": {"a": {"type": "array", "items": [{"type": "string"}]}}},
         "$.a: an array needs one 'items' schema"),
        ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]},
         "$: required properties ['b'] are not declared"),
    ],
)
def test_what_a_column_cannot_express_is_a_clear_error(node, message):
    with pytest.raises(SchemaError) as err:
        spark_schema(node)
    assert message in str(err.value)


def test_load_schema_names_the_file(tmp_path):
    bad = tmp_path / "x.schema.json"
    bad.write_text("{nope")
    with pytest.raises(SchemaError, match="x.schema.json: not valid JSON"):
        load_schema(bad)
    with pytest.raises(SchemaError, match="schema file not found"):
        load_schema(tmp_path / "missing.schema.json")


VALID = {
    "event_id": "0b7e4a52-8a1f-4c57-9a39-2f1d8e4c1a01",
    "event_type": "click",
    "occurred_at": "2026-11-20T09:15:02.120Z",
    "user_id": "u-1",
    "session_id": "s-1",
}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"event_id": "not-a-uuid"}, '$.event_id: "not-a-uuid" is not a valid uuid'),
        ({"event_type": "hover"}, '$.event_type: "hover" is not one of page_view, click, add_to_cart, purchase, search'),
        ({"user_id": ""}, "$.user_id: shorter than 1 characters"),
        ({"user_id": "u" * 65}, "$.user_id: longer than 64 characters"),
        ({"user_id": 42}, "$.user_id: expected string, got integer"),
        ({"duration_ms": -1}, "$.duration_ms: -1 is less than 0"),
        ({"duration_ms": 1.5}, "$.duration_ms: expected integer, got number"),
        ({"duration_ms": 2**63}, "$.duration_ms: 9223372036854775808 does not fit a 64-bit integer"),
        ({"is_bot": "yes"}, "$.is_bot: expected boolean, got string"),
        ({"tags": ["a"] * 21}, "$.tags: more than 20 items"),
        ({"tags": ["a", 1]}, "$.tags[1]: expected string, got integer"),
        ({"page": {"title": "t"}}, "$.page: missing required property 'url'"),
        ({"page": {"url": "https://x", "referrer": None}}, None),
        ({"page": {"url": "not a uri"}}, '$.page.url: "not a uri" is not a valid uri'),
        ({"device": {"app_version": "1.2"}}, '$.device.app_version: "1.2" does not match ^\\d+\\.\\d+\\.\\d+$'),
        ({"device": {"os": "web", "fan": 1}}, "$.device: unexpected property 'fan'"),
        ({"occurred_at": "2026-02-30T00:00:00Z"}, '$.occurred_at: "2026-02-30T00:00:00Z" is not a valid date-time'),
        ({"occurred_at": "2026-11-20T09:15:02"}, '$.occurred_at: "2026-11-20T09:15:02" is not a valid date-time'),
        ({"occurred_at": "2026-11-20T09:15:02+01"}, '$.occurred_at: "2026-11-20T09:15:02+01" is not a valid date-time'),
        ({"occurred_at": "2026-11-20t09:15:02.5z"}, None),
        ({"occurred_at": "2026-12-31T23:59:60Z"}, None),
        ({"occurred_at": "2026-12-31T22:59:60Z"}, '$.occurred_at: "2026-12-31T22:59:60Z" is not a valid date-time'),
        ({"occurred_at": None}, "$.occurred_at: expected string, got null"),
    ],
)
def test_validation_reasons_name_the_path_and_the_rule(change, reason):
    check = compile_validator(schema("clickstream"))
    assert check(json.dumps({**VALID, **change})) == reason


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "empty record"),
        ("   ", "empty record"),
        ("{", "not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ('{"a": NaN}', "not JSON: NaN is not valid JSON"),
        (json.dumps(VALID) + " {}", "not JSON: extra data at character"),
        (b"\xc3\x28", "not UTF-8: invalid continuation byte at byte 0"),
        ('"just a string"', "$: expected object, got string"),
    ],
)
def test_records_that_are_not_json_objects(raw, reason):
    result = compile_validator(schema("clickstream"))(raw)
    assert result is not None and result.startswith(reason)


def test_checker_canonicalizes_date_times_spark_cannot_read_as_sent():
    check = compile_checker(schema("orders"))
    line = (SCHEMAS / "orders.samples.ndjson").read_text().splitlines()[0]
    reason, canonical = check(line.replace('"updated_at":"2026-11-20T09:18:45Z"', '"updated_at":"2026-12-31t23:59:60z"'))
    assert reason is None
    assert json.loads(canonical)["updated_at"] == "2026-12-31T23:59:59.999999Z"
    assert json.loads(canonical)["items"] == json.loads(line)["items"]
    assert check('{"event_id": 1}') == ("$: missing required property 'order_id'", None)


def test_a_whole_number_is_an_integer_and_reaches_spark_as_one():
    """JSON Schema (draft-07) counts 3.0 as an integer (docs/processing-rules.md, "Fields"; the landing validator's
    Ajv does too); Spark's JSON reader takes no 3.0 for a bigint column, so the canonical JSON carries 3."""
    check = compile_checker(schema("clickstream"))
    event = {"event_id": "00000000-0000-4000-8000-000000000001", "event_type": "click",
             "occurred_at": "2026-11-20T09:00:00Z", "user_id": "u", "session_id": "s", "duration_ms": 3.0,
             "device": {"screen_width": 390.0}}
    reason, canonical = check(json.dumps(event))
    assert reason is None
    assert '"duration_ms":3,' in canonical and '"screen_width":390}' in canonical
    assert compile_validator(schema("clickstream"))(json.dumps({**event, "duration_ms": 3.5})) == (
        "$.duration_ms: expected integer, got number")
    assert compile_validator(schema("clickstream"))(json.dumps({**event, "user_id": 3.0})) == (
        "$.user_id: expected string, got integer")
