"""The HTTP contract of the service as Elastic Beanstalk runs it (application.py's app: the `serving` package with your
hooks): predictions, validation errors, limits, headers, start-up checks, and property-based fuzzing with hostile
input. The contract itself is in docs/contract.md. Managed by generator-sci-eb: `sci-eb upgrade` keeps this suite
current with the package it tests.

Tests that take `feature_case` run once per kind of feature, for the trained model's schema and for conftest's
SYNTHETIC_SCHEMA (which has every kind), so every rule is exercised whatever the model's features are.
"""

import datetime
import gzip
import io
import json
import logging
import math
import os
import pickle
import re
import shutil
import subprocess
import sys
import zlib
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import serving
import serving.prediction
from serving import settings as service_settings
from serving import validation

PROBLEM = "urn:sci-eb:problem:"
SECRET = "zz-Secret-7f3a9"  # a value no model knows; it must never come back in a response or a log line
SECRET_NUMBER = 8675309.25  # the same, as a number
KEY_SECRET = "zz-Key-5b1c0"  # an unknown field name: it may come back in a pointer, and nowhere else
# The largest magnitude a feature value may have (float32's: tree ensembles compute in float32).
MAX_MAGNITUDE = float(np.finfo(np.float32).max)
# An integer feature's largest value: the last whole number a double (and a JavaScript number) holds exactly.
MAX_INTEGER = 2**53 - 1
SUFFIXES = {
    400: "malformed-json",
    404: "not-found",
    405: "method-not-allowed",
    413: "body-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    500: "internal-error",
}
CODES = {
    "required",
    "unknown_field",
    "not_a_number",
    "not_finite",
    "not_an_integer",
    "not_a_string",
    "unknown_category",
    "not_a_boolean",
    "too_long",
    "not_a_date",
    "not_a_datetime",
    "not_nullable",
    "not_an_object",
    "not_an_array",
    "too_few_rows",
    "too_many_members",
    "too_many_rows",
}


def escape_pointer(token):
    return token.replace("~", "~0").replace("/", "~1")


def problem_of(response, status, suffix):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["type"] == PROBLEM + suffix
    assert body["status"] == status
    assert body["title"]
    return body


def errors_of(response):
    body = problem_of(response, 422, "validation-error")
    return [(e["pointer"], e["code"]) for e in body["errors"]]


def pairs(errors):
    return [(e["pointer"], e["code"]) for e in errors]


def kind_of(feature):
    """A feature's type, except "coded" for a category of whole numbers (sent as JSON numbers, not strings)."""
    if feature["type"] == "category" and all(type(c) is int for c in feature["categories"]):
        return "coded"
    return feature["type"]


def is_classifier(schema):
    return schema["target"]["type"] == "category"


def outputs_of(schema):
    """What answers carry beyond predictions (docs/contract.md, "Answers"); a version 1 classifier, probabilities."""
    target = schema["target"]
    implied = {"category": ["probabilities"], "outlier": ["scores"]}.get(target["type"], [])
    return target.get("outputs", implied)


def check_labels(body, schema, rows, own=True):
    """The answer of a classifier, clustering model or outlier detector for `rows` rows, per docs/contract.md. `own`:
    the model's own answer, whose labels follow its scores; an app's after_predict may decide otherwise (a threshold),
    and may add members of its own."""
    target, outputs = schema["target"], outputs_of(schema)
    predictions = body["predictions"]
    assert len(predictions) == rows
    if target["type"] == "cluster":
        assert all(type(p) is int and p >= 0 for p in predictions)
        assert not set(body) & {"probabilities", "scores", "classes"}
        return
    if target["type"] == "outlier":
        assert all(p in (1, -1) and type(p) is int for p in predictions)
        assert len(body["scores"]) == rows
        if own:
            assert [s < 0 for s in body["scores"]] == [p == -1 for p in predictions]
        return
    classes = target["classes"]
    assert body["classes"] == classes
    # labels keep their JSON type: 1 is not "1", True is not 1
    assert all(any(type(p) is type(c) and p == c for c in classes) for p in predictions)
    if "probabilities" in outputs:
        assert len(body["probabilities"]) == rows
        for row, label in zip(body["probabilities"], predictions):
            assert len(row) == len(classes) and math.isclose(sum(row), 1.0, abs_tol=1e-6)
            assert all(0.0 <= p <= 1.0 for p in row)
            assert not own or row[classes.index(label)] == pytest.approx(max(row))
    else:
        assert "probabilities" not in body
    if "scores" in outputs:
        assert len(body["scores"]) == rows
        for row, label in zip(body["scores"], predictions):  # the label has the highest decision score
            assert len(row) == len(classes) and (not own or row[classes.index(label)] == max(row))


def default_dtypes(feature):
    """docs/contract.md: without a recorded dtype, what pandas makes of each type's values."""
    kind, nullable = kind_of(feature), feature["nullable"]
    return {
        "category": "object",
        "text": "object",
        "coded": "float64" if nullable else "int64",
        "boolean": "object" if nullable else "bool",
        "date": "datetime64[ns]",
        "datetime": "datetime64[ns]",
    }.get(kind, "float64")


def reference_frame(rows, schema):
    """The frame the pipeline was trained on, for `rows`, built here with pandas from each feature's dtype, not by
    the service's code: numbers float64, strings object, booleans bool, dates parsed by pandas."""
    frame = pd.DataFrame(rows, columns=[f["name"] for f in schema["features"]])
    for f in schema["features"]:
        name, dtype = f["name"], f.get("dtype") or default_dtypes(f)
        if f["type"] in ("date", "datetime"):
            # ISO 8601 per value: rows may mix a fraction, an offset and neither, which one inferred format cannot read.
            utc = pd.to_datetime(frame[name], utc=True, format="ISO8601")
            zone = dtype[dtype.index(",") + 1 : -1].strip() if "," in dtype else None
            frame[name] = (utc.dt.tz_convert(zone) if zone else utc.dt.tz_localize(None)).astype(dtype)
        elif dtype == "category":
            frame[name] = pd.Categorical(frame[name], categories=f["categories"])
        elif dtype == "bool":
            frame[name] = frame[name].astype(bool)
        else:
            frame[name] = frame[name].astype(dtype)
    return frame


# --- predictions ------------------------------------------------------------------------------------------------


def test_predict_one_row(post, make_row, schema):
    response = post({"instances": [make_row()]})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["model"] == {"name": schema["model"]["name"], "version": schema["model"]["version"]}
    assert response.headers["X-Model-Version"] == schema["model"]["version"]
    assert len(body["predictions"]) == 1
    if schema["target"]["type"] != "number":
        # The answer's shape; whether its label is the likeliest class is the model's (an after_predict threshold may
        # decide otherwise): test_predict_batch_matches_the_model checks that on the model's own answers.
        check_labels(body, schema, 1, own=False)
    else:
        assert "probabilities" not in body and "classes" not in body
        assert isinstance(body["predictions"][0], float) and math.isfinite(body["predictions"][0])


