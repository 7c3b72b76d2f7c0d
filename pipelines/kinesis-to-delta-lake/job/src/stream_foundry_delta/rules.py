"""The source's processing rules (docs/processing-rules.md), evaluated on one parsed JSON event, and the aggregation
over the rows they keep.

* ``compile_rules(rules, hash_key, schema)``: ``event (dict) -> Result``: the transformed row, the name of the
  filter that removed the event, or the reason a rule could not evaluate it (``rule <name>: <why>``, the error
  table's reason). The source's JSON Schema says what type each field should have at each rule (transforms change
  it: a cast, a mask, a derive), which is how a value of another type is told apart ("field F is string, expected
  boolean"). Synth validated the rules against that schema, so the compiled form trusts their shape.
* ``aggregate(rows, spec, event_time_field)``: the tumbling-window aggregation over a DataFrame of output rows, the
  same expression for a batch DataFrame (the shared cases) and a streaming one (the job's second query).

Types follow JSON, not Python: ``True`` is a boolean and never an integer; ``3.0`` is a number (a float) and not an
integer; an integer is also a number.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from .schema import INT64_MAX, INT64_MIN, json_type_name

_INTEGER_TEXT = re.compile(r"-?[0-9]+")
_NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class Result:
    """Exactly one member is set: ``row`` (kept, after the transforms), ``filtered`` (the filter's name) or
    ``error`` (the reason)."""

    row: dict | None = None
    filtered: str | None = None
    error: str | None = None


class RuleError(Exception):
    """An event a rule cannot evaluate; the message is the error table's reason."""


class RulesError(ValueError):
    """The processing document cannot be compiled (synth should have refused it)."""


# --- JSON types ---------------------------------------------------------------------------------------------------

def _whole(value: Any) -> bool:
    """A JSON number with no fractional part (3.0): an integer for JSON Schema (draft-07) and for the rules."""
    return json_type_name(value) == "integer" and isinstance(value, float)


def _has_type(value: Any, json_type: str) -> bool:
    if json_type == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or _whole(value)
    if json_type == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "object":
        return isinstance(value, dict)
    if json_type == "array":
        return isinstance(value, list)
    return False


def _node_type(node: Mapping[str, Any]) -> tuple[str, bool]:
    declared = node.get("type")
    types = [declared] if isinstance(declared, str) else list(declared or [])
    kinds = [t for t in types if t != "null"]
    if len(kinds) != 1:
        raise RulesError(f"schema type {declared!r}: one type (optionally with null) expected")
    return kinds[0], "null" in types


def _typed(json_type: str, nullable: bool, like: Mapping[str, Any] | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"type": [json_type, "null"] if nullable else json_type}
    if like and like.get("description"):
        node["description"] = like["description"]
    return node


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


# --- the schema as the rules change it ------------------------------------------------------------------------------

class _Shape:
    """The event's JSON Schema at one point of the rules: the source schema, then each transform's effect."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.root = copy.deepcopy(dict(schema))

    def parent(self, path: str, rule: str) -> tuple[dict[str, Any], str]:
        *heads, last = path.split(".")
        node = self.root
        for head in heads:
            node = node.get("properties", {}).get(head)
            if not isinstance(node, dict) or _node_type(node)[0] != "object":
                raise RulesError(f"rule {rule}: field {path} is not in the schema")
        return node.setdefault("properties", {}), last

    def node(self, path: str, rule: str) -> dict[str, Any]:
        properties, last = self.parent(path, rule)
        if last not in properties:
            raise RulesError(f"rule {rule}: field {path} is not in the schema")
        return properties[last]

    def type(self, path: str, rule: str) -> str:
        return _node_type(self.node(path, rule))[0]


# --- reading fields -----------------------------------------------------------------------------------------------

def _getter(path: str, rule: str | None = None) -> Callable[[Any], Any]:
    """The field's value, or None when it is absent (a key on the path missing, or null). A value on the path that
    is not an object: absent for ``exists`` (no ``rule``), an error naming the rule for every other use."""
    parts = path.split(".")

    def get(event: Any) -> Any:
        value = event
        for index, part in enumerate(parts):
            if not isinstance(value, dict):
                if rule is None:
                    return None
                raise RuleError(f"rule {rule}: field {'.'.join(parts[:index])} is {json_type_name(value)}, expected object")
            value = value.get(part)
            if value is None:
                return None
        return value
    return get


def _reader(rule: str, path: str, json_type: str) -> Callable[[Any], Any]:
    """The field's value, checked: missing or of another type than the schema promised fails the event."""
    get = _getter(path, rule)

    def read(event: Any) -> Any:
        value = get(event)
        if value is None:
            raise RuleError(f"rule {rule}: field {path} is missing")
        if not _has_type(value, json_type):
            raise RuleError(f"rule {rule}: field {path} is {json_type_name(value)}, expected {json_type}")
        if json_type == "integer" and isinstance(value, float):
            return int(value)  # a whole number (3.0) is the integer 3
        return value
    return read


# --- conditions ---------------------------------------------------------------------------------------------------

Condition = Callable[[Any], bool]
_ORDERING = {"gt": lambda v, x: v > x, "gte": lambda v, x: v >= x, "lt": lambda v, x: v < x,
             "lte": lambda v, x: v <= x}


def _condition(spec: Mapping[str, Any], rule: str, shape: _Shape) -> Condition:
    if "all" in spec:
        parts = [_condition(c, rule, shape) for c in spec["all"]]
        return lambda event: all(part(event) for part in parts)  # all() stops at the first False
    if "any" in spec:
        parts = [_condition(c, rule, shape) for c in spec["any"]]
        return lambda event: any(part(event) for part in parts)
    if "not" in spec:
        inner = _condition(spec["not"], rule, shape)
        return lambda event: not inner(event)
    path = spec.get("field")
    if not isinstance(path, str):
        raise RulesError(f"rule {rule}: a condition needs all, any, not or field")
    operators = [key for key in spec if key != "field"]
    if len(operators) != 1:
        raise RulesError(f"rule {rule}: a condition on {path} has exactly one operator, got {operators}")
    op, literal = operators[0], spec[operators[0]]
    if op == "exists":
        get = _getter(path)
        return (lambda event: get(event) is not None) if literal else (lambda event: get(event) is None)
    read = _reader(rule, path, shape.type(path, rule))
    if op == "eq":
        return lambda event: _equal(read(event), literal)
    if op == "ne":
        return lambda event: not _equal(read(event), literal)
    if op == "in":
        options = list(literal)
        return lambda event: any(_equal(read(event), option) for option in options)
    if op in _ORDERING:
        compare = _ORDERING[op]
        return lambda event: compare(read(event), literal)
    if op == "startsWith":
        return lambda event: read(event).startswith(literal)
    raise RulesError(f"rule {rule}: unknown operator {op!r}")


# --- transforms ---------------------------------------------------------------------------------------------------

Transform = Callable[[dict], None]


def _locate(path: str, rule: str) -> Callable[[dict], tuple[dict | None, str]]:
    """The object holding the field's key (None when the path to it is absent) and the key; a value on the way that
    is not an object fails the event (a schema changed underneath the rules)."""
    *heads, last = path.split(".")
    get = _getter(path, rule)
    parent = _getter(".".join(heads), rule) if heads else (lambda event: event)

    def locate(event: dict) -> tuple[dict | None, str]:
        holder = parent(event)
        if holder is not None and not isinstance(holder, dict):
            get(event)  # raises: the holder is not an object
        return holder, last
    return locate


def _replace_value(rule: str, path: str, json_type: str, convert: Callable[[Any], Any]) -> Transform:
    """A transform that replaces a present value (checked to be ``json_type``) with ``convert(value)``; an absent
    field stays absent (mask, cast)."""
    locate, read = _locate(path, rule), _reader(rule, path, json_type)

    def replace(event: dict) -> None:
        holder, key = locate(event)
        if holder is None or holder.get(key) is None:
            return
        holder[key] = convert(read(event))
    return replace


def _cast(rule: str, path: str, source: str, target: str) -> Callable[[Any], Any]:
    def fail() -> RuleError:
        return RuleError(f"rule {rule}: cannot cast field {path} to {target}")

    def to_int64(value: int) -> int:
        if not INT64_MIN <= value <= INT64_MAX:
            raise fail()
        return value

    if (source, target) == ("string", "integer"):
        def cast(value: str) -> Any:
            if not _INTEGER_TEXT.fullmatch(value):
                raise fail()
            try:
                return to_int64(int(value))
            except ValueError:  # more digits than Python converts: far outside the range anyway
                raise fail() from None
    elif (source, target) == ("string", "number"):
        def cast(value: str) -> Any:
            if not _NUMBER_TEXT.fullmatch(value):
                raise fail()
            number = float(value)  # correctly rounded: the nearest double
            if not math.isfinite(number):
                raise fail()
            return number
    elif (source, target) == ("string", "boolean"):
        def cast(value: str) -> Any:
            if value not in ("true", "false"):
                raise fail()
            return value == "true"
    elif (source, target) == ("integer", "string"):
        def cast(value: int) -> Any:
            return str(value)
    elif (source, target) == ("integer", "number"):
        def cast(value: int) -> Any:
            return float(value)  # round half to even: the nearest double
    elif (source, target) == ("number", "integer"):
        def cast(value: Any) -> Any:
            if isinstance(value, float):
                if not value.is_integer() or not -(2.0**63) <= value < 2.0**63:
                    raise fail()
                return int(value)
            return to_int64(value)
    elif (source, target) == ("boolean", "string"):
        def cast(value: bool) -> Any:
            return "true" if value else "false"
    else:
        raise RulesError(f"rule {rule}: cannot cast {source} field {path} to {target}")
    return cast


def _transform(spec: Mapping[str, Any], shape: _Shape, hash_key: bytes | None) -> Transform:
    rule = spec["name"]
    if "rename" in spec:
        path, new_name = spec["rename"], spec["to"]
        locate = _locate(path, rule)
        properties, last = shape.parent(path, rule)
        properties[new_name] = properties.pop(last)

        def rename(event: dict) -> None:
            holder, key = locate(event)
            if holder is not None and key in holder:
                value = holder.pop(key)
                if value is not None:
                    holder[new_name] = value
        return rename

    if "drop" in spec:
        path = spec["drop"]
        locate = _locate(path, rule)
        properties, last = shape.parent(path, rule)
        properties.pop(last, None)

        def drop(event: dict) -> None:
            holder, key = locate(event)
            if holder is not None:
                holder.pop(key, None)
        return drop

    if "mask" in spec:
        path = spec["mask"]
        json_type, nullable = _node_type(shape.node(path, rule))
        if json_type != "string":
            raise RulesError(f"rule {rule}: mask applies to string fields, {path} is {json_type}")
        properties, last = shape.parent(path, rule)
        properties[last] = _typed("string", nullable, properties[last])
        if spec.get("with") == "hash":
            if hash_key is None:
                raise RulesError(f"rule {rule}: masks with a hash, and no hash key was given")
            key = hash_key

            def masked(value: str) -> str:
                return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
        elif spec.get("with") == "fixed":
            keep = int(spec.get("keepLast", 0))

            def masked(value: str) -> str:  # str indexes code points
                if len(value) <= keep:
                    return "*" * len(value)
                return "*" * (len(value) - keep) + (value[-keep:] if keep else "")
        else:
            raise RulesError(f"rule {rule}: mask with 'hash' or 'fixed', got {spec.get('with')!r}")

        return _replace_value(rule, path, "string", masked)

    if "cast" in spec:
        path, target = spec["cast"], spec["to"]
        source, nullable = _node_type(shape.node(path, rule))
        convert = _cast(rule, path, source, target)
        properties, last = shape.parent(path, rule)
        properties[last] = _typed(target, nullable, properties[last])
        return _replace_value(rule, path, source, convert)

    if "derive" in spec:
        new_name, expression = spec["derive"], spec["from"]
        properties = shape.root.setdefault("properties", {})
        if "condition" in expression:
            condition = _condition(expression["condition"], rule, shape)
            node: dict[str, Any] = {"type": "boolean"}

            def value(event: dict) -> Any:
                return condition(event)
        elif "concat" in expression:
            parts: list[Callable[[dict], str]] = []
            for part in expression["concat"]:
                if isinstance(part, str):
                    parts.append(lambda event, text=part: text)
                    continue
                path = part["field"]
                json_type = shape.type(path, rule)
                if json_type not in ("string", "integer", "boolean"):
                    raise RulesError(f"rule {rule}: concat takes string, integer or boolean fields, {path} is {json_type}")
                read = _reader(rule, path, json_type)
                if json_type == "boolean":
                    parts.append(lambda event, r=read: "true" if r(event) else "false")
                else:
                    parts.append(lambda event, r=read: str(r(event)))
            node = {"type": "string"}

            def value(event: dict) -> Any:
                return "".join(part(event) for part in parts)
        elif "field" in expression:
            path = expression["field"]
            source_node = shape.node(path, rule)
            read = _reader(rule, path, _node_type(source_node)[0])
            node = copy.deepcopy(source_node)

            def value(event: dict) -> Any:
                return copy.deepcopy(read(event))
        else:
            raise RulesError(f"rule {rule}: derive from condition, concat or field")
        properties[new_name] = node

        def derive(event: dict) -> None:
            event[new_name] = value(event)
        return derive

    raise RulesError(f"rule {rule}: not a transform ({sorted(spec)})")


# --- the rules, compiled ------------------------------------------------------------------------------------------

Rules = Callable[[Any], Result]


def compile_rules(rules: Mapping[str, Any], hash_key: bytes | str | None, schema: Mapping[str, Any]) -> Rules:
    """``event -> Result`` for a parsed event that satisfies ``schema`` (the source's JSON Schema). The event is not
    modified. ``hash_key``: the key of ``mask ... with: hash`` (a str is taken as UTF-8)."""
    key = hash_key.encode("utf-8") if isinstance(hash_key, str) else hash_key
    shape = _Shape(schema)
    filters: list[tuple[str, bool, Condition]] = []
    for spec in rules.get("filter") or []:
        keep = "keep" in spec
        filters.append((spec["name"], keep, _condition(spec["keep" if keep else "drop"], spec["name"], shape)))
    transforms = [_transform(spec, shape, key) for spec in rules.get("transform") or []]

    def apply(event: Any) -> Result:
        try:
            for name, keep, condition in filters:
                if condition(event) != keep:
                    return Result(filtered=name)
            row = copy.deepcopy(event)
            for transform in transforms:
                transform(row)
            return Result(row=row)
        except RuleError as err:
            return Result(error=str(err))

    apply.output_schema = shape.root  # type: ignore[attr-defined]
    return apply


def row_encoder(output_schema: Mapping[str, Any]) -> Callable[[dict], str]:
    """A kept row -> the JSON text ``from_json`` reads with the output schema's struct: date-time strings in the one
    form Spark parses (as the source's canonical JSON, schema.py), no NaN (JSON has none)."""
    from .schema import _normalizer

    normalize = _normalizer(output_schema)

    def encode(row: dict) -> str:
        return json.dumps(normalize(row) if normalize else row, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False)
    return encode


def uses_hash(rules: Mapping[str, Any]) -> list[str]:
    """Names of the rules that mask with the keyed hash (they need the hash key)."""
    return [spec["name"] for spec in rules.get("transform") or [] if "mask" in spec and spec.get("with") == "hash"]


# --- aggregation --------------------------------------------------------------------------------------------------

def group_column(field: str) -> str:
    """The aggregates table's column of a group-by field: ``device.os`` -> ``device_os``."""
    return field.replace(".", "_")


def _column(path: str):
    from pyspark.sql import functions as F

    return F.col(".".join(f"`{part}`" for part in path.split(".")))


def aggregate(rows, spec: Mapping[str, Any], event_time_field: str, *, streaming: bool | None = None):
    """Tumbling event-time windows over output rows (a DataFrame with the output schema's columns): one row per
    window and group, ``window_start``, ``window_end``, the group-by columns, the measures. On a streaming DataFrame
    a watermark of ``watermarkSeconds`` on the event time makes append mode emit each window once, when final.

    ``countDistinct`` is ``size(collect_set(x))``: exact, as the spec asks, and allowed in a streaming aggregation
    (Spark refuses ``count(DISTINCT x)`` there); ``collect_set`` skips nulls, so an all-absent window counts 0."""
    from pyspark.sql import functions as F

    window_seconds = int(spec["windowSeconds"])
    event_time = _column(event_time_field)
    if streaming if streaming is not None else rows.isStreaming:
        rows = rows.withWatermark(event_time_field, f"{int(spec.get('watermarkSeconds', 60))} seconds")
    groups = [_column(field).alias(group_column(field)) for field in spec.get("groupBy") or []]
    measures = []
    for name, measure in spec["measures"].items():
        (kind, field), = measure.items()
        if kind == "count":
            measures.append(F.count(F.lit(1)).alias(name))
        elif kind == "countDistinct":
            measures.append(F.size(F.collect_set(_column(field))).cast("long").alias(name))
        elif kind == "sum":
            measures.append(F.sum(_column(field)).alias(name))
        elif kind == "min":
            measures.append(F.min(_column(field)).alias(name))
        elif kind == "max":
            measures.append(F.max(_column(field)).alias(name))
        else:
            raise RulesError(f"aggregate measure {name}: unknown kind {kind!r}")
    window = F.window(event_time, f"{window_seconds} seconds").alias("window")
    grouped = rows.groupBy(window, *groups).agg(*measures)
    return grouped.select(
        F.col("window.start").alias("window_start"),
        F.col("window.end").alias("window_end"),
        *[group_column(field) for field in spec.get("groupBy") or []],
        *spec["measures"].keys(),
    )


def measure_names(spec: Mapping[str, Any] | None) -> Sequence[str]:
    return list((spec or {}).get("measures", {}).keys())
