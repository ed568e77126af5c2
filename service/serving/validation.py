"""Validation of a parsed request body against the model's schema, with the contract's error order and wording.

validate_instances returns every problem (pointer, code, detail) in the order docs/contract.md fixes; problem_body
lists the first contract.MAX_ERRORS of them. Errors name the place and the rule, never the submitted value.
"""

from operator import itemgetter

import numpy as np

from . import contract
from .contract import MAX_INTEGER, MAX_MAGNITUDE, echoed_name, error_detail, utf16_order
from .formats import is_date, is_datetime, parse_date, parse_datetime

# The feature types of schema.json (docs/contract.md, "Feature types").
NUMBER, INTEGER, CATEGORY, TEXT, BOOLEAN, DATE, DATETIME = (
    "number",
    "integer",
    "category",
    "text",
    "boolean",
    "date",
    "datetime",
)
FEATURE_TYPES = (NUMBER, INTEGER, CATEGORY, TEXT, BOOLEAN, DATE, DATETIME)
# How a value is checked: the feature's type, except that a category of whole numbers (an integer-coded category) is
# checked as numbers, not strings.
CODED = "coded"
_MISSING = object()  # marks an absent key while validating
_NUMBER_TYPES = frozenset([float, int])
_NONE_TYPE = type(None)
_FEATURE_CODES = (
    "required",
    "not_nullable",
    "not_a_number",
    "not_finite",
    "not_an_integer",
    "not_a_string",
    "not_a_boolean",
    "not_a_date",
    "not_a_datetime",
)


def escape_pointer(token):
    """One RFC 6901 reference token: '~' -> '~0', '/' -> '~1'."""
    return str(token).replace("~", "~0").replace("/", "~1")


def _error(pointer, code, detail):
    return {"pointer": pointer, "code": code, "detail": detail}


def is_coded(feature):
    """Whether a category feature's categories are whole numbers (JSON numbers), not strings."""
    listed = feature.get("categories") or []
    return bool(listed) and all(type(c) is int for c in listed)


class CompiledSchema(object):
    """schema.json turned into what the validation loop needs, built once at load time."""

    def __init__(self, schema):
        limits = schema["limits"]
        self.max_rows = int(limits["maxRows"])
        self.max_body_bytes = int(limits["maxBodyBytes"])
        self.names = [f["name"] for f in schema["features"]]
        self.name_set = frozenset(self.names)
        # More members than this and a row is refused whole, before any of them is looked at (docs/contract.md).
        self.max_row_members = len(self.names)
        # The sentences are fixed per feature: built here, not per error.
        self.details = {code: error_detail("feature." + code) for code in _FEATURE_CODES}
        self.document = {
            "not_an_object": error_detail("document.not_an_object"),
            "too_many_members": error_detail("document.too_many_members"),
            "unknown_field": error_detail("document.unknown_field"),
            "required": error_detail("instances.required"),
            "not_an_array": error_detail("instances.not_an_array"),
            "too_few_rows": error_detail("instances.too_few_rows"),
            "too_many_rows": error_detail("instances.too_many_rows", maxRows=self.max_rows),
            "row_not_an_object": error_detail("row.not_an_object"),
            "row_too_many_members": error_detail("row.too_many_members", features=len(self.names)),
            "row_unknown_field": error_detail("row.unknown_field"),
        }
        checks = []
        for f in schema["features"]:
            kind = f["type"]
            categories = None
            detail = None  # the feature's own sentence: unknown_category's list, too_long's limit
            limit = None
            if kind == CATEGORY:
                listed = list(f.get("categories") or [])
                if is_coded(f):
                    kind = CODED
                categories = frozenset(listed)
                # A long list would bloat every error entry; the schema endpoint has the full list.
                if len(listed) <= contract.MAX_LISTED_CATEGORIES:
                    detail = error_detail("feature.unknown_category", categories=", ".join(str(c) for c in listed))
                else:
                    detail = error_detail("feature.unknown_category.many", count=len(listed))
            elif kind == TEXT:
                limit = int(f["maxLength"])
                detail = error_detail("feature.too_long", maxLength=limit)
            # (name, check kind, nullable, categories, escaped pointer token, the feature's own detail, text limit)
            checks.append(
                (f["name"], kind, bool(f.get("nullable")), categories, escape_pointer(f["name"]), detail, limit)
            )
        self.checks = tuple(checks)


def compile_schema(schema):
    return schema if isinstance(schema, CompiledSchema) else CompiledSchema(schema)


def validate_instances(payload, schema):
    """Every problem of a parsed request body, in the contract's order (empty when valid).

    `schema` is the schema.json dict or a CompiledSchema (the app passes the one compiled at load time).
    """
    compiled = compile_schema(schema)
    words = compiled.document
    if not isinstance(payload, dict):
        return [_error("", "not_an_object", words["not_an_object"])]
    if len(payload) > 1:  # a request has one member; a bigger one is refused whole, whatever its size
        return [_error("", "too_many_members", words["too_many_members"])]
    errors = []
    rows = payload.get("instances", _MISSING)
    check_rows = False
    if rows is _MISSING:
        errors.append(_error("/instances", "required", words["required"]))
    elif not isinstance(rows, list):
        errors.append(_error("/instances", "not_an_array", words["not_an_array"]))
    elif not rows:
        errors.append(_error("/instances", "too_few_rows", words["too_few_rows"]))
    elif len(rows) > compiled.max_rows:
        errors.append(_error("/instances", "too_many_rows", words["too_many_rows"]))
    else:
        check_rows = True
    if rows is _MISSING and payload:  # its one member is not "instances"
        for key in payload:
            errors.append(_error("/" + escape_pointer(echoed_name(key)), "unknown_field", words["unknown_field"]))
    if check_rows and not _columns_look_valid(rows, compiled):
        _validate_rows(rows, compiled, errors)
    return errors