def test_predict_batch_matches_the_model(model_app, make_row, schema, bundle, hooks):
    # model_app, not the app: after_predict may change what the model said (a threshold), and this compares the
    # service's answers with the model's own.
    rows = [make_row(i) for i in range(min(5, schema["limits"]["maxRows"]))]
    response = model_app.test_client().post(
        "/v1/predict", data=json.dumps({"instances": rows}), content_type="application/json"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert len(body["predictions"]) == len(rows)
    # Same answers as calling the pipeline directly on a frame built independently of the service (through the app's
    # before_predict, as the service does).
    frame = reference_frame(rows, schema)
    if service_settings.RUNTIME == "onnx":
        frame = serving.prediction.build_columns(bundle, rows)  # what the onnx runtime's model and hooks take
    frame = hooks[0](frame)
    expected = bundle.model.predict(frame).tolist()
    if schema["target"]["type"] != "number":
        check_labels(body, schema, len(rows))
        labels = expected if schema.get("schemaVersion", 1) > 1 else [str(v) for v in expected]
        assert body["predictions"] == labels
        if "probabilities" in body:
            assert np.allclose(body["probabilities"], np.asarray(bundle.model.predict_proba(frame)), rtol=0, atol=1e-12)
    else:
        assert body["predictions"] == pytest.approx(expected)


# docs/contract.md, "Micro-batching": how the gateway cuts the answer of a batch of n one-row calls for each caller.
PER_ROW_MEMBERS = ("predictions", "probabilities", "scores")
WHOLE_MEMBERS = ("classes", "model")


def answer_of_caller(batch_answer, rows, index):
    """The answer the gateway gives the caller at `index` of a batch of `rows` rows, by the contract's rule."""
    return {
        key: [value[index]]
        if key in PER_ROW_MEMBERS or (key not in WHOLE_MEMBERS and isinstance(value, list) and len(value) == rows)
        else value
        for key, value in batch_answer.items()
    }


def same_answer(a, b):
    """Equal, numbers within what predicting rows together rather than alone changes (the last bits of a float32, as
    the onnx runtime computes)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same_answer(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_answer(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return type(a) in (int, float) and type(b) in (int, float) and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return type(a) is type(b) and a == b


def test_each_row_is_answered_alike_alone_and_among_others(post, make_row, schema):
    # The gateway sends concurrent one-row calls as one request and cuts each caller's answer from it by the rule
    # above, so every caller must get what the service answers its row alone. Your after_predict hook's members must
    # follow the rule: a per-row member an array with one item per row, a top-level member the same whatever the rows
    # (not, say, the largest prediction) and not an array (an array of n items is cut as per-row). Fix the hook.
    for n in (2, 3):
        if n > schema["limits"]["maxRows"]:
            continue
        rows = [make_row(i) for i in range(n)]
        batch = post({"instances": rows}).get_json()
        for i, row in enumerate(rows):
            alone = post({"instances": [row]}).get_json()
            cut = answer_of_caller(batch, n, i)
            differ = [key for key in set(cut) | set(alone) if not same_answer(cut.get(key), alone.get(key))]
            assert same_answer(cut, alone), (
                "row %d of %d: %s differ(s) between the row alone and its cut of the batch's answer (docs/contract.md, "
                '"Micro-batching"): alone %r, in the batch %r' % (i, n, sorted(differ), alone, cut)
            )


def test_predict_returns_plain_python_types(bundle, make_row, hooks):
    result = serving.prediction.predict_rows(bundle, [make_row(0), make_row(1)], hooks[0])[0]
    allowed = (str, float, int, bool, list, dict)

    def walk(value):
        assert type(value) in allowed, type(value)
        if isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(result)
    json.dumps(result, allow_nan=False)


def test_synthetic_service_builds_the_frame_the_pipeline_expects(make_service):
    # What build_frame() hands the pipeline, for every kind of feature: floats (NaN for null), strings, booleans,
    # whole numbers, datetime64 (NaT for null).
    service = make_service("synthetic")
    rows = [service.row(0), service.row(1)]
    for f in service.schema["features"]:
        if f["nullable"]:
            rows[1][f["name"]] = None
    response = service.post({"instances": rows})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["predictions"] == [0.0, 1.0]
    frame = service.stub.frames[-1]
    assert list(frame.columns) == [f["name"] for f in service.schema["features"]]
    expected = reference_frame(rows, service.schema)
    for f in service.schema["features"]:
        column = frame[f["name"]]
        kind = f["type"]
        if kind in ("category", "text") and not all(type(c) is int for c in f.get("categories", [""])):
            # strings (object dtype, or pandas' str dtype where pandas infers it), as train.py trained on
            assert not pd.api.types.is_numeric_dtype(column) and column[0] == rows[0][f["name"]]
        elif kind == "category":  # whole numbers: int64, float64 when nullable
            assert column.dtype == (np.float64 if f["nullable"] else np.int64) and column[0] == rows[0][f["name"]]
        elif kind == "boolean":
            assert column[0] is True or column[0] is np.True_
            assert column.dtype == (object if f["nullable"] else bool)
        elif kind in ("date", "datetime"):
            assert pd.api.types.is_datetime64_dtype(column) and column[0] == expected[f["name"]][0]
        else:
            assert column.dtype == np.float64 and column[0] == float(rows[0][f["name"]])
        assert bool(pd.isna(column[1])) == f["nullable"]


@pytest.mark.parametrize("service", ["model", "synthetic"], indirect=True)
def test_max_rows_is_accepted(service):
    rows = [service.row(i) for i in range(service.max_rows)]
    assert service.validate({"instances": rows}) == []  # maxRows rows are valid, whatever their size
    body = json.dumps({"instances": rows}).encode("utf-8")
    if len(body) <= service.max_body_bytes:
        response = service.post(body)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert len(response.get_json()["predictions"]) == len(rows)
        return
    # maxRows rows of this schema do not fit in maxBodyBytes: the size limit answers first, and the largest batch
    # that fits is predicted in full.
    problem_of(service.post(body), 413, "body-too-large")
    fitting = 0
    while len(json.dumps({"instances": rows[: fitting + 1]}).encode("utf-8")) <= service.max_body_bytes:
        fitting += 1
    assert 1 <= fitting < service.max_rows, "maxBodyBytes is too small for even one row"
    response = service.post({"instances": rows[:fitting]})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(response.get_json()["predictions"]) == fitting


# --- validation rules, per kind of feature (the model's and the synthetic schema's) ----------------------------


def assert_accepted(feature_case, value):
    """`value` for the feature_case's feature is valid: validate_instances agrees, and the service predicts the row."""
    assert feature_case.validate_value(value) == []
    response = feature_case.post_value(value)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(response.get_json()["predictions"]) == 1
    if feature_case.service.stub is not None:  # what the pipeline got for that value
        got = feature_case.service.stub.frames[-1][feature_case.name][0]
        kind = feature_case.feature["type"]
        if value is None:
            assert pd.isna(got)
        elif kind in ("date", "datetime"):
            assert got == pd.to_datetime(value, utc=True).tz_localize(None)
        elif isinstance(value, (str, bool)):
            assert got == value
        else:
            assert type(got) in (float, np.float64, np.int64) and got == float(value)


def assert_rejected(feature_case, value, code):
    """`value` for the feature_case's feature gives exactly one error, `code` at the field, by both routes."""
    expected = [(feature_case.pointer(), code)]
    assert pairs(feature_case.validate_value(value)) == expected
    response = feature_case.post_value(value)
    assert errors_of(response) == expected
    return response


@pytest.mark.feature_kinds("integer")
def test_integer_feature_accepts_whole_floats(feature_case):
    assert_accepted(feature_case, float(feature_case.row()[feature_case.name]))  # 3.0 counts as an integer
    assert_accepted(feature_case, -0.0)


@pytest.mark.feature_kinds(nullable=True)
def test_null_is_accepted_where_nullable(feature_case):
    assert_accepted(feature_case, None)


@pytest.mark.feature_kinds(nullable=False)
def test_null_for_non_nullable(feature_case):
    assert_rejected(feature_case, None, "not_nullable")


@pytest.mark.feature_kinds()
def test_missing_field(feature_case):
    row = feature_case.row()
    del row[feature_case.name]
    assert pairs(feature_case.service.validate({"instances": [row]})) == [(feature_case.pointer(), "required")]
    assert errors_of(feature_case.service.post({"instances": [row]})) == [(feature_case.pointer(), "required")]


@pytest.mark.feature_kinds("number", "integer")
def test_direct_calls_reject_nan_and_bools(feature_case):
    # validate_instances can be called with Python values JSON never produces (a NaN float, numpy numbers).
    for value, code in (
        (float("nan"), "not_finite"),
        (True, "not_a_number"),
        (np.float32(2.0), None),
        (np.int64(3), None),
        (np.float64("inf"), "not_finite"),
        (np.bool_(True), "not_a_number"),
        (np.float64(2.5), "not_an_integer" if feature_case.feature["type"] == "integer" else None),
    ):
        assert pairs(feature_case.validate_value(value)) == ([(feature_case.pointer(), code)] if code else []), value
    if feature_case.service.max_rows >= 3:  # and across rows, each error at its row
        rows = [feature_case.row(i) for i in range(3)]
        rows[1][feature_case.name] = float("nan")
        rows[2][feature_case.name] = True
        assert pairs(feature_case.service.validate({"instances": rows})) == [
            (feature_case.pointer(1), "not_finite"),
            (feature_case.pointer(2), "not_a_number"),
        ]


@pytest.mark.feature_kinds("number", "integer")
def test_string_for_number(feature_case):
    for value in ("12.5", "1", "NaN", ""):
        assert_rejected(feature_case, value, "not_a_number")


@pytest.mark.parametrize("value", [True, False])
@pytest.mark.feature_kinds("number", "integer")
def test_boolean_is_not_a_number(feature_case, value):
    assert_rejected(feature_case, value, "not_a_number")


@pytest.mark.feature_kinds("number", "integer")
def test_containers_are_not_numbers(feature_case):
    for value in ([1], {"value": 1}, []):
        assert_rejected(feature_case, value, "not_a_number")


@pytest.mark.parametrize("literal", ["1e999", "-1e999", "1e300", "-3.5e38", "1" + "0" * 60, "-1" + "0" * 400])
@pytest.mark.feature_kinds("number", "integer")
def test_non_finite_numbers(feature_case, literal):
    # Every JSON number is read as a double, as the gateway's JavaScript reads it: 1e999 and a 5,000-digit integer
    # are both infinite, hence not_finite at the field (not a 400 from Python's integer digit limit).
    row = feature_case.row()
    row[feature_case.name] = "__HERE__"
    raw = json.dumps({"instances": [row]}).replace('"__HERE__"', literal).encode("utf-8")
    assert errors_of(feature_case.service.post(raw)) == [(feature_case.pointer(), "not_finite")]


def test_integers_longer_than_pythons_digit_limit_are_infinite(make_service):
    service = make_service("synthetic", limits={"maxBodyBytes": 1 << 20})
    row = service.row()
    row["rooms"] = "__HERE__"
    raw = json.dumps({"instances": [row]}).replace('"__HERE__"', "1" + "0" * 5000).encode("utf-8")
    assert errors_of(service.post(raw)) == [("/instances/0/rooms", "not_finite")]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.feature_kinds("number", "integer")
def test_nan_and_infinity_literals_are_not_json(feature_case, literal, contract):
    row = feature_case.row()
    row[feature_case.name] = "__HERE__"
    raw = json.dumps({"instances": [row]}).replace('"__HERE__"', literal).encode("utf-8")
    body = problem_of(feature_case.service.post(raw), 400, "malformed-json")
    assert body["detail"] == contract["details"]["malformed-json"]


@pytest.mark.feature_kinds("number")
def test_large_finite_numbers_are_fine(feature_case):
    for value in (1e38, -1e38, 10**30, MAX_MAGNITUDE, -MAX_MAGNITUDE):
        assert_accepted(feature_case, value)


@pytest.mark.feature_kinds("integer")
def test_integers_are_those_a_double_holds_exactly(feature_case):
    # The OpenAPI document states these bounds (a schema-driven fuzzer sends 2**53 expecting a refusal); beyond them a
    # JSON integer is rounded by either server's parser, so it could not mean what the client wrote.
    for value in (MAX_INTEGER, -MAX_INTEGER, float(MAX_INTEGER), 2.0**52 + 1):
        assert_accepted(feature_case, value)
    for value in (MAX_INTEGER + 1, -(MAX_INTEGER + 1), 2.0**53, 1e20, -1e38, 10**30):
        assert_rejected(feature_case, value, "not_an_integer")
    assert_rejected(feature_case, 1e39, "not_finite")


@pytest.mark.feature_kinds("integer")
def test_non_integer_for_integer(feature_case):
    for value in (2.5, -0.5, 1e-300):
        assert_rejected(feature_case, value, "not_an_integer")


@pytest.mark.feature_kinds("category")
def test_unknown_category(feature_case):
    categories = feature_case.feature["categories"]
    for value in (SECRET, categories[0].upper() + " ", categories[0] + "\u0000"):
        if value in categories:
            continue
        response = assert_rejected(feature_case, value, "unknown_category")
        detail = response.get_json()["errors"][0]["detail"]
        if len(categories) <= 20:
            assert detail == "must be one of: " + ", ".join(categories)
        else:  # the schema endpoint has the full list
            assert detail == "must be one of the %d categories listed in the schema" % len(categories)
        assert SECRET not in response.get_data(as_text=True)


@pytest.mark.feature_kinds("category")
def test_category_values_are_compared_exactly(feature_case):
    for value in feature_case.feature["categories"]:
        assert_accepted(feature_case, value)


@pytest.mark.feature_kinds("category")
def test_non_string_for_category(feature_case):
    for value in (
        1,
        1.5,
        True,
        [feature_case.feature["categories"][0]],
        {"value": feature_case.feature["categories"][0]},
    ):
        assert_rejected(feature_case, value, "not_a_string")


@pytest.mark.feature_kinds("coded")
def test_a_category_of_whole_numbers_takes_json_numbers(feature_case):
    categories = feature_case.feature["categories"]
    for value in categories + [float(categories[-1])]:  # 5.0 is 5: JSON does not tell them apart
        assert_accepted(feature_case, value)
    for value in (max(categories) + 1, categories[0] + 0.5, 1e300):
        response = assert_rejected(feature_case, value, "unknown_category")
        detail = response.get_json()["errors"][0]["detail"]
        listed = ", ".join(str(c) for c in categories)
        assert detail == (
            "must be one of: " + listed
            if len(categories) <= 20
            else "must be one of the %d categories listed in the schema" % len(categories)
        )
    for value in (str(categories[0]), True, [categories[0]]):
        assert_rejected(feature_case, value, "not_a_number")


@pytest.mark.feature_kinds("text")
def test_text_is_any_string_up_to_max_length_characters(feature_case, contract):
    limit = feature_case.feature["maxLength"]
    for value in ("", " ", "a" * limit, "\U0001f600" * limit):  # characters are code points, not UTF-16 units
        assert_accepted(feature_case, value)
    for value in ("a" * (limit + 1), "\U0001f600" * (limit + 1)):
        response = assert_rejected(feature_case, value, "too_long")
        detail = response.get_json()["errors"][0]["detail"]
        assert detail == contract["errors"]["feature.too_long"].replace("{maxLength}", str(limit))
    for value in (1, True, ["a"]):
        assert_rejected(feature_case, value, "not_a_string")


@pytest.mark.feature_kinds("boolean")
def test_booleans_are_true_or_false(feature_case):
    for value in (True, False):
        assert_accepted(feature_case, value)
    for value in (1, 0, "true", "False", [True]):
        assert_rejected(feature_case, value, "not_a_boolean")


@pytest.mark.feature_kinds("date")
def test_dates_are_iso_8601_days_that_exist(feature_case):
    for value in ("2000-02-29", "1678-01-01", "2261-12-31"):
        assert_accepted(feature_case, value)
    for value in ("1900-02-29", "2026-02-30", "1677-12-31", "2262-01-01", "2026-01-01T00:00:00", "01/02/2026", 2026):
        assert_rejected(feature_case, value, "not_a_date")


@pytest.mark.feature_kinds("datetime")
def test_date_times_are_iso_8601_with_an_optional_offset(feature_case):
    for value in ("2026-03-04T05:06:07", "2026-03-04T05:06:07.123456789Z", "2026-03-04T05:06:07-05:30"):
        assert_accepted(feature_case, value)
    for value in ("2026-03-04", "2026-03-04 05:06:07", "2026-03-04T24:00:00", "2026-03-04T05:06:07+0200", 0):
        assert_rejected(feature_case, value, "not_a_datetime")


def test_unknown_field(post, make_row, pointer, schema):
    row = make_row()
    first = schema["features"][0]["name"]
    row["not/a~feature"] = row.pop(first)  # as many members as features: each is looked at
    response = post({"instances": [row]})
    assert errors_of(response) == [(pointer(0, first), "required"), (pointer(0, "not/a~feature"), "unknown_field")]
    error = response.get_json()["errors"][-1]
    assert error["pointer"] == "/instances/0/not~1a~0feature"  # RFC 6901 escaping
    assert error["detail"] == "is not a feature of this model"  # the name is in the pointer only


def test_a_row_with_more_members_than_features_is_refused_whole(post, make_row, schema, contract):
    # Refused by its count, before any name is looked at: one short error per row, no name echoed.
    row = make_row()
    row.update(("extra%d" % i, 0) for i in range(3))
    response = post({"instances": [make_row(), row, dict(make_row(), extra=1)]})
    body = problem_of(response, 422, "validation-error")
    assert errors_of(response) == [("/instances/1", "too_many_members"), ("/instances/2", "too_many_members")]
    assert body["errors"][0]["detail"] == contract["errors"]["row.too_many_members"].replace(
        "{features}", str(len(schema["features"]))
    )


def test_a_body_no_valid_request_could_be_is_refused_before_it_is_parsed(post, make_row, schema, contract):
    # The review's attack: one row of 90,000 made-up names (~800 KB, under maxBodyBytes). Its ':' outnumber what a
    # valid request of maxRows rows can hold, so it is refused on its text, before it is parsed: no dearer than a
    # valid batch (docs/contract.md, "Cheap refusals").
    row = make_row()
    row.update((np.base_repr(i, 36), 0) for i in range(90000))  # names of 1 to 4 characters
    body = json.dumps({"instances": [make_row(), row]}, separators=(",", ":"))
    assert len(body) < schema["limits"]["maxBodyBytes"]
    response = post(body.encode("utf-8"))
    most = most_colons(schema)
    if body.count(":") <= most:
        # A text feature: any of its maxLength characters may be ':', so a valid request can hold more ':' than
        # maxBodyBytes admits and the count decides nothing. The row is still refused as a whole by its member count.
        assert any(f["type"] == "text" for f in schema["features"])
        assert errors_of(response) == [("/instances/1", "too_many_members")]
        return
    answer = problem_of(response, 413, "body-too-large")
    assert answer["detail"] == contract["details"]["too-many-members"].replace(
        "{maxRows}", str(schema["limits"]["maxRows"])
    )
    assert len(response.get_data()) < 1000
    # The bound is exact: a body with as many ':' as a valid request can hold is parsed and validated; one more,
    # even inside a name, and it is refused unparsed. (A member added to the last of maxRows rows, its name made of
    # ':', brings the count to the bound or one past it.)
    full = json.dumps({"instances": [make_row(i) for i in range(schema["limits"]["maxRows"])]})
    spare = most - full.count(":")
    assert spare >= 0

    def with_member(colons):
        return (full[:-3] + ', "' + ":" * colons + '": 1}]}').encode("utf-8")

    if len(full) + spare + 16 <= schema["limits"]["maxBodyBytes"]:
        if spare == 0:
            assert post(full.encode("utf-8")).status_code == 200
        else:
            assert errors_of(post(with_member(spare - 1)))[-1][1] == "unknown_field"
        problem_of(post(with_member(spare)), 413, "body-too-large")


def test_echoed_names_are_cut(post, make_row, schema, contract):
    limit = contract["maxEchoedNameLength"]
    row = make_row()
    name = "x" * (limit + 1000)
    row[name] = row.pop(schema["features"][0]["name"])
    pointers = [e["pointer"] for e in post({"instances": [row]}).get_json()["errors"]]
    assert pointers[-1] == "/instances/0/" + "x" * limit + "\u2026"


# --- validation: one errors[] entry per problem, with a pointer and a code ---------------------------------------


def test_valid_payload_has_no_errors(schema, make_row):
    assert serving.validate_instances({"instances": [make_row(), make_row(1)]}, schema) == []


def test_empty_instances(post):
    assert errors_of(post({"instances": []})) == [("/instances", "too_few_rows")]


def test_too_many_rows(post, schema):
    # Empty objects keep the body small: the row count is checked before the rows.
    rows = [{}] * (schema["limits"]["maxRows"] + 1)
    assert errors_of(post({"instances": rows})) == [("/instances", "too_many_rows")]


@pytest.mark.parametrize("instances", [{}, "rows", 3, None])
def test_instances_not_a_list(post, instances):
    assert errors_of(post({"instances": instances})) == [("/instances", "not_an_array")]


def test_instances_missing(post):
    assert errors_of(post({})) == [("/instances", "required")]


def test_unknown_top_level_field(post, make_row):
    assert errors_of(post({"instance": [make_row()]})) == [("/instances", "required"), ("/instance", "unknown_field")]
    # A request has one member: more is refused whole, the rows unread.
    assert errors_of(post({"instances": [make_row()], "extra": 1})) == [("", "too_many_members")]


@pytest.mark.parametrize("body", [[], [{}], "instances", 42, None, True])
def test_top_level_not_an_object(post, body):
    assert errors_of(post(body)) == [("", "not_an_object")]


def test_row_not_an_object(post, make_row):
    assert errors_of(post({"instances": [make_row(), [1, 2]]})) == [("/instances/1", "not_an_object")]


@pytest.mark.parametrize("service", ["model", "synthetic"], indirect=True)
def test_one_error_per_problem_across_rows(service):
    features = service.schema["features"]
    first, second = features[0]["name"], features[-1]["name"]
    bad0, good, bad2 = service.row(), service.row(1), service.row(2)
    del bad0[first]
    pointer = "/instances/%d/%s"
    expected = [(pointer % (0, escape_pointer(first)), "required"), (pointer % (2, escape_pointer(first)), "required")]
    if second != first:  # a model of one feature has no second one to get wrong
        bad2[second] = [SECRET]
        expected.append((pointer % (2, escape_pointer(second)), value_error(features[-1], [SECRET])))
    bad2["extra"] = bad2.pop(first)
    expected.append(("/instances/2/extra", "unknown_field"))
    response = service.post({"instances": [bad0, good, bad2]})
    assert errors_of(response) == expected
    assert response.get_json()["detail"] == "%d problems; see errors" % len(expected)


@pytest.mark.parametrize("service", ["synthetic"], indirect=True)
def test_unknown_members_are_listed_sorted_after_the_known(service):
    # Sorted by UTF-16 code units, as JavaScript sorts: "Z" < "_" < "a" < "\uffff" < "\U0001f600" would not hold
    # by code points ("\U0001f600" > "\uffff" there); the gateway sorts this way too. Six names for six features.
    row = {"b": 1, "10": 1, "9": 1, "\U0001f600": 1, "\uffff": 1, "Z": 1}
    features = [("/instances/0/" + escape_pointer(f["name"]), "required") for f in service.schema["features"]]
    assert errors_of(service.post({"instances": [row]})) == features + [
        ("/instances/0/" + key, "unknown_field") for key in ["10", "9", "Z", "b", "\U0001f600", "\uffff"]
    ]


def test_document_problems_come_before_rows(post, make_row):
    assert errors_of(post({"extra": 1})) == [("/instances", "required"), ("/extra", "unknown_field")]
    assert errors_of(post({"extra": 1, "instances": 3})) == [("", "too_many_members")]


def _bad_rows(make_row, schema, count):
    """`count` rows, each with exactly one problem: its first feature missing."""
    first = schema["features"][0]["name"]
    rows = []
    for i in range(count):
        row = make_row(i)
        del row[first]
        rows.append(row)
    return rows


def test_errors_are_capped_with_a_count_of_the_rest(post, make_row, schema, contract):
    limit = contract["maxErrors"]
    count = min(250, schema["limits"]["maxRows"])
    if count <= limit:  # a model whose maxRows is within the cap: two problems per row instead
        pytest.fail("maxRows %d is too small for this test" % count)
    response = post({"instances": _bad_rows(make_row, schema, count)})
    body = problem_of(response, 422, "validation-error")
    assert len(body["errors"]) == limit and body["errorsOmitted"] == count - limit
    first = escape_pointer(schema["features"][0]["name"])
    assert body["errors"][0]["pointer"] == "/instances/0/" + first
    assert body["errors"][-1]["pointer"] == "/instances/%d/%s" % (limit - 1, first)
    assert body["detail"] == "%d problems; the first %d are listed in errors" % (count, limit)
    assert list(body) == ["type", "title", "status", "detail", "errors", "errorsOmitted", "requestId"]


def test_exactly_the_cap_is_not_truncated(post, make_row, schema, contract):
    body = problem_of(post({"instances": _bad_rows(make_row, schema, contract["maxErrors"])}), 422, "validation-error")
    assert len(body["errors"]) == contract["maxErrors"] and "errorsOmitted" not in body


def test_problem_bodies_are_utf8_with_lone_surrogates_escaped(post, make_row):
    # A field name is the one client-chosen text an answer carries (in its pointer). Non-ASCII stays UTF-8 and a
    # lone surrogate is written as an escape, byte for byte what the gateway's JSON.stringify writes.
    rows = []
    for i, name in enumerate(("caf\u00e9", "\ud800")):  # one per row: a model may have a single feature
        row = make_row(i)
        row[name] = row.pop(next(iter(row)))  # as many members as features
        rows.append(row)
    response = post(json.dumps({"instances": rows}).encode("utf-8"), headers={"X-Request-Id": "s-1"})
    raw = response.get_data()
    assert '"/instances/0/caf\u00e9"'.encode("utf-8") in raw
    assert b'"/instances/1/\\ud800"' in raw
    unknown = [e["pointer"] for e in json.loads(raw)["errors"] if e["code"] == "unknown_field"]
    assert unknown == ["/instances/0/caf\u00e9", "/instances/1/\ud800"]


@pytest.fixture
def app_log():
    """The service's log lines, as they are written during the test."""
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler = Keep()
    log = logging.getLogger("serving")
    log.addHandler(handler)
    yield records
    log.removeHandler(handler)


def test_errors_never_echo_values(post, make_row, schema, app_log):
    row = make_row()
    for f in schema["features"]:
        # a wrong value of the wrong kind for every feature
        row[f["name"]] = SECRET if kind_of(f) != "category" else SECRET + "-category"
    row["extra_" + SECRET] = row.pop(schema["features"][0]["name"])  # as many members as features
    response = post({"instances": [row, {"f": 987654.321}]})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    body = json.loads(text)
    for error in body["errors"]:
        assert SECRET not in error["detail"] and "987654" not in error["detail"]
    # The only place a client-chosen string may appear is the pointer naming an unknown field.
    pointers = [e["pointer"] for e in body["errors"]]
    assert "/instances/0/extra_" + SECRET in pointers
    without_pointers = json.dumps({k: v for k, v in body.items() if k != "errors"}) + json.dumps(
        [{k: v for k, v in e.items() if k != "pointer"} for e in body["errors"]]
    )
    assert SECRET not in without_pointers and "987654" not in without_pointers
    assert app_log and not any(SECRET in line or "987654" in line for line in app_log)


# --- transport: JSON, content type, size, methods ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"instances": [',
        b"",
        b"{'instances': []}",
        b'{"instances": "\xff\xfe"}',
        b"\xef\xbb\xbf\xef\xbb\xbf{}",
        b"\xfe\xff{}",
        b'{"instances": NaN}',
    ],
)
def test_malformed_json(post, raw, contract):
    body = problem_of(post(raw), 400, "malformed-json")
    assert body["detail"] == contract["details"]["malformed-json"]


