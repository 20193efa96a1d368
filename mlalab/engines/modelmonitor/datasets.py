"""Reading what the Model Monitor analyzer reads into columns: a baseline dataset (CSV or JSON lines) and the
``endpointInput`` payloads of captured records.

The analyzer (``sagemaker-model-monitor-analyzer``) is Apache Spark with Deequ; its readers' conventions are
what a learner sees in ``statistics.json``:

* CSV without a header names its columns ``_c0``, ``_c1``, ... (Spark's CSV source; the feature names in
  shared/reference/model-monitor/data-quality/statistics.json and constraints.json are ``_c0`` ... ``_c5``).
  An empty field is null (Spark's CSV ``nullValue`` default ""), a short row has nulls at its end, a long
  row's surplus fields are dropped (PERMISSIVE mode). The column count is the first row's.
* JSON lines: one object a line; the inferred schema lists fields in alphabetical order (Spark's JSON schema
  inference sorts struct fields); a nested value is kept as its JSON text.
* Captured payloads (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture.html): a CSV
  payload is one or more headerless rows; the analyzer names their columns after the baseline's features
  in order (``names``), so a row longer than the baseline yields extra ``_c<i>`` columns
  (``extra_column_check``) and a shorter one leaves features absent (``missing_column_check``). A JSON
  payload is an object of named values, a list of rows, or ``{"instances": [...]}`` (rows of values or of
  ``{"features": [...]}``), the shapes SageMaker's JSON serving formats use
  (https://docs.aws.amazon.com/sagemaker/latest/dg/cdf-inference.html). BASE64 payloads are decoded first.

Values stay raw (strings from CSV, JSON scalars from JSON); ``statistics`` infers types the way Deequ does.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

Table = dict[str, list[Any]]
"""Column name -> raw values in row order; a missing value is None. Every column has the same length."""


def positional_name(index: int) -> str:
    """Spark's name for the ``index``-th column of a headerless CSV."""
    return f"_c{index}"


def _cell(value: str) -> str | None:
    return None if value == "" else value


def _csv_rows(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text)) if row]


def read_csv(text: str, header: bool) -> Table:
    """A CSV dataset as columns. With ``header`` the first row names them, else ``_c0``, ``_c1``, ..."""
    rows = _csv_rows(text)
    if not rows:
        return {}
    if header:
        names, rows = rows[0], rows[1:]
        names = [name if name != "" else positional_name(i) for i, name in enumerate(names)]
    else:
        names = [positional_name(i) for i in range(len(rows[0]))]
    width = len(names)
    table: Table = {name: [] for name in names}
    columns = [table[name] for name in names]
    for row in rows:
        for i in range(width):
            columns[i].append(_cell(row[i]) if i < len(row) else None)
    return table


def _jsonable(value: Any) -> Any:
    """A JSON value as a column cell: scalars as they are, nested values as their JSON text."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return value


def _from_records(records: Sequence[dict[str, Any]], order: Sequence[str] | None = None) -> Table:
    names: list[str] = list(order or [])
    seen = set(names)
    for record in records:
        for key in record:
            if key not in seen:
                seen.add(key)
                names.append(key)
    if order is None:
        names.sort()
    return {name: [_jsonable(record.get(name)) for record in records] for name in names}


def read_json_lines(text: str) -> Table:
    """A JSON lines dataset (one object a line) as columns, named and ordered as Spark infers them."""
    records = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        value = json.loads(line)
        if not isinstance(value, dict):
            raise ValueError(f"a JSON lines dataset holds one object a line, not {type(value).__name__}")
        records.append(value)
    return _from_records(records)


def _json_rows(value: Any) -> list[list[Any] | dict[str, Any]]:
    """The rows of one JSON payload: lists of values (positional) or objects (named)."""
    if isinstance(value, dict):
        for key in ("instances", "inputs"):
            if key in value and isinstance(value[key], list):
                return _json_rows(value[key])
        if "features" in value and isinstance(value["features"], list):
            return [value["features"]]
        return [value]
    if isinstance(value, list):
        if not value:
            return []
        if all(isinstance(item, (dict, list)) for item in value):
            rows: list[list[Any] | dict[str, Any]] = []
            for item in value:
                if isinstance(item, dict) and isinstance(item.get("features"), list):
                    rows.append(item["features"])
                else:
                    rows.append(item)
            return rows
        return [value]
    return [[value]]


def _decode(encoding: str, data: str) -> tuple[str, str]:
    """(format, text) of a captured payload; BASE64 is decoded and then read as JSON if it parses, else CSV."""
    kind = (encoding or "CSV").upper()
    if kind == "BASE64":
        try:
            text = base64.b64decode(data).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError) as err:
            raise ValueError(f"captured BASE64 payload is not UTF-8 text: {err}") from err
        try:
            json.loads(text)
        except ValueError:
            return "CSV", text
        return "JSON", text
    return kind, data


def read_payloads(payloads: Iterable[tuple[str, str]], names: Sequence[str] | None) -> Table:
    """Captured ``(encoding, data)`` payloads of ``endpointInput`` as one table, columns named by ``names``
    (the baseline statistics' feature names, in order) and positionally ``_c<i>`` beyond them."""
    positional: list[list[Any]] = []
    named: list[dict[str, Any]] = []
    for encoding, data in payloads:
        kind, text = _decode(encoding, data)
        if kind == "JSON":
            for row in _json_rows(json.loads(text)):
                (named if isinstance(row, dict) else positional).append(row)  # type: ignore[arg-type]
        else:
            positional.extend([_cell(v) for v in row] for row in _csv_rows(text))
    names = list(names or [])
    width = max((len(row) for row in positional), default=0)
    columns = [names[i] if i < len(names) else positional_name(i) for i in range(width)]
    table: Table = {}
    for i, column in enumerate(columns):
        cells = [_jsonable(row[i]) if i < len(row) else None for row in positional]
        table[column] = cells + [None] * len(named)
    if named:
        keyed = _from_records(named, order=[n for n in names if any(n in r for r in named)])
        for column, cells in keyed.items():
            existing = table.get(column)
            if existing is None:
                table[column] = [None] * len(positional) + cells
            else:
                existing[len(positional):] = cells
    return table


__all__ = ["Table", "positional_name", "read_csv", "read_json_lines", "read_payloads"]
