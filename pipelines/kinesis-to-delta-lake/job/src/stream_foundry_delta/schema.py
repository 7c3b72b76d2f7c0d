"""A source's JSON Schema, compiled once into the two things the job needs.

* ``spark_schema(schema)``: the Spark ``StructType`` of the Delta table, derived from the JSON Schema in
  ``schemas/<source>.schema.json`` (so the schema is written once, in one place).
* ``compile_validator(schema)``: a function ``record -> reason | None`` that applies the JSON Schema's rules to
  one parsed JSON value, with a reason that names the offending path.

Both accept the same subset of JSON Schema (draft-07) and reject anything else with a ``SchemaError`` naming the
path and the keyword, instead of silently ignoring a rule the job would then not enforce.

Type mapping: ``string`` -> string, ``string`` + ``format: date-time`` -> timestamp (UTC), ``string`` +
``format: date`` -> date, ``integer`` -> bigint, ``number`` -> double, ``boolean`` -> boolean, ``object`` -> struct,
``array`` -> array. ``type: [T, "null"]`` is a nullable T. Every column is nullable in Spark; ``required`` is
enforced by the validator, which runs before a record reaches the table.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Mapping

from pyspark.sql import types as T

#: Keywords that only annotate a schema; they change neither the table nor validation.
ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples", "readOnly", "writeOnly"}
)
#: Keywords the job enforces, per JSON type.
SUPPORTED = {
    "string": {"type", "enum", "const", "minLength", "maxLength", "pattern", "format"},
    "integer": {"type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"},
    "number": {"type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"},
    "boolean": {"type", "enum", "const"},
    "object": {"type", "properties", "required", "additionalProperties"},
    "array": {"type", "items", "minItems", "maxItems", "uniqueItems"},
}
FORMATS = {"date-time", "date", "uuid", "uri", "email"}

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$"
)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SchemaError(ValueError):
    """The JSON Schema uses something the job cannot turn into a table column or enforce."""


def load_schema(path: str | Path) -> dict[str, Any]:
    """Read ``schemas/<source>.schema.json``; errors name the file."""
    path = Path(path)
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise SchemaError(f"{path}: schema file not found") from err
    except json.JSONDecodeError as err:
        raise SchemaError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise SchemaError(f"{path}: the top level of a source schema must be an object schema")
    return schema


def _json_type(node: Mapping[str, Any], path: str) -> tuple[str, bool]:
    """The node's single JSON type and whether it may be null."""
    if not isinstance(node, Mapping):
        raise SchemaError(f"{path}: a schema must be an object, got {type(node).__name__}")
    for keyword in ("$ref", "oneOf", "anyOf", "allOf", "not", "if", "then", "else", "patternProperties",
                    "dependencies", "propertyNames", "contains", "additionalItems", "definitions"):
        if keyword in node:
            raise SchemaError(f"{path}: '{keyword}' is not supported (no single column type can express it)")
    declared = node.get("type")
    if declared is None:
        raise SchemaError(f"{path}: 'type' is required (a column needs one type)")
    types = [declared] if isinstance(declared, str) else list(declared)
    nullable = "null" in types
    types = [t for t in types if t != "null"]
    if len(types) != 1:
        raise SchemaError(f"{path}: type {declared!r} is not supported; use one type, optionally with \"null\"")
    json_type = types[0]
    if json_type not in SUPPORTED:
        raise SchemaError(f"{path}: type {json_type!r} is not supported")
    unknown = set(node) - SUPPORTED[json_type] - ANNOTATIONS
    if unknown:
        raise SchemaError(f"{path}: keyword(s) {sorted(unknown)} not supported for type {json_type!r}")
    if json_type == "string" and "format" in node and node["format"] not in FORMATS:
        raise SchemaError(f"{path}: format {node['format']!r} is not supported (supported: {sorted(FORMATS)})")
    if json_type == "object":
        additional = node.get("additionalProperties", True)
        if not isinstance(additional, bool):
            raise SchemaError(f"{path}: additionalProperties must be true or false (a schema has no column)")
        if not node.get("properties"):
            raise SchemaError(f"{path}: an object needs 'properties' to become a struct column")
        missing = [name for name in node.get("required", []) if name not in node["properties"]]
        if missing:
            raise SchemaError(f"{path}: required properties {missing} are not declared in 'properties'")
    if json_type == "array" and not isinstance(node.get("items"), Mapping):
        raise SchemaError(f"{path}: an array needs one 'items' schema (tuple arrays are not supported)")
    return json_type, nullable