def test_a_byte_order_mark_is_ignored(post, make_row):
    raw = b"\xef\xbb\xbf" + json.dumps({"instances": [make_row()]}).encode("utf-8")
    assert post(raw).status_code == 200


def nested(depth, inner=b"1"):
    """`depth` nested arrays around `inner`, as JSON text."""
    return b"[" * depth + inner + b"]" * depth


@pytest.mark.parametrize("where", ["document", "instances", "row", "value"])
@pytest.mark.parametrize("service", ["model", "synthetic"], indirect=True)
def test_deeply_nested_json_is_a_400_not_a_500(make_service, service, where, contract):
    # 100000 nested arrays, balanced (valid JSON): more than the contract's 32 levels (Python's parser would give up
    # with a RecursionError). The synthetic service gets a body limit the document fits in, so the parser is
    # reached whatever this model's maxBodyBytes; the model's own service may answer 413 first.
    if service.label == "synthetic":
        service = make_service("synthetic", limits={"maxBodyBytes": 1 << 20})
    deep = nested(100000)
    row = service.row()
    name = service.schema["features"][0]["name"]
    row[name] = "__HERE__"
    raw = {
        "document": deep,
        "instances": b'{"instances": ' + deep + b"}",
        "row": b'{"instances": [' + deep + b"]}",
        "value": json.dumps({"instances": [row]}).replace('"__HERE__"', deep.decode()).encode(),
    }[where]
    if len(raw) > service.max_body_bytes:
        problem_of(service.post(raw), 413, "body-too-large")
    else:
        body = problem_of(service.post(raw), 400, "malformed-json")
        assert body["detail"] == contract["details"]["too-deep"].replace("{maxNestingDepth}", "32")
        # Unbalanced (not JSON either): still too deep, the contract's measure counts brackets outside strings.
        problem_of(service.post(raw[:-5]), 400, "malformed-json")
        assert service.post(raw[:-5]).get_json()["detail"] == body["detail"]


