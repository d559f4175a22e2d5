"""Cell values in one canonical text form, so "13", 13 and 13.0 are the same value everywhere.

The workspace stores every cell as text (or NULL for empty). Comparing an edited CSV, an
extraction and a correction only works if each value has exactly one spelling; this module
gives it, and checks that a reviewer's value fits its Contract 1 column.
"""
from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from ..rows import COLUMNS, DESIGNS, JSON_COLUMNS, NUMERIC_COLUMNS
from .errors import BadEdit

# Columns a reviewer may not set with ``correct``: status follows from exclude/include/corrections.
DERIVED = ("status",)
EDITABLE = tuple(c for c in COLUMNS if c not in DERIVED)
IDENTITY = ("study_id", "group", "outcome", "unit")


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, str) and value.strip() == ""


def _number(text: str) -> str:
    """15 significant digits: a float's last-bit noise (0.30000000000000004 from an imprecise
    JSON reader) is not a reviewer's edit, and no printed figure has more digits than that."""
    x = float(text)
    if not math.isfinite(x):
        raise ValueError(text)
    x = float(f"{x:.15g}")
    return str(int(x)) if x.is_integer() and abs(x) < 2**53 else repr(x)


def canon(field: str, value: Any) -> str | None:
    """The one text spelling of ``value`` in column ``field`` (None for empty). Raises ValueError if it does not fit."""
    if is_empty(value):
        return None
    if isinstance(value, bool) or (field == "multicenter" and str(value).strip().lower() in ("true", "false")):
        return str(value).strip().lower()
    if field in NUMERIC_COLUMNS:
        return _number(str(value).strip())
    if field in JSON_COLUMNS:
        parsed = json.loads(value) if isinstance(value, str) else value
        if not isinstance(parsed, list):
            raise ValueError("not a JSON list")
        return json.dumps(parsed, ensure_ascii=False, sort_keys=True)
    if field == "design" and str(value).strip() not in DESIGNS:
        raise ValueError(f"not one of {', '.join(DESIGNS)}")
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def canon_row(record: dict[str, Any]) -> dict[str, str | None]:
    """An extracted row in canonical form; a cell that does not fit stays as its plain text."""
    out: dict[str, str | None] = {}
    for col in COLUMNS:
        value = record.get(col)
        try:
            out[col] = canon(col, value)
        except (ValueError, TypeError):
            out[col] = None if is_empty(value) else str(value)
    return out


def check_edit(field: str, value: Any, where: str = "") -> str | None:
    """A reviewer's value for ``field`` in canonical form, or :class:`BadEdit` naming what is wrong."""
    prefix = f"{where}: " if where else ""
    if field not in COLUMNS:
        raise BadEdit(f"{prefix}unknown field {field!r} (fields: {', '.join(EDITABLE)})")
    if field in DERIVED:
        raise BadEdit(f"{prefix}{field!r} cannot be set directly; use exclude / include")
    try:
        return canon(field, value)
    except (ValueError, TypeError) as exc:
        kind = "a number" if field in NUMERIC_COLUMNS else "a JSON list" if field in JSON_COLUMNS else "valid"
        detail = str(exc) if field == "design" else f"is not {kind}"
        raise BadEdit(f"{prefix}{field}={value!r}: {detail}") from None


def parse_assignments(items: list[str]) -> dict[str, str | None]:
    """``["events=12", "total=40"]`` → canonical values, refusing unknown fields and bad values."""
    out: dict[str, str | None] = {}
    for item in items:
        field, sep, value = item.partition("=")
        if not sep or not field.strip():
            raise BadEdit(f"{item!r}: expected field=value")
        out[field.strip()] = check_edit(field.strip(), value)
    return out
