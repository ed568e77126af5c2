"""Validated rows -> the model's input -> the contract's answer body.

The input is what the bundle's runtime takes: a pandas DataFrame for scikit-learn, typed numpy columns for onnx
(pandas is then never imported). Everything else, the answer and its errors, is the same for both.
"""

import threading

import numpy as np

from .bundle import ModelError
from .onnx_runtime import MISSING_CATEGORY, NUMBER_DTYPE, Columns
from .validation import CATEGORY, INTEGER

_NAN = float("nan")
# One prediction at a time per process. scikit-learn's Parallel (every forest and boosting predict runs through it,
# n_jobs=None included) clears and rebuilds the process-wide warnings.filters around each task, and Python's
# catch_warnings keeps no per-thread state (before 3.14). Two of gunicorn's threads predicting at once could leave the
# list empty for good; from then on every tree of every request logged "sklearn.utils.parallel.delayed should be used
# with sklearn.utils.parallel.Parallel" (985,263 lines in 12 minutes, measured). Predictions are CPU-bound under the
# GIL anyway, so serialising them costs throughput nothing measurable; the second thread still answers health checks.
_MODEL_LOCK = threading.Lock()


def build_frame(bundle, rows):
    """Validated rows -> the DataFrame the pipeline was trained on: built column-wise, in schema order.

    Numbers (and whole numbers) become float64 with NaN for null; categories stay strings with NaN for null,
    which is what the pipeline's imputers treat as missing.
    """
    data = _fill_columns({}, bundle, rows, _NAN, np.float64)
    import pandas as pd  # only the sklearn runtime needs it: the onnx runtime's service runs without pandas

    return pd.DataFrame(data, columns=bundle.feature_names)


def build_columns(bundle, rows):
    """Validated rows -> Columns {feature: 1-D numpy column} in schema order, as the ONNX graph's inputs take them:
    float32 with NaN for null (numpy turns None into NaN), strings with MISSING_CATEGORY for null."""
    return _fill_columns(Columns(), bundle, rows, MISSING_CATEGORY, NUMBER_DTYPE)


def _fill_columns(columns, bundle, rows, missing_category, number_dtype):
    """Fills `columns` with {feature: 1-D numpy column} in schema order: numbers as `number_dtype` (numpy turns None
    into NaN), categories as strings with `missing_category` for null. Both runtimes' inputs are built here."""
    for name, getter, is_category, nullable in bundle.columns:
        values = list(map(getter, rows))
        if is_category:
            if nullable:
                values = [missing_category if v is None else v for v in values]
            columns[name] = np.array(values, dtype=object)
        else:
            columns[name] = np.array(values, dtype=number_dtype)
    return columns


def model_input(bundle, rows):
    """What the runtime predicts from (and what the before_predict/after_predict hooks get as `frame`)."""
    return build_columns(bundle, rows) if bundle.runtime == "onnx" else build_frame(bundle, rows)


def predict_frame(bundle, frame):
    """Predict a frame. Returns the answer body as plain Python types (no numpy scalars)."""
    model = bundle.model
    if bundle.classes is None:
        values = np.asarray(model.predict(frame), dtype=np.float64).ravel()
        return {"predictions": values.tolist(), "model": bundle.model_info()}
    proba = np.asarray(model.predict_proba(frame), dtype=np.float64)
    classes = bundle.classes
    if bundle.labels_from_proba:
        predictions = [classes[j] for j in proba.argmax(axis=1).tolist()]
    else:
        lookup = bundle.class_lookup
        predictions = [lookup[label] for label in np.asarray(model.predict(frame)).tolist()]
    return {
        "predictions": predictions,
        "probabilities": proba.tolist(),
        "classes": list(classes),
        "model": bundle.model_info(),
    }


def predict_rows(bundle, rows, before_predict=None):
    """Validated rows -> (answer, frame): the frame built, passed through the hook, predicted, under the model lock."""
    with _MODEL_LOCK:
        frame = model_input(bundle, rows)
        if before_predict is not None:
            frame = before_predict(frame)
        return predict_frame(bundle, frame), frame


def predict(bundle, rows):
    """Predict validated rows (the service's path without hooks)."""
    return predict_rows(bundle, rows)[0]


def example_row(schema):
    """A valid row of the schema: the middle of each observed range, the first category."""
    row = {}
    for f in schema["features"]:
        if f["type"] == CATEGORY:
            row[f["name"]] = f["categories"][0]
        else:
            low = f.get("observedMin", 0)
            middle = (low + f.get("observedMax", low)) / 2.0
            row[f["name"]] = float(round(middle)) if f["type"] == INTEGER else float(middle)
    return row


def self_test(bundle, before_predict, after_predict):
    """Predict one example row through the hooks, as a request would, before the app serves anything: a model that
    cannot answer (or a hook that breaks it) stops the start-up with the reason instead of failing every request."""
    frame = before_predict(model_input(bundle, [example_row(bundle.schema)]))  # the app is not serving yet: no lock
    expected = getattr(bundle.model, "feature_names_in_", None)
    columns = [str(c) for c in getattr(frame, "columns", [])]
    if expected is not None and columns != [str(n) for n in expected]:
        raise ModelError(
            "the model was trained on the columns %s but gets %s: schema.json does not match the "
            "model, or before_predict must return the columns the model was trained on"
            % ([str(n) for n in expected], columns)
        )
    try:
        answer = after_predict(predict_frame(bundle, frame), frame)
    except Exception as exc:
        raise ModelError(
            "the model failed its start-up self-test (one example row): %s: %s" % (type(exc).__name__, exc)
        ) from exc
    for key in ("predictions", "model"):
        if key not in answer:
            raise ModelError("after_predict must keep the %r key of the answer" % key)