@pytest.mark.parametrize("service", ["model", "synthetic"], indirect=True)
def test_nesting_up_to_32_levels_is_validated_deeper_is_refused(service, contract):
    # A value nested in k arrays sits at depth 3 + k (document, instances, row).
    row = service.row()
    name = service.schema["features"][0]["name"]
    row[name] = "__HERE__"
    code = value_error(service.schema["features"][0], [[1]])
    at_limit = json.dumps({"instances": [row]}).replace('"__HERE__"', nested(29).decode()).encode()
    assert errors_of(service.post(at_limit)) == [("/instances/0/" + escape_pointer(name), code)]
    past = json.dumps({"instances": [row]}).replace('"__HERE__"', nested(30).decode()).encode()
    assert problem_of(service.post(past), 400, "malformed-json")["detail"] == contract["details"]["too-deep"].replace(
        "{maxNestingDepth}", "32"
    )
    # Brackets inside strings do not count.
    in_string = json.dumps({"instances": [row]}).replace('"__HERE__"', json.dumps("[" * 100)).encode()
    valid = value_error(service.schema["features"][0], "[" * 100) is None  # a text may hold them
    assert service.post(in_string).status_code == (200 if valid else 422)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type(client, make_row, content_type):
    data = json.dumps({"instances": [make_row()]})
    response = client.post("/v1/predict", data=data, content_type=content_type)
    problem_of(response, 415, "unsupported-media-type")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf-8",
        "application/json;charset=UTF8",
        'application/json; charset="utf-8"',
        "Application/JSON",
        "application/json; foo=bar",
    ],
)
def test_json_in_utf8_is_fine(post, make_row, content_type):
    assert post({"instances": [make_row()]}, content_type=content_type).status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=latin1",
        "application/json; charset=utf-16",
        "application/json+x",
        "application/problem+json",
        "text/json",
    ],
)
def test_other_charsets_and_types_are_refused(post, make_row, content_type, contract):
    body = problem_of(post({"instances": [make_row()]}, content_type=content_type), 415, "unsupported-media-type")
    assert body["detail"] == contract["details"]["unsupported-media-type"]


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "GZip ", "identity"])
def test_compressed_bodies_are_accepted(post, make_row, encoding):
    raw = json.dumps({"instances": [make_row(), make_row(1)]}).encode("utf-8")
    name = encoding.strip().lower()
    data = gzip.compress(raw) if name == "gzip" else zlib.compress(raw) if name == "deflate" else raw
    response = post(data, headers={"Content-Encoding": encoding})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(response.get_json()["predictions"]) == 2


