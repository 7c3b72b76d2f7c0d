"""The contract with the CDK construct (``contract.json``, read by both sides): the names of the job arguments the
construct sets, where the source's JSON Schema ships inside this package, the CloudWatch namespace, dimension and
metric names the job publishes, and the freshness canary's id prefix and receipts prefix (a copy of
platform/freshness/contract.json's)."""

from __future__ import annotations

import json
import pkgutil
from typing import Any

CONTRACT: dict[str, Any] = json.loads(pkgutil.get_data(__package__, "contract.json") or b"{}")
ARGUMENTS: dict[str, str] = CONTRACT["arguments"]
SCHEMA_DIR: str = CONTRACT["schemaDir"]
METRICS: dict[str, Any] = CONTRACT["metrics"]
CANARY: dict[str, str] = CONTRACT["canary"]


def packaged_schema(file_name: str, option: str = "--schema-resource") -> dict[str, Any]:
    """The source's JSON Schema (or, with ``option`` ``--processing-resource``, its processing document) as the
    construct shipped it in this package (``--extra-py-files``): read from the zip Glue put on the Python path, with
    no S3 request."""
    if "/" in file_name or file_name.startswith("."):
        raise SystemExit(f"{option} is a file name in {SCHEMA_DIR}/, got {file_name!r}")
    try:
        data = pkgutil.get_data(__package__, f"{SCHEMA_DIR}/{file_name}")
    except OSError as err:  # FileNotFoundError from a directory, OSError from a zip
        raise SystemExit(f"{option} {file_name!r}: not in the job's package ({SCHEMA_DIR}/): {err}") from err
    if data is None:
        raise SystemExit(f"{option} {file_name!r}: the job's package cannot be read as resources")
    try:
        return json.loads(data)
    except ValueError as err:
        raise SystemExit(f"{option} {file_name!r}: not valid JSON ({err})") from err