def _data_type(node: Mapping[str, Any], path: str) -> T.DataType:
    json_type, _ = _json_type(node, path)
    if json_type == "string":
        return {"date-time": T.TimestampType(), "date": T.DateType()}.get(node.get("format", ""), T.StringType())
    if json_type == "integer":
        return T.LongType()
    if json_type == "number":
        return T.DoubleType()
    if json_type == "boolean":
        return T.BooleanType()
    if json_type == "array":
        return T.ArrayType(_data_type(node["items"], f"{path}[]"), containsNull=True)
    return _struct(node, path)


def _struct(node: Mapping[str, Any], path: str) -> T.StructType:
    fields = []
    for name, child in node["properties"].items():
        child_path = f"{path}.{name}"
        metadata = {"comment": child["description"]} if isinstance(child, Mapping) and child.get("description") else {}
        fields.append(T.StructField(name, _data_type(child, child_path), nullable=True, metadata=metadata))
    return T.StructType(fields)


def spark_schema(schema: Mapping[str, Any]) -> T.StructType:
    """The Spark schema of one source's events, derived from its JSON Schema."""
    json_type, _ = _json_type(schema, "$")
    if json_type != "object":
        raise SchemaError("$: the top level of a source schema must be an object schema")
    return _struct(schema, "$")


def field_type(schema: Mapping[str, Any], field: str) -> T.DataType:
    """The Spark type of a top-level field; a clear error when the field is not in the schema."""
    struct = spark_schema(schema)
    if field not in struct.fieldNames():
        raise SchemaError(f"field {field!r} is not a top-level property of the schema ({struct.fieldNames()})")
    return struct[field].dataType


# --- validation -------------------------------------------------------------------------------------------------

Check = Callable[[Any, str], "str | None"]


def _valid_date_time(value: str) -> bool:
    """RFC 3339 date-time, as the landing validator checks it (platform/handlers/formats.ts): T and Z in either case,
    an offset with hours and minutes, a leap second only at 23:59 UTC."""
    match = _DATE_TIME.match(value)
    if not match:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        datetime(year, month, day, hour, minute)
    except ValueError:
        return False
    offset = 0
    if match.group(9) is not None:
        tz_hour, tz_minute = int(match.group(9)), int(match.group(10))
        if tz_hour > 23 or tz_minute > 59:
            return False
        offset = (tz_hour * 60 + tz_minute) * (-1 if match.group(8)[0] == "-" else 1)
    if second < 60:
        return True
    return second == 60 and (hour * 60 + minute - offset) % 1440 == 23 * 60 + 59


def _valid_date(value: str) -> bool:
    match = _DATE.match(value)
    if not match:
        return False
    try:
        date(*(int(g) for g in match.groups()))
    except ValueError:
        return False
    return True