def test_gzip_members_are_read_in_turn(post, make_row):
    raw = json.dumps({"instances": [make_row()]}).encode("utf-8")
    data = gzip.compress(raw[:7]) + gzip.compress(raw[7:])
    assert post(data, headers={"Content-Encoding": "gzip"}).status_code == 200


@pytest.mark.parametrize("encoding", ["br", "x-gzip", "gzip, gzip", "compress", "zstd"])
def test_other_encodings_are_refused(post, make_row, encoding, contract):
    body = problem_of(post(b"{}", headers={"Content-Encoding": encoding}), 415, "unsupported-media-type")
    assert body["detail"] == contract["details"]["unsupported-encoding"]


@pytest.mark.parametrize(
    "data", [b"", b"not gzip", gzip.compress(b'{"instances": []}')[:-4], gzip.compress(b"{}") + b"trailing"]
)
def test_bodies_that_do_not_decompress_are_a_400(post, data, contract):
    body = problem_of(post(data, headers={"Content-Encoding": "gzip"}), 400, "malformed-json")
    assert body["detail"] == contract["details"]["bad-compression"]


@pytest.mark.parametrize("service", ["model", "synthetic"], indirect=True)
def test_the_size_limit_applies_to_the_decompressed_body(service):
    limit = service.max_body_bytes
    raw = json.dumps({"instances": [service.row()]}).encode("utf-8")
    at_limit = raw + b" " * (limit - len(raw))
    assert service.post(gzip.compress(at_limit), headers={"Content-Encoding": "gzip"}).status_code == 200
    bomb = gzip.compress(at_limit + b" ")  # a few hundred bytes that inflate past the limit
    problem_of(service.post(bomb, headers={"Content-Encoding": "gzip"}), 413, "body-too-large")


def test_oversized_body(post, schema):
    limit = schema["limits"]["maxBodyBytes"]
    raw = b'{"instances": [' + b" " * limit + b"]}"
    body = problem_of(post(raw), 413, "body-too-large")
    assert str(limit) in body["detail"]


def test_body_exactly_at_the_limit_is_accepted(post, make_row, schema):
    limit = schema["limits"]["maxBodyBytes"]
    raw = json.dumps({"instances": [make_row()]}).encode("utf-8")
    assert post(raw + b" " * (limit - len(raw))).status_code == 200


def post_chunked(client, raw):
    """A body without Content-Length, as a chunked request reaches the app from gunicorn."""
    # Werkzeug ignores Content-Length when Transfer-Encoding is chunked; gunicorn marks the stream terminated.
    return client.post(
        "/v1/predict",
        input_stream=io.BytesIO(raw),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def post_cut_short(client, raw, missing):
    """A body that ends `missing` bytes before its Content-Length says: the client went away mid-body."""
    return client.post(
        "/v1/predict",
        input_stream=io.BytesIO(raw),
        content_type="application/json",
        environ_overrides={"CONTENT_LENGTH": str(len(raw) + missing)},
    )


def test_oversized_chunked_body(client, schema):
    limit = schema["limits"]["maxBodyBytes"]
    problem_of(post_chunked(client, b'{"instances": [' + b" " * limit + b"]}"), 413, "body-too-large")


def test_chunked_body_at_the_limit_is_accepted(client, make_row, schema):
    limit = schema["limits"]["maxBodyBytes"]
    raw = json.dumps({"instances": [make_row()]}).encode("utf-8")
    assert post_chunked(client, raw + b" " * (limit - len(raw))).status_code == 200


def test_body_shorter_than_its_content_length(client, make_row, contract):
    raw = json.dumps({"instances": [make_row()]}).encode("utf-8")
    body = problem_of(post_cut_short(client, raw, 10), 400, "malformed-json")
    assert body["detail"] == contract["details"]["incomplete-body"]


def test_not_found(client, schema):
    response = client.get("/no/such/" + SECRET)
    assert problem_of(response, 404, "not-found")["requestId"] == response.headers["X-Request-Id"]
    assert SECRET not in response.get_data(as_text=True)
    assert response.headers["X-Model-Version"] == schema["model"]["version"]


@pytest.mark.parametrize(
    "method, path, allow",
    [
        ("GET", "/v1/predict", "POST"),
        ("PUT", "/v1/predict", "POST"),
        ("OPTIONS", "/v1/predict", "POST"),
        ("POST", "/v1/schema", "GET, HEAD"),
        ("DELETE", "/v1/schema", "GET, HEAD"),
        ("POST", service_settings.HEALTH_CHECK_PATH, "GET, HEAD"),
    ],
)
def test_method_not_allowed(client, method, path, allow, contract):
    response = client.open(path, method=method)
    body = problem_of(response, 405, "method-not-allowed")
    assert response.headers["Allow"] == allow
    assert body["detail"] == contract["details"]["method-not-allowed"]


@pytest.mark.parametrize(
    "path",
    ["/v1/predict/", "/V1/Predict", "/v1/PREDICT", "//v1/predict", "/v1/%70redict", "/v1//predict", "/v1/predict%2F"],
)
def test_paths_match_exactly_as_sent(post, make_row, client, path, contract):
    # The request target as gunicorn hands it over: RAW_URI as sent, PATH_INFO percent-decoded.
    environ = {"PATH_INFO": unquote(path), "RAW_URI": path, "REQUEST_URI": path}
    response = client.post(
        "/", data=json.dumps({"instances": [make_row()]}), content_type="application/json", environ_overrides=environ
    )
    body = problem_of(response, 404, "not-found")
    assert body["detail"] == contract["details"]["not-found"]


def test_a_query_string_is_ignored(client, make_row):
    response = client.post(
        "/v1/predict?debug=1", data=json.dumps({"instances": [make_row()]}), content_type="application/json"
    )
    assert response.status_code == 200


def test_internal_error_carries_no_details(post, make_row, monkeypatch, contract):
    def boom(bundle, frame):
        raise ValueError("kaboom " + SECRET)

    monkeypatch.setattr(serving.prediction, "predict_frame", boom)
    response = post({"instances": [make_row()]}, headers={"X-Request-Id": "boom-1"})
    body = problem_of(response, 500, "internal-error")
    assert body == {
        "type": PROBLEM + "internal-error",
        "title": contract["problems"]["internal-error"]["title"],
        "status": 500,
        "detail": contract["details"]["internal-error"],
        "requestId": "boom-1",
    }
    assert "kaboom" not in response.get_data(as_text=True)


# --- other endpoints and headers --------------------------------------------------------------------------------


def test_health(client, schema):
    response = client.get(service_settings.HEALTH_CHECK_PATH)
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "model": {"name": schema["model"]["name"], "version": schema["model"]["version"]},
    }


def test_schema_endpoint_serves_what_callers_need_and_not_how_the_model_was_made(client, schema):
    response = client.get("/v1/schema")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    model = {k: schema["model"][k] for k in ("name", "version", "task") if k in schema["model"]}
    expected = {"schemaVersion": schema["schemaVersion"], "model": model}
    expected.update((k, schema[k]) for k in ("features", "target", "limits"))
    assert response.get_json() == expected
    text = response.get_data(as_text=True)
    for private in ("sklearnVersion", "trustedTypes", "metrics", "trainedAt", "sha256", "estimator", "artifact"):
        assert private not in text


def test_root_answers(client, schema):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    model = {"name": schema["model"]["name"], "version": schema["model"]["version"]}
    if service_settings.HEALTH_CHECK_PATH == "/":
        # The health check was put on GET / (e.g. the load balancer's default): it answers there, no index.
        assert response.get_json() == {"status": "ok", "model": model}
    else:
        endpoints = {
            "predict": "POST /v1/predict",
            "schema": "GET /v1/schema",
            "health": "GET " + service_settings.HEALTH_CHECK_PATH,
        }
        assert response.get_json() == {"model": model, "endpoints": endpoints}


def test_request_id_is_echoed_when_sane(post, make_row):
    response = post({"instances": [make_row()]}, headers={"X-Request-Id": "abc-123_x.y:z@w"})
    assert response.headers["X-Request-Id"] == "abc-123_x.y:z@w"
    problem = post({"instances": []}, headers={"X-Request-Id": "abc-123_x.y:z@w"})
    assert problem.get_json()["requestId"] == "abc-123_x.y:z@w"


@pytest.mark.parametrize("supplied", [None, "has space", "x" * 129, "semi;colon", ""])
def test_request_id_is_generated_otherwise(client, supplied):
    headers = {"X-Request-Id": supplied} if supplied is not None else {}
    response = client.get("/v1/schema", headers=headers)
    generated = response.headers["X-Request-Id"]
    assert generated != supplied and len(generated) == 32 and int(generated, 16) >= 0


def test_every_response_has_the_model_version(client, post, schema):
    version = schema["model"]["version"]
    for response in (client.get("/v1/schema"), post({"instances": []}), post(b"{"), client.delete("/v1/schema")):
        assert response.headers["X-Model-Version"] == version


# --- start-up checks --------------------------------------------------------------------------------------------


@pytest.fixture
def model_copy(model_dir, tmp_path):
    """A private copy of the model folder, safe to damage."""
    target = tmp_path / "model"
    shutil.copytree(model_dir, str(target))
    return target


def test_load_model_accepts_the_trained_model(model_copy, schema):
    bundle = serving.load_model(str(model_copy))
    assert bundle.version == schema["model"]["version"]


def test_tampered_artifact_is_refused(model_copy, schema):
    model_dir = model_copy
    artifact = model_dir / schema["model"]["artifact"]
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    with pytest.raises(serving.ModelError, match="sha256"):
        serving.load_model(str(model_dir))


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(serving.ModelError, match="run `make train`"):
        serving.load_model(str(tmp_path))


