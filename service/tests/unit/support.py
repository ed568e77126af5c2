"""Tiny models and the helpers the unit tests share: data with every kind of feature, pipelines shaped like train.py's,
model folders written by tools.schema_derivation as train.py writes them, and a problem+json checker that reads its
wording from contract.json (never restated here).
"""

import json
import os

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from tools.schema_derivation import (
    describe_features,
    request_rows,
    schema_version,
    target_schema,
    task_of,
    write_model_folder,
)

CONTRACT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "contract", "contract.json")
with open(CONTRACT_PATH, encoding="utf-8") as _fh:
    CONTRACT = json.load(_fh)
COLOURS = ["blue", "green", "red"]
CLASSES = ["large", "medium", "small"]
# Small enough that a 413 or a capped errors[] costs a few kilobytes, large enough for the batches the tests send.
LIMITS = {"maxRows": 200, "maxBodyBytes": 16384}


def raw_features(rows=60, seed=0):
    """A frame with a number, a nullable number, an integer and a nullable category, as a user's CSV would be."""
    rng = np.random.RandomState(seed)
    width = rng.uniform(0.5, 3.0, rows)
    width[::7] = np.nan
    colour = np.array([COLOURS[i % 3] for i in range(rows)], dtype=object)
    colour[::9] = None
    return pd.DataFrame(
        {
            "length": rng.uniform(1.0, 9.0, rows),
            "width": width,
            "rooms": rng.randint(1, 7, rows),
            "colour": colour,
        }
    )


def preprocess(features):
    numeric = [f["name"] for f in features if f["type"] != "category"]
    categorical = [f["name"] for f in features if f["type"] == "category"]
    return ColumnTransformer(
        [
            ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
            (
                "category",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="most_frequent")),
                        ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                    ]
                ),
                categorical,
            ),
        ],
        sparse_threshold=0,
    )


def training_data():
    """(frame as the service builds it, schema features, class labels, regression targets)."""
    raw = raw_features()
    frame, features = describe_features(raw, log=lambda _line: None, types={})
    size = raw["length"] + raw["rooms"]
    labels = np.where(size > 9, "large", np.where(size > 6, "medium", "small"))
    values = 2.0 * raw["length"] - raw["rooms"] + (raw["colour"] == "red") * 3.0
    return frame, features, pd.Series(labels, name="size"), pd.Series(values, name="price")


def fit(frame, features, target, estimator):
    return Pipeline([("preprocess", preprocess(features)), ("model", estimator)]).fit(frame, target)


def fit_classifier(frame, features, labels, estimator=None):
    return fit(frame, features, labels, estimator or LogisticRegression(max_iter=500))


def fit_regressor(frame, features, values):
    return fit(frame, features, values, Ridge())


def schema_maker(name, model, features, target_name, limits=None):
    """make_schema for write_model_folder, as train.py's: the model fields it is given, the rest from the model."""

    def make_schema(fields):
        task = task_of(model) if model is not None else "regression"
        target = target_schema(model, target_name, task)
        entry = {"name": name, "task": task, "estimator": "x"}
        entry.update(fields)
        entry.update({"source": "train.py", "trainedAt": "2026-01-01T00:00:00Z", "sklearnVersion": "test"})
        return {
            "schemaVersion": schema_version(features, target),
            "model": entry,
            "features": features,
            "target": target,
            "limits": dict(limits or LIMITS),
        }

    return make_schema


def write_folder(directory, name, model, features, target_name, fmt="skops", runtime="sklearn", proof_frame=None):
    """model/ for `model` as train.py writes it; returns the schema."""
    return write_model_folder(
        str(directory),
        model,
        fmt,
        schema_maker(name, model, features, target_name),
        runtime=runtime,
        proof_frame=proof_frame,
    )


def valid_rows(frame, features, count=None):
    """Request rows a client would send for the frame's first `count` rows (None where a value is missing)."""
    rows = request_rows(frame, features)
    return rows if count is None else rows[:count]


def post(client, body, content_type="application/json", headers=None, **kwargs):
    """POST /v1/predict. A body that is not bytes is sent as JSON."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    return client.post("/v1/predict", data=data, content_type=content_type, headers=headers or {}, **kwargs)


def problem_of(response, kind, detail_name=None, **values):
    """The problem+json body of `response`, checked against contract.json: type, title, status, member order and,
    when `detail_name` is given, the detail sentence filled with `values`."""
    spec = CONTRACT["problems"][kind]
    assert response.status_code == spec["status"], response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = json.loads(response.get_data(as_text=True))
    assert body["type"] == CONTRACT["typePrefix"] + kind
    assert body["title"] == spec["title"]
    assert body["status"] == spec["status"]
    order = ["type", "title", "status", "detail", "errors", "errorsOmitted", "requestId"]
    assert list(body) == [key for key in order if key in body]
    assert body["requestId"] == response.headers["X-Request-Id"]
    if detail_name is not None:
        assert body["detail"] == expected_detail(detail_name, **values)
    return body


def expected_detail(name, **values):
    """contract.json's detail sentence with its placeholders filled, independently of serving.contract.fill."""
    text = CONTRACT["details"][name]
    for key, value in dict(
        values, maxNestingDepth=CONTRACT["maxNestingDepth"], maxErrors=CONTRACT["maxErrors"]
    ).items():
        text = text.replace("{%s}" % key, str(value))
    return text


def error_pairs(response):
    """[(pointer, code)] of a 422 answer."""
    return [(e["pointer"], e["code"]) for e in problem_of(response, "validation-error")["errors"]]