_FORMAT_CHECKS: dict[str, Callable[[str], bool]] = {
    "date-time": _valid_date_time,
    "date": _valid_date,
    "uuid": lambda v: bool(_UUID.match(v)),
    "uri": lambda v: bool(_URI.match(v)),
    "email": lambda v: bool(_EMAIL.match(v)),
}


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _compile(node: Mapping[str, Any], path: str) -> Check:
    json_type, nullable = _json_type(node, path)
    checks: list[Check] = []

    if "enum" in node:
        allowed = list(node["enum"])
        checks.append(lambda v, p: None if v in allowed else f"{p}: {_show(v)} is not one of {', '.join(map(str, allowed))}")
    if "const" in node:
        expected = node["const"]
        checks.append(lambda v, p: None if v == expected else f"{p}: must be {_show(expected)}")

    if json_type == "string":
        def is_type(v: Any) -> bool:
            return isinstance(v, str)
        if "minLength" in node:
            low = node["minLength"]
            checks.append(lambda v, p: None if len(v) >= low else f"{p}: shorter than {low} characters")
        if "maxLength" in node:
            high = node["maxLength"]
            checks.append(lambda v, p: None if len(v) <= high else f"{p}: longer than {high} characters")
        if "pattern" in node:
            regex = re.compile(node["pattern"])
            checks.append(lambda v, p: None if regex.search(v) else f"{p}: {_show(v)} does not match {node['pattern']}")
        if "format" in node:
            fmt = node["format"]
            check_format = _FORMAT_CHECKS[fmt]
            checks.append(lambda v, p: None if check_format(v) else f"{p}: {_show(v)} is not a valid {fmt}")
    elif json_type in ("integer", "number"):
        if json_type == "integer":
            def is_type(v: Any) -> bool:  # JSON Schema's integer: 3.0 is one (docs/processing-rules.md, "Fields")
                return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
            checks.insert(0, lambda v, p: None if INT64_MIN <= v <= INT64_MAX else f"{p}: {v} does not fit a 64-bit integer")
        else:
            def is_type(v: Any) -> bool:
                return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        for keyword, test, words in (
            ("minimum", lambda v, b: v >= b, "less than"),
            ("maximum", lambda v, b: v <= b, "greater than"),
            ("exclusiveMinimum", lambda v, b: v > b, "not greater than"),
            ("exclusiveMaximum", lambda v, b: v < b, "not less than"),
        ):
            if keyword in node:
                bound = node[keyword]
                checks.append(lambda v, p, t=test, b=bound, w=words: None if t(v, b) else f"{p}: {v} is {w} {b}")
    elif json_type == "boolean":
        def is_type(v: Any) -> bool:
            return isinstance(v, bool)
    elif json_type == "array":
        def is_type(v: Any) -> bool:
            return isinstance(v, list)
        item_check = _compile(node["items"], f"{path}[]")
        if "minItems" in node:
            low = node["minItems"]
            checks.append(lambda v, p: None if len(v) >= low else f"{p}: fewer than {low} items")
        if "maxItems" in node:
            high = node["maxItems"]
            checks.append(lambda v, p: None if len(v) <= high else f"{p}: more than {high} items")
        if node.get("uniqueItems"):
            checks.append(lambda v, p: None if len({json.dumps(i, sort_keys=True) for i in v}) == len(v) else f"{p}: items are not unique")

        def items(v: list, p: str) -> str | None:
            for index, item in enumerate(v):
                reason = item_check(item, f"{p}[{index}]")
                if reason:
                    return reason
            return None
        checks.append(items)
    else:  # object
        def is_type(v: Any) -> bool:
            return isinstance(v, dict)
        properties = {name: _compile(child, f"{path}.{name}") for name, child in node["properties"].items()}
        required = list(node.get("required", []))
        closed = node.get("additionalProperties", True) is False

        def members(v: dict, p: str) -> str | None:
            for name in required:
                if name not in v:
                    return f"{p}: missing required property '{name}'"
            if closed:
                extra = [name for name in v if name not in properties]
                if extra:
                    return f"{p}: unexpected property '{extra[0]}'"
            for name, value in v.items():
                check = properties.get(name)
                if check is not None:
                    reason = check(value, f"{p}.{name}")
                    if reason:
                        return reason
            return None
        checks.append(members)

    expected = json_type if not nullable else f"{json_type} or null"

    def check(value: Any, p: str) -> str | None:
        if value is None:
            return None if nullable else f"{p}: expected {expected}, got null"
        if not is_type(value):
            return f"{p}: expected {expected}, got {json_type_name(value)}"
        for rule in checks:
            reason = rule(value, p)
            if reason:
                return reason
        return None

    return check