def test_service_refuses_to_start_with_a_tampered_artifact(model_copy, project_root, schema):
    with open(str(model_copy / schema["model"]["artifact"]), "ab") as fh:
        fh.write(b"\0")
    env = dict(os.environ, MODEL_DIR=str(model_copy))
    starting = "from serving import create_app; create_app()"  # what gunicorn's import of application.py runs
    result = subprocess.run(
        [sys.executable, "-c", starting],
        cwd=project_root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
    )
    assert result.returncode != 0
    assert "ModelError" in result.stderr and "sha256" in result.stderr


class _Planted(object):
    """A pickle that makes a folder as it loads: proof that code from model/ ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.mark.parametrize("declared", [None, "joblib", "skops"])
def test_a_planted_pickle_never_runs(model_copy, schema, tmp_path, declared):
    # The review's attack: model/ replaced by a pickle and a schema.json that agrees with it (sha256, version), with
    # no format (once read as joblib), as joblib (nobody vouched for it in trust.json) or as skops (not its bytes).
    import hashlib

    marker = tmp_path / "code-ran"
    blob = pickle.dumps(_Planted(str(marker)), protocol=4)
    digest = hashlib.sha256(blob).hexdigest()
    (model_copy / "model.joblib").write_bytes(blob)
    model = dict(schema["model"], artifact="model.joblib", sha256=digest, version=digest[:12])
    model.pop("format", None)
    if declared:
        model["format"] = declared
    (model_copy / "schema.json").write_text(json.dumps(dict(schema, model=model)), encoding="utf-8")
    if service_settings.RUNTIME == "sklearn":
        with pytest.raises(serving.ModelError, match="format is missing|does not vouch|declared as skops"):
            serving.load_model(str(model_copy))
    else:  # the onnx runtime checks the artifact's sha256 and never loads it
        serving.load_model(str(model_copy))
    assert not marker.exists()


def test_a_model_written_for_the_other_runtime_is_refused_with_what_to_run(model_copy, schema):
    other = "sklearn" if service_settings.RUNTIME == "onnx" else "onnx"
    (model_copy / "schema.json").write_text(
        json.dumps(dict(schema, model=dict(schema["model"], runtime=other))), encoding="utf-8"
    )
    with pytest.raises(serving.ModelError, match="written for the %s runtime.*make train" % other):
        serving.load_model(str(model_copy))


def _runtime_of_model():
    model_dir = os.environ.get("MODEL_DIR") or service_settings.default_model_dir()
    with open(os.path.join(model_dir, "schema.json"), encoding="utf-8") as fh:
        return json.load(fh)["model"].get("runtime") or "sklearn"


if _runtime_of_model() == "onnx":

    def test_onnx_runtime_refuses_a_changed_model_onnx(model_copy, schema):
        compiled = model_copy / schema["model"]["onnx"]["artifact"]
        compiled.write_bytes(compiled.read_bytes() + b"\0")
        with pytest.raises(serving.ModelError, match="sha256"):
            serving.load_model(str(model_copy))

    def test_onnx_runtime_serves_without_scikit_learn_scipy_pandas_or_skops(project_root, schema):
        # What gunicorn's worker runs: import application.py, then answer a request. The venv has the training tools
        # (requirements-dev.txt); on EB they are not even installed, so importing one would fail there.
        script = (
            "import json, sys; import application; from serving.prediction import example_row; "
            "schema = json.load(open(sys.argv[1])); "
            "answer = application.application.test_client().post('/v1/predict', json={'instances': "
            "[example_row(schema)]}); assert answer.status_code == 200, answer.get_data(as_text=True); "
            "print(' '.join(sorted(set(m.split('.')[0] for m in sys.modules) & "
            "{'sklearn', 'scipy', 'pandas', 'skops', 'skl2onnx', 'onnx', 'joblib'})))"
        )
        model_dir = os.environ.get("MODEL_DIR") or service_settings.default_model_dir()
        result = subprocess.run(
            [sys.executable, "-c", script, os.path.join(model_dir, "schema.json")],
            cwd=project_root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == ""


# --- property-based: hostile input never makes the service fail -------------------------------------------------
#
# Every answer to POST /v1/predict is checked against an executable reading of the contract (expected_answer):
# 415 for another media type, 413 over maxBodyBytes, 400 when the body is not UTF-8 JSON, 422 with exactly the
# expected errors[], otherwise a 200 with one prediction per row. Never a 500, never a submitted value echoed.

FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
_MISSING = object()


ORACLE_CONTRACT = json.load(
    open(
        os.path.join(
            os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "serving", "contract.json"
        ),
        encoding="utf-8",
    )
)
MAX_ERRORS = ORACLE_CONTRACT["maxErrors"]
MAX_DEPTH = ORACLE_CONTRACT["maxNestingDepth"]


def _not_json(literal):
    raise ValueError("%s is not JSON" % literal)


def bracket_depth(text):
    """The contract's nesting measure, read independently of the service: [ and { outside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def read_json(raw):
    """(payload, None) or (None, detail key of the 400) for a body, as the contract reads it."""
    if raw[:3] == b"\xef\xbb\xbf":
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "malformed-json"
    if bracket_depth(text) > MAX_DEPTH:
        return None, "too-deep"
    try:
        # Numbers are doubles (as in JavaScript): ints too, so 1e400 and huge integers are infinite, not errors.
        return json.loads(text, parse_constant=_not_json, parse_int=float), None
    except ValueError:
        return None, "malformed-json"


_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME = re.compile(r"T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?(Z|[+-]([0-9]{2}):([0-9]{2}))?")


def _day_exists(text):
    """docs/contract.md's date: YYYY-MM-DD, a day of the calendar (Python's datetime.date decides), minYear-maxYear."""
    match = _DATE.fullmatch(text)
    if not match:
        return False
    year, month, day = (int(g) for g in match.groups())
    if not ORACLE_CONTRACT["minYear"] <= year <= ORACLE_CONTRACT["maxYear"]:
        return False
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def _date_time_exists(text):
    """docs/contract.md's date-time: a date, then THH:MM:SS, a fraction of 1-9 digits and an offset, both optional."""
    match = _TIME.fullmatch(text[10:])
    if not _day_exists(text[:10]) or not match:
        return False
    hour, minute, second = (int(g) for g in match.groups()[:3])
    offset_ok = match.group(6) is None or (int(match.group(6)) <= 23 and int(match.group(7)) <= 59)
    return hour <= 23 and minute <= 59 and second <= 59 and offset_ok


def value_error(feature, value):
    """The contract's error code for `value` in `feature`, or None when it is valid."""
    if value is _MISSING:
        return "required"
    if value is None:
        return None if feature["nullable"] else "not_nullable"
    kind = kind_of(feature)
    number = type(value) in (int, float) or isinstance(value, (np.integer, np.floating))
    if kind == "category":
        if type(value) is not str:
            return "not_a_string"
        return None if value in feature["categories"] else "unknown_category"
    if kind == "coded":  # a category of whole numbers: 2.0 is 2, True is not 1
        if not number:
            return "not_a_number"
        return None if any(value == c for c in feature["categories"]) else "unknown_category"
    if kind == "text":
        if type(value) is not str:
            return "not_a_string"
        return None if len(value) <= feature["maxLength"] else "too_long"
    if kind == "boolean":
        return None if type(value) in (bool, np.bool_) else "not_a_boolean"
    if kind == "date":
        return None if type(value) is str and _day_exists(value) else "not_a_date"
    if kind == "datetime":
        return None if type(value) is str and _date_time_exists(value) else "not_a_datetime"
    if type(value) not in (int, float):  # bool is not a number
        return "not_a_number"
    if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
        return "not_finite"
    if feature["type"] == "integer" and not (float(value).is_integer() and -MAX_INTEGER <= value <= MAX_INTEGER):
        return "not_an_integer"
    return None


def js_sorted(keys):
    """Sorted as JavaScript's default sort sorts strings: by UTF-16 code units (big-endian bytes compare alike)."""
    return sorted(keys, key=lambda k: k.encode("utf-16-be", "surrogatepass"))


with open(os.path.join(os.path.dirname(serving.__file__), "contract.json"), encoding="utf-8") as _fh:
    ECHOED_NAME_LENGTH = json.load(_fh)["maxEchoedNameLength"]


def echoed(name):
    """A client's member name as a pointer carries it: its first maxEchoedNameLength code points, then an ellipsis."""
    return name if len(name) <= ECHOED_NAME_LENGTH else name[:ECHOED_NAME_LENGTH] + "\u2026"


def expected_errors(payload, schema):
    """[(pointer, code)] for a parsed body, in the contract's order: the document, /instances, the document's
    unknown members (sorted), then row by row: its features in schema order, then its unknown members (sorted)."""
    if not isinstance(payload, dict):
        return [("", "not_an_object")]
    if len(payload) > 1:
        return [("", "too_many_members")]
    extra = [("/" + escape_pointer(echoed(key)), "unknown_field") for key in payload if key != "instances"]
    if "instances" not in payload:
        return [("/instances", "required")] + extra
    rows = payload["instances"]
    if not isinstance(rows, list):
        return [("/instances", "not_an_array")] + extra
    if not rows:
        return [("/instances", "too_few_rows")] + extra
    if len(rows) > schema["limits"]["maxRows"]:
        return [("/instances", "too_many_rows")] + extra
    return extra + expected_row_errors(rows, schema)


def expected_row_errors(rows, schema):
    errors = []
    names = set(f["name"] for f in schema["features"])
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.append(("/instances/%d" % i, "not_an_object"))
            continue
        if len(row) > len(schema["features"]):
            errors.append(("/instances/%d" % i, "too_many_members"))
            continue
        for f in schema["features"]:
            code = value_error(f, row.get(f["name"], _MISSING))
            if code:
                errors.append(("/instances/%d/%s" % (i, escape_pointer(f["name"])), code))
        errors.extend(
            ("/instances/%d/%s" % (i, escape_pointer(echoed(key))), "unknown_field")
            for key in js_sorted(k for k in row if k not in names)
        )
    return errors