def _columns_look_valid(rows, compiled):
    """Fast path for the usual, valid request: whole-column checks done by builtins (C loops, no per-value Python).

    True means every value is valid. False only means "look closer": _validate_rows then finds and reports each
    problem exactly. So this may be pessimistic but never lenient.
    """
    name_set = compiled.name_set
    for row in rows:
        if type(row) is not dict or row.keys() != name_set:
            return False
    for name, kind, nullable, categories, _token, _detail, limit in compiled.checks:
        column = list(map(itemgetter(name), rows))
        types = set(map(type, column))
        if _NONE_TYPE in types:
            if not nullable:
                return False
            types.discard(_NONE_TYPE)
            column = [v for v in column if v is not None]
        if not types:
            continue
        if kind == CATEGORY:
            if types != {str} or not categories.issuperset(column):
                return False
        elif kind == CODED:
            # 1.0 equals (and hashes as) 1, as the gateway cannot tell them apart; True is a bool, not an int, here.
            if not types <= _NUMBER_TYPES or not categories.issuperset(column):
                return False
        elif kind == TEXT:
            if types != {str} or max(map(len, column)) > limit:
                return False
        elif kind == BOOLEAN:
            if types != {bool}:
                return False
        elif kind == DATE:
            if types != {str} or not all(map(is_date, column)):
                return False
        elif kind == DATETIME:
            if types != {str} or not all(map(is_datetime, column)):
                return False
        else:
            if not types <= _NUMBER_TYPES:
                return False
            if min(column) < -MAX_MAGNITUDE or max(column) > MAX_MAGNITUDE:
                return False
            total = sum(column)  # bounded values cannot overflow; NaN (never from JSON, but callers) poisons it
            if total != total:
                return False
            if kind == INTEGER:
                if min(column) < -MAX_INTEGER or max(column) > MAX_INTEGER:
                    return False
                if float in types and not all(v.is_integer() for v in column if type(v) is float):
                    return False
    return True


def _validate_rows(rows, compiled, errors):
    # The exact check, one value at a time (valid requests never get here: _columns_look_valid answers them): plain
    # tuples and exact type checks (bool is a subclass of int, so isinstance would let True through as a number).
    checks = compiled.checks
    name_set = compiled.name_set
    details = compiled.details
    row_not_an_object = compiled.document["row_not_an_object"]
    row_too_many_members = compiled.document["row_too_many_members"]
    row_unknown_field = compiled.document["row_unknown_field"]
    max_members = compiled.max_row_members
    append = errors.append
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            append(_error("/instances/%d" % i, "not_an_object", row_not_an_object))
            continue
        if len(row) > max_members:  # refused before any member is looked at: a row of 90,000 names costs nothing more
            append(_error("/instances/%d" % i, "too_many_members", row_too_many_members))
            continue
        for name, kind, nullable, categories, token, own_detail, limit in checks:
            value = row.get(name, _MISSING)
            t = type(value)
            # Absent and null mean the same for every kind of feature; then the kind decides.
            if value is None:
                if nullable:
                    continue
                code = "not_nullable"
            elif value is _MISSING:
                code = "required"
            elif kind == CATEGORY:
                if t is not str:
                    code = "not_a_string"
                elif value in categories:
                    continue
                else:
                    code = "unknown_category"
            elif kind == CODED:
                if not _is_number(value):
                    code = "not_a_number"
                elif value in categories:
                    continue
                else:
                    code = "unknown_category"
            elif kind == TEXT:
                if t is not str:
                    code = "not_a_string"
                elif len(value) <= limit:
                    continue
                else:
                    code = "too_long"
            elif kind == BOOLEAN:
                if t is bool or isinstance(value, np.bool_):
                    continue
                code = "not_a_boolean"
            elif kind == DATE:
                if t is str and parse_date(value) is not None:
                    continue
                code = "not_a_date"
            elif kind == DATETIME:
                if t is str and parse_datetime(value) is not None:
                    continue
                code = "not_a_datetime"
            elif t is float:
                if -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:  # False for NaN, +/-inf and huge values
                    if kind == NUMBER or (value.is_integer() and -MAX_INTEGER <= value <= MAX_INTEGER):
                        continue
                    code = "not_an_integer"
                else:
                    code = "not_finite"
            elif t is int:
                if -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
                    if kind == NUMBER or -MAX_INTEGER <= value <= MAX_INTEGER:
                        continue
                    code = "not_an_integer"
                else:
                    code = "not_finite"
            else:
                code = _slow_number_check(value, kind)
                if code is None:
                    continue
            append(
                _error(
                    "/instances/%d/%s" % (i, token),
                    code,
                    own_detail if code in ("unknown_category", "too_long") else details[code],
                )
            )
        if row.keys() != name_set:  # then the names the schema does not know, if any, sorted
            unknown = [key for key in row if key not in name_set]
            for key in sorted(unknown, key=utf16_order):
                pointer = "/instances/%d/%s" % (i, escape_pointer(echoed_name(key)))
                append(_error(pointer, "unknown_field", row_unknown_field))


def _is_number(value):
    """A JSON number (or a numpy one, for direct callers); booleans are not numbers."""
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, float, np.integer, np.floating))


def _slow_number_check(value, kind):
    """Numbers of other types (only reachable when validate_instances is called directly, e.g. numpy floats)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return "not_a_number"
    number = float(value)
    if not -MAX_MAGNITUDE <= number <= MAX_MAGNITUDE:
        return "not_finite"
    if kind == INTEGER and not (number.is_integer() and -MAX_INTEGER <= number <= MAX_INTEGER):
        return "not_an_integer"
    return None