def json_type_name(value: Any) -> str:
    """A parsed JSON value's type as JSON Schema (draft-07) names it: a whole number (3.0) is an integer, a boolean
    never is (Python's bool is an int)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if math.isfinite(value) and value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null" if value is None else type(value).__name__


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _normalizer(node: Mapping[str, Any]) -> Callable[[Any], Any] | None:
    """Rewrites valid date-time strings into the one form Spark's JSON reader parses (upper-case T and Z, no leap
    second) and whole numbers of integer fields (``3.0``, an integer for JSON Schema) into integers (Spark's reader
    takes no ``3.0`` for a bigint), or None when nothing under ``node`` needs it."""
    json_type, _ = _json_type(node, "$")
    if json_type == "integer":
        return lambda v: int(v) if isinstance(v, float) and v.is_integer() else v
    if json_type == "string" and node.get("format") == "date-time":
        def date_time(v: Any) -> Any:
            if not isinstance(v, str):
                return v
            v = v[:10] + "T" + v[11:]
            body, offset = (v[:-1], "Z") if v[-1] in "zZ" else (v[:-6], v[-6:])
            if body[17:19] == "60":  # a leap second: the table's timestamps cannot hold :60
                body = body[:17] + "59.999999"
            return body + offset
        return date_time
    if json_type == "array":
        inner = _normalizer(node["items"])
        if inner is None:
            return None
        return lambda v: [inner(i) for i in v] if isinstance(v, list) else v
    if json_type == "object":
        inner = {name: n for name, child in node["properties"].items() if (n := _normalizer(child)) is not None}
        if not inner:
            return None

        def obj(v: Any) -> Any:
            if isinstance(v, dict):
                for name, fix in inner.items():
                    if v.get(name) is not None:
                        v[name] = fix(v[name])
            return v
        return obj
    return None


def compile_checker(schema: Mapping[str, Any]) -> Callable[[str | bytes | None], tuple[str | None, str | None]]:
    """``raw JSON text -> (None, canonical JSON)`` when the record satisfies the schema, else ``(reason, None)``.

    The canonical JSON is what the job hands to Spark's ``from_json``: the same value, with date-time strings in
    the form Spark parses."""
    validate = compile_validator(schema)
    normalize = _normalizer(schema)
    decoder = json.JSONDecoder(parse_constant=_reject_constant)

    def check(raw: str | bytes | None) -> tuple[str | None, str | None]:
        reason = validate(raw)
        if reason is not None:
            return reason, None
        text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
        if normalize is None:
            return None, text
        value, _ = decoder.raw_decode(text.strip())
        return None, json.dumps(normalize(value), ensure_ascii=False, separators=(",", ":"))

    return check


def compile_parser(schema: Mapping[str, Any]) -> Callable[[str | bytes | None], tuple[str | None, Any]]:
    """``raw JSON text -> (None, parsed value)`` when the record satisfies the schema, else ``(reason, None)``: what
    the processing rules start from (parsed once)."""
    spark_schema(schema)  # the same subset must also be expressible as a table
    check = _compile(schema, "$")
    decoder = json.JSONDecoder(parse_constant=_reject_constant)

    def parse(raw: str | bytes | None) -> tuple[str | None, Any]:
        if raw is None:
            return "empty record", None
        if isinstance(raw, (bytes, bytearray)):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                return f"not UTF-8: {err.reason} at byte {err.start}", None
        text = raw.strip()
        if not text:
            return "empty record", None
        try:
            value, end = decoder.raw_decode(text)
        except ValueError as err:
            return f"not JSON: {err}", None
        if end != len(text):
            return f"not JSON: extra data at character {end}", None
        reason = check(value, "$")
        return (reason, None) if reason else (None, value)

    return parse


def compile_validator(schema: Mapping[str, Any]) -> Callable[[str | bytes | None], str | None]:
    """``raw JSON text -> None`` when the record satisfies the schema, else the reason it does not."""
    parse = compile_parser(schema)

    def validate(raw: str | bytes | None) -> str | None:
        return parse(raw)[0]

    return validate