def is_json_media_type(content_type):
    if content_type is None:
        return False
    media_type = content_type.split(";")[0].strip(" \t").lower()
    charset = re.search(r";[ \t]*charset[ \t]*=[ \t]*\"?([^\"; \t]+)", content_type, re.I)
    return media_type == "application/json" and (charset is None or charset.group(1).lower() in ("utf-8", "utf8"))


def most_colons(schema):
    """The most ':' a valid request's text can hold (docs/contract.md, "Cheap refusals"), read independently of the
    service: one for "instances"; per row and feature, one for the member, its name's, and its longest value's."""

    def in_value(feature):
        if feature["type"] == "text":
            return feature["maxLength"]
        if feature["type"] == "datetime":
            return len("00:00:00+00:00".split(":")) - 1
        strings = [c for c in feature.get("categories") or [] if isinstance(c, str)]
        return max([c.count(":") for c in strings] or [0])

    per_row = sum(1 + f["name"].count(":") + in_value(f) for f in schema["features"])
    return 1 + schema["limits"]["maxRows"] * per_row


def expected_answer(service, raw, content_type):
    """(status, errors, 400 detail key): what the contract says POST /v1/predict answers to this body."""
    if not is_json_media_type(content_type):
        return 415, None, None
    if len(raw) > service.max_body_bytes:
        return 413, None, None
    try:
        colons = raw.decode("utf-8").count(":")
    except UnicodeDecodeError:
        colons = 0  # not UTF-8: read_json's 400
    if colons > most_colons(service.schema):
        return 413, None, None
    payload, bad = read_json(raw)
    if bad:
        return 400, None, bad
    errors = expected_errors(payload, service.schema)
    return (422, errors, None) if errors else (200, len(payload["instances"]), None)


def _reject_constant(literal):
    raise AssertionError("the response carries a %s literal: not JSON" % literal)


def check_answer(service, response, raw, content_type="application/json", app_log=()):
    """Assert the answer to `raw` is the contract's, well-formed, and echoes nothing submitted."""
    status, expected, bad = expected_answer(service, raw, content_type)
    text = response.get_data(as_text=True)
    assert response.status_code == status, (status, text[:2000])
    assert response.headers["X-Model-Version"] == service.schema["model"]["version"]
    assert re.match(r"^[0-9a-f]{32}$", response.headers["X-Request-Id"])
    body = json.loads(text, parse_constant=_reject_constant)
    model = {"name": service.schema["model"]["name"], "version": service.schema["model"]["version"]}
    if status == 200:
        assert response.mimetype == "application/json"
        predictions = body["predictions"]
        assert len(predictions) == expected and body["model"] == model
        if service.schema["target"]["type"] != "number":
            check_labels(body, service.schema, expected, own=False)  # the app's answer, through your hooks
        elif service.stub is not None:
            assert predictions == [float(i) for i in range(expected)]
        else:
            assert all(type(p) is float and math.isfinite(p) for p in predictions)
    else:
        assert response.mimetype == "application/problem+json"
        assert body["type"] == PROBLEM + SUFFIXES[status] and body["status"] == status
        assert body["title"] == ORACLE_CONTRACT["problems"][SUFFIXES[status]]["title"]
        assert body["requestId"] == response.headers["X-Request-Id"]
        assert list(body)[-1] == "requestId"
        assert set(body) <= {"type", "title", "status", "detail", "errors", "errorsOmitted", "requestId"}
        if status == 400:
            assert body["detail"] == ORACLE_CONTRACT["details"][bad].replace("{maxNestingDepth}", str(MAX_DEPTH))
        if status == 422:
            errors = body["errors"]
            for error in errors:
                assert list(error) == ["pointer", "code", "detail"]
                assert error["code"] in CODES and isinstance(error["detail"], str) and error["detail"]
                assert error["pointer"] == "" or error["pointer"].startswith("/")
                assert not re.search(r"~[^01]|~$", error["pointer"])  # RFC 6901: "~" only as "~0" or "~1"
            assert pairs(errors) == expected[:MAX_ERRORS]
            count = len(expected)
            if count > MAX_ERRORS:
                assert body["errorsOmitted"] == count - MAX_ERRORS
                assert body["detail"] == "%d problems; the first %d are listed in errors" % (count, MAX_ERRORS)
            else:
                assert "errorsOmitted" not in body
                assert body["detail"] == "%d problem%s; see errors" % (count, "" if count == 1 else "s")
        else:
            assert "errors" not in body
        # Submitted values never come back; a submitted field name only in the pointer that names it.
        errors = body.get("errors", [])
        without_pointers = json.dumps([body.get("detail"), [[e["code"], e["detail"]] for e in errors]])
        assert KEY_SECRET not in without_pointers
        assert "8675309" not in text
    assert SECRET not in text
    for line in app_log:
        assert SECRET not in line and KEY_SECRET not in line and "8675309" not in line


def json_documents(leaves, keys):
    return st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
        max_leaves=6,
    )


_STRATEGIES = {}


def cached(build):
    """Build a schema's strategy once: building strategies over and over is a large part of a run's time."""

    def get(schema):
        key = (build.__name__, json.dumps(schema["features"], sort_keys=True))
        if key not in _STRATEGIES:
            _STRATEGIES[key] = build(schema)
        return _STRATEGIES[key]

    get.__name__ = build.__name__
    return get


@cached
def hostile_keys(schema):
    names = [f["name"] for f in schema["features"]]
    return st.one_of(
        st.sampled_from(
            [
                "__proto__",
                "constructor",
                "prototype",
                "toString",
                "hasOwnProperty",
                "__class__",
                "instances",
                "",
                "/",
                "~",
                "~1",
                "a/b~c",
                "\u0000",
                "\ud800",
                "\u202e",
                KEY_SECRET,
                "x" * 5000,
            ]
        ),
        st.sampled_from(names).map(lambda n: n.upper() if n.upper() != n else n + " "),  # near misses
        st.text(max_size=8),
    )


@cached
def hostile_values(schema):
    # strings only: the near misses below (c + " ", c.upper()) are made of strings; whole numbers come as integers
    categories = sorted(set(c for f in schema["features"] for c in f.get("categories", []) if type(c) is str))[:20]
    categories = categories or ["x"]
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.sampled_from(
            [
                0,
                -0.0,
                3.0,
                2.5,
                1e-300,
                1e38,
                -1e38,
                MAX_MAGNITUDE,
                -MAX_MAGNITUDE,
                3.5e38,
                -1e300,
                10**39,
                -(10**400),
                float("nan"),
                float("inf"),
                float("-inf"),
                SECRET_NUMBER,
            ]
        ),
        st.sampled_from(categories),
        # numbers as strings, near-miss categories, and strings that must not come back
        st.sampled_from(
            [
                "1",
                "12.5",
                "-0",
                "1e3",
                "NaN",
                "nan",
                "Infinity",
                "-Infinity",
                "inf",
                "0x1F",
                " 7 ",
                "1_000",
                "",
                "null",
                "true",
                "[]",
                SECRET,
                SECRET * 200,
                # dates and date-times, and near misses
                "2024-02-29",
                "2023-02-29",
                "1677-12-31",
                "2026-01-01T00:00:00",
                "2026-01-01T00:00:00.123456789+02:00",
                "2026-01-01 00:00:00",
                "2026-01-01T24:00:00Z",
                "2026-01-01T00:00:00+24:00",
                "\u0662\u0660\u0662\u0666-01-01",
                "\U0001f600" * 8,
                "\U0001f600" * 9,
            ]
        ),
        st.sampled_from(categories).map(lambda c: c + " "),
        st.sampled_from(categories).map(lambda c: c.upper()),
        st.text(max_size=12).map(lambda s: s + SECRET),
    )
    return json_documents(leaves, hostile_keys(schema))


@st.composite
def hostile_payloads(draw, service):
    """A request body as Python values: a few valid rows, then hostile changes to rows and to the document."""
    schema = service.schema
    max_rows = service.max_rows
    names = [f["name"] for f in schema["features"]]
    size = draw(st.sampled_from([1, 1, 1, 2, 3, 3, 0, max_rows + 1]))
    rows = [service.row(i) for i in range(size)]
    values, keys = hostile_values(schema), hostile_keys(schema)
    for _ in range(draw(st.integers(0, 4)) if rows else 0):
        i = draw(st.integers(0, len(rows) - 1))
        action = draw(st.sampled_from(["set", "set", "set", "delete", "add", "replace"]))
        if action == "replace":
            rows[i] = draw(values)
        elif isinstance(rows[i], dict):
            if action == "set":
                rows[i][draw(st.sampled_from(names))] = draw(values)
            elif action == "delete":
                rows[i].pop(draw(st.sampled_from(names)), None)
            else:
                rows[i][draw(keys)] = draw(values)
    payload = {"instances": rows}
    document = draw(st.sampled_from(["as is"] * 6 + ["extra keys", "instances", "document", "no instances"]))
    if document == "extra keys":
        for key in draw(st.lists(keys, min_size=1, max_size=3)):
            if key != "instances":
                payload[key] = draw(values)
    elif document == "instances":
        payload["instances"] = draw(values)
    elif document == "document":
        payload = draw(values)
    elif document == "no instances":
        payload = {"constructor": {"prototype": rows}, "__proto__": {"instances": rows}}
    return payload


@pytest.mark.parametrize("service", ["model", "synthetic"], indirect=True)
@settings(FUZZ, max_examples=100)
@given(data=st.data())
def test_hostile_payloads(service, app_log, data):
    payload = data.draw(hostile_payloads(service), label="payload")
    raw = json.dumps(payload).encode("utf-8")  # NaN and infinite floats become NaN/Infinity literals
    check_answer(service, service.post(raw), raw, app_log=app_log)


@pytest.mark.parametrize("service", ["model", "synthetic"], indirect=True)
@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_any_value_in_any_field_is_a_200_or_a_422_at_that_field(service, data):
    names = [f["name"] for f in service.schema["features"]]
    name = data.draw(st.sampled_from(names), label="feature")
    value = data.draw(hostile_values(service.schema), label="value")
    row = service.row()
    row[name] = value
    raw = json.dumps({"instances": [row]}).encode("utf-8")  # NaN and infinite floats become NaN/Infinity literals
    response = service.post(raw)
    if len(raw) <= service.max_body_bytes:
        literals = read_json(raw)[1] is not None  # not JSON: a 400 for the whole body
        assert response.status_code in ((400,) if literals else (200, 422)), response.get_data(as_text=True)
    if response.status_code == 422:
        assert [e["pointer"] for e in response.get_json()["errors"]] == ["/instances/0/" + escape_pointer(name)]
    check_answer(service, response, raw)


LITERALS = [
    "NaN",
    "-NaN",
    "+NaN",
    "nan",
    "NAN",
    "Infinity",
    "-Infinity",
    "+Infinity",
    "infinity",
    "inf",
    "-inf",
    "Infinityx",
    "NaNa",
    "1e999",
    "-1e999",
    "1E400",
    "1e-999",
    "-0",
    "0x10",
    "01",
    "-01",
    "1.",
    ".5",
    "+1",
    "1e",
    "--1",
    "1_0",
    "1 2",
    "true",
    "false",
    "null",
    "True",
    "None",
    "undefined",
    '"NaN"',
    '"1e3"',
    "[]",
    "{}",
    "[NaN]",
    '{"__proto__": 1}',
    "8675309.25",
    "3.4028234663852886e38",
    "3.4028235e38",
    "1" + "0" * 400,
    "1" + "0" * 5000,
    "0." + "0" * 400 + "1",
    '"' + "\\ud800" + '"',
    '"\\u0000"',
]
BAD_BYTES = [
    b"\xff",
    b"\xfe",
    b"\x80",
    b"\xc0\x80",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xe2\x82",
    b"\xf4\x90\x80\x80",
    b"\xef\xbb\xbf",
]


@st.composite
def hostile_bodies(draw, service):
    """Request bodies as bytes: invalid UTF-8, truncated, NaN/number spellings, duplicate keys, deep nesting,
    padding up to and past maxBodyBytes, and random bytes."""
    schema = service.schema
    rows = [service.row(i) for i in range(draw(st.integers(1, 3)))]
    names = [f["name"] for f in schema["features"]]
    valid = json.dumps({"instances": rows}).encode("utf-8")
    kind = draw(
        st.sampled_from(
            [
                "literal",
                "literal",
                "duplicate",
                "truncated",
                "bad utf-8",
                "encoding",
                "deep",
                "deep",
                "size",
                "bytes",
                "document",
            ]
        )
    )
    if kind == "literal":  # a spelling put where a value goes, as is
        row = dict(rows[0])
        row[draw(st.sampled_from(names))] = "__HERE__"
        literal = draw(st.sampled_from(LITERALS))
        return json.dumps({"instances": [row] + rows[1:]}).replace('"__HERE__"', literal).encode("utf-8")
    if kind == "duplicate":  # a repeated key: JSON leaves it undefined, Python keeps the last
        name = draw(st.sampled_from(names))
        first, second = (json.dumps(draw(hostile_values(schema))) for _ in range(2))
        text = json.dumps(rows[0])
        if draw(st.booleans()):
            text = text[:-1] + ", %s: %s}" % (json.dumps(name), second)
        else:
            text = "{%s: %s, %s" % (json.dumps(name), first, text[1:])
        if draw(st.booleans()):
            return ('{"instances": [%s], "instances": %s}' % (text, first)).encode("utf-8")
        return ('{"instances": %s, "instances": [%s]}' % (second, text)).encode("utf-8")
    if kind == "truncated":
        return valid[: draw(st.integers(0, len(valid) - 1))]
    if kind == "bad utf-8":
        at = draw(st.integers(0, len(valid)))
        return valid[:at] + draw(st.sampled_from(BAD_BYTES)) + valid[at:]
    if kind == "encoding":
        text = json.dumps({"instances": rows}, ensure_ascii=False).replace('"instances"', '"instances\u00e9"', 1)
        return text.encode(draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252"])))
    if kind == "deep":
        depth = draw(st.sampled_from([100000, 1, 50, 200, 100000]))  # 100000: the parser gives up (a 400)
        opener, inner, closer = draw(
            st.sampled_from([(b"[", b"1", b"]"), (b'{"a":', b"{}", b"}"), (b'{"instances":[', b"", b"]}")])
        )
        deep = opener * depth + inner + closer * draw(st.sampled_from([depth, depth // 2]))
        where = draw(st.sampled_from(["document", "instances", "value"]))
        if where == "document":
            return deep
        if where == "instances":
            return b'{"instances": ' + deep + b"}"
        return valid.replace(json.dumps(rows[0][names[0]]).encode("utf-8"), deep, 1)
    if kind == "size":  # whitespace padding to just under, at or just over maxBodyBytes
        size = max(len(valid), service.max_body_bytes + draw(st.integers(-2, 64)))
        return valid + b" " * (size - len(valid))
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    return json.dumps(draw(any_documents(schema))).encode("utf-8")


@cached
def any_documents(schema):
    return json_documents(st.none() | st.booleans() | st.integers() | st.text(max_size=8), hostile_keys(schema))


@pytest.mark.parametrize("service", ["model", "synthetic"], indirect=True)
@settings(FUZZ, max_examples=100)
@given(data=st.data())
def test_hostile_bodies(service, app_log, data):
    raw = data.draw(hostile_bodies(service), label="raw")
    check_answer(service, service.post(raw), raw, app_log=app_log)


MEDIA_TYPES = [
    "application/json",
    "Application/JSON",
    "application/json; charset=utf-8",
    "application/json;charset=latin-1",
    "application/json; charset=utf-16",
    "text/plain",
    "text/json",
    "text/html",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/problem+json",
    "application/json-patch+json",
    "application/vnd.api+json",
    "application/jsonp",
    "application/javascript",
    "application/octet-stream",
    "application/xml",
    "application/jsonx",
    "application",
    "json",
    "*/*",
    "",
    None,
]


@pytest.mark.parametrize("service", ["model", "synthetic"], indirect=True)
@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_content_types(service, data):
    content_type = data.draw(
        st.sampled_from(MEDIA_TYPES)
        | st.from_regex(r"[a-z]{1,12}/[a-z0-9.+-]{1,16}(; ?[a-z]{1,8}=[a-z0-9-]{1,8})?", fullmatch=True),
        label="content type",
    )
    raw = data.draw(
        st.sampled_from([b"", b"{", b"instances=1", json.dumps({"instances": [service.row()]}).encode()]), label="raw"
    )
    response = service.client.post("/v1/predict", data=raw, content_type=content_type)
    check_answer(service, response, raw, content_type)


@pytest.mark.parametrize("service", ["model", "synthetic"], indirect=True)
@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_bodies_cut_short_or_chunked(service, data):
    raw = data.draw(hostile_bodies(service), label="raw")
    if data.draw(st.booleans(), label="cut short"):
        missing = data.draw(st.integers(1, 100), label="missing")
        response = post_cut_short(service.client, raw, missing)
        if len(raw) + missing > service.max_body_bytes:  # the declared length alone is over the limit
            problem_of(response, 413, "body-too-large")
        else:
            problem_of(response, 400, "malformed-json")
    else:
        check_answer(service, post_chunked(service.client, raw), raw)


@cached
def fast_path_changes(schema):
    """[(row, feature index, value)]: values of every JSON type, some valid and some not."""
    categories = [c for f in schema["features"] for c in f.get("categories", [])][:10] or ["x"]
    categories += ["2024-02-29", "2023-02-29", "2026-01-01T00:00:00Z", "2026-01-01T00:00:60Z", "12345678", "123456789"]
    values = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
        | st.sampled_from(categories)
        | st.text()
        | st.sampled_from([3.0, 2.5, 1e39, -1e39, 10**39, float("nan"), float("inf")])
    )
    return st.lists(st.tuples(st.integers(0, 3), st.integers(0, len(schema["features"]) - 1), values), max_size=3)


@pytest.mark.parametrize("service", ["model", "synthetic"], indirect=True)
@settings(FUZZ, max_examples=100)
@given(data=st.data())
def test_fast_path_never_accepts_what_the_exact_check_rejects(service, data):
    schema = service.schema
    names = [f["name"] for f in schema["features"]]
    changes = data.draw(fast_path_changes(schema), label="changes")
    compiled = validation.compile_schema(schema)
    rows = [service.row(i) for i in range(4)]
    for row, index, value in changes:
        rows[row][names[index]] = value
    exact = []
    validation._validate_rows(rows, compiled, exact)
    if validation._columns_look_valid(rows, compiled):
        assert exact == []
    assert pairs(exact) == expected_row_errors(rows, schema)


def _model_format():
    """Read at collection time: the skops-only case exists only for a skops model."""
    model_dir = os.environ.get("MODEL_DIR") or service_settings.default_model_dir()
    with open(os.path.join(model_dir, "schema.json"), encoding="utf-8") as fh:
        return json.load(fh)["model"].get("format") or "joblib"


# On the onnx runtime the service never loads the skops file (it checks its sha256 only): nothing to refuse there.
if _model_format() == "skops" and service_settings.RUNTIME == "sklearn":

    def _untrusted_function(values):  # a function skops has never heard of: constructing it would run our code
        return values

    def test_skops_artifact_with_types_schema_json_does_not_trust_is_refused(model_copy, schema):
        import hashlib

        import skops.io as sio
        from sklearn.preprocessing import FunctionTransformer

        blob = sio.dumps(FunctionTransformer(_untrusted_function))
        (model_copy / schema["model"]["artifact"]).write_bytes(blob)
        forged = dict(
            schema,
            model=dict(
                schema["model"], sha256=hashlib.sha256(blob).hexdigest(), version=hashlib.sha256(blob).hexdigest()[:12]
            ),
        )
        (model_copy / "schema.json").write_text(json.dumps(forged), encoding="utf-8")
        with pytest.raises(serving.ModelError, match="_untrusted_function.*--trust-type"):
            serving.load_model(str(model_copy))
