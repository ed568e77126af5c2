"""Validated rows -> the model's input -> the contract's answer body.

The input is what the bundle's runtime takes: a pandas DataFrame for scikit-learn, typed numpy columns for onnx
(pandas is then never imported). Everything else, the answer and its errors, is the same for both.
"""

import os
import sysconfig
import threading
import traceback

import numpy as np

from .bundle import DATETIME_DTYPE, ModelError
from .formats import format_date, format_datetime, parse_date, parse_datetime
from .onnx_runtime import MISSING_CATEGORY, NUMBER_DTYPE, Columns
from .validation import BOOLEAN, CATEGORY, DATE, DATETIME, INTEGER, TEXT

_NAN = float("nan")
_NAT = np.iinfo(np.int64).min  # numpy's NaT as int64
# One prediction at a time per process. scikit-learn's Parallel (every forest and boosting predict runs through it,
# n_jobs=None included) clears and rebuilds the process-wide warnings.filters around each task, and Python's
# catch_warnings keeps no per-thread state (before 3.14). Two of gunicorn's threads predicting at once could leave the
# list empty for good; from then on every tree of every request logged "sklearn.utils.parallel.delayed should be used
# with sklearn.utils.parallel.Parallel" (985,263 lines in 12 minutes, measured). Predictions are CPU-bound under the
# GIL anyway, so serialising them costs throughput nothing measurable; the second thread still answers health checks.
_MODEL_LOCK = threading.Lock()


def build_frame(bundle, rows):
    """Validated rows -> the DataFrame the pipeline was trained on: built column-wise, in schema order, each column in
    the dtype schema.json records (docs/contract.md, "Feature types"): numbers float64 with NaN for null, categories
    and text strings with NaN for null (which the pipeline's imputers treat as missing), booleans bool (object with
    NaN when nullable), dates and date-times datetime64 (NaT for null), integer-coded categories int64 (float64 when
    nullable), a pandas category column with the training categories in their order."""
    return frame_of(bundle.columns, rows)


def frame_of(columns, rows):
    """build_frame for column specs (bundle.column_specs) rather than a bundle: describe_features builds training
    frames with it, so a model is fitted on exactly what the service will give it."""
    import pandas as pd  # only the sklearn runtime needs it: the onnx runtime's service runs without pandas

    data = {}
    for name, getter, kind, nullable, dtype, categories in columns:
        data[name] = _column(list(map(getter, rows)), kind, nullable, dtype, categories, pd)
    return pd.DataFrame(data, columns=[spec[0] for spec in columns])


def _column(values, kind, nullable, dtype, categories, pd):
    if kind in (DATE, DATETIME):
        parse = parse_date if kind == DATE else parse_datetime
        nanos = np.array([_NAT if v is None else parse(v) for v in values], dtype=np.int64).view("datetime64[ns]")
        unit, zone = DATETIME_DTYPE.fullmatch(dtype).groups()
        if zone:
            aware = pd.DatetimeIndex(nanos).tz_localize("UTC").tz_convert(zone)
            return aware if unit == "ns" else aware.as_unit(unit)  # pandas < 2 has nanoseconds only
        return nanos.astype("datetime64[%s]" % unit)
    if dtype == "category":
        return pd.Categorical(values, categories=list(categories))
    if kind == BOOLEAN and dtype == "bool":
        return np.array(values, dtype=bool)
    if dtype in ("float64", "int64"):  # numbers, and integer-coded categories
        return np.array(values, dtype=np.float64 if dtype == "float64" else np.int64)
    if nullable:  # strings, and booleans with gaps: object columns, NaN for null as pandas reads a gap
        values = [_NAN if v is None else v for v in values]
    return np.array(values, dtype=object)


def build_columns(bundle, rows):
    """Validated rows -> Columns {feature: 1-D numpy column} in schema order, as the ONNX graph's inputs take them:
    float32 with NaN for null (numpy turns None into NaN), strings (categories, text) with MISSING_CATEGORY for null.
    (The onnx runtime serves numbers, string categories and text only: bundle.onnx_unsupported.)"""
    columns = Columns()
    for name, getter, kind, nullable, _dtype, _categories in bundle.columns:
        values = list(map(getter, rows))
        if kind in (CATEGORY, TEXT):
            if nullable:
                values = [MISSING_CATEGORY if v is None else v for v in values]
            columns[name] = np.array(values, dtype=object)
        else:
            columns[name] = np.array(values, dtype=NUMBER_DTYPE)
    return columns


def model_input(bundle, rows):
    """What the runtime predicts from (and what the before_predict/after_predict hooks get as `frame`)."""
    return build_columns(bundle, rows) if bundle.runtime == "onnx" else build_frame(bundle, rows)


def predict_frame(bundle, frame):
    """Predict a frame. Returns the answer body as plain Python types (no numpy scalars): docs/contract.md's answer
    shape for the model's task."""
    model = bundle.model
    task = bundle.task
    if task == "regression":
        values = np.asarray(model.predict(frame), dtype=np.float64).ravel()
        return {"predictions": values.tolist(), "model": bundle.model_info()}
    if task == "clustering":
        clusters = [int(c) for c in np.asarray(model.predict(frame)).ravel().tolist()]
        return {"predictions": clusters, "model": bundle.model_info()}
    if task == "outlier-detection":
        labels = [int(v) for v in np.asarray(model.predict(frame)).ravel().tolist()]  # 1 inlier, -1 outlier
        answer = {"predictions": labels}
        if "scores" in bundle.outputs:
            answer["scores"] = np.asarray(model.decision_function(frame), dtype=np.float64).ravel().tolist()
        answer["model"] = bundle.model_info()
        return answer
    classes = bundle.classes
    lookup = bundle.class_lookup
    if "probabilities" not in bundle.outputs:
        answer = {"predictions": [lookup[label] for label in np.asarray(model.predict(frame)).tolist()]}
        if "scores" in bundle.outputs:
            answer["scores"] = _class_scores(model.decision_function(frame))
        answer["classes"] = list(classes)
        answer["model"] = bundle.model_info()
        return answer
    proba = np.asarray(model.predict_proba(frame), dtype=np.float64)
    if bundle.labels_from_proba:
        predictions = [classes[j] for j in proba.argmax(axis=1).tolist()]
    else:
        predictions = [lookup[label] for label in np.asarray(model.predict(frame)).tolist()]
    return {
        "predictions": predictions,
        "probabilities": proba.tolist(),
        "classes": list(classes),
        "model": bundle.model_info(),
    }


def _class_scores(scores):
    """decision_function's output as one score per class and row. With two classes scikit-learn gives one number s per
    row, the score of classes[1]; the contract gives [-s, s], so the label is the class with the highest score for
    any number of classes."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        scores = np.column_stack([-scores, scores])
    return scores.tolist()


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
    """A valid row of the schema: the middle of each observed range, the first category, the earliest observed date."""
    row = {}
    for f in schema["features"]:
        kind = f["type"]
        if kind == CATEGORY:
            row[f["name"]] = f["categories"][0]
        elif kind == TEXT:
            row[f["name"]] = "example"
        elif kind == BOOLEAN:
            row[f["name"]] = False
        elif kind == DATE:
            row[f["name"]] = f.get("observedMin") or format_date(0)
        elif kind == DATETIME:
            row[f["name"]] = f.get("observedMin") or format_datetime(0, False)
        else:
            low = f.get("observedMin", 0)
            middle = (low + f.get("observedMax", low)) / 2.0
            row[f["name"]] = float(round(middle)) if kind == INTEGER else float(middle)
    return row


def _hook_name(kind, hook):
    """'the before_predict hook (application.before_predict)': what the self-test's messages call a hook."""
    name = "%s.%s" % (getattr(hook, "__module__", None) or "?", getattr(hook, "__qualname__", None) or repr(hook))
    return "the %s hook (%s)" % (kind, name)


def _step_name(name, step):
    """ "pipeline step 'derive' (features.derive, in features.py)", "pipeline step 'preprocess' (ColumnTransformer)"."""
    function = getattr(step, "func", None)
    if function is not None and getattr(function, "__module__", "").split(".")[0] not in ("sklearn", "numpy"):
        module = function.__module__
        qualified = "%s.%s" % (module, getattr(function, "__qualname__", "?"))
        return "pipeline step %r (%s, in %s.py)" % (name, qualified, module.replace(".", "/"))
    return "pipeline step %r (%s)" % (name, type(step).__name__)


def failing_step(model, frame):
    """The pipeline step that raises on `frame` (its name for a message, and the exception), or None: each step's
    transform in turn, as predict runs them, so a failure is pinned on the step (features.derive, say) that caused
    it rather than on the model as a whole."""
    steps = getattr(model, "steps", None)
    if not steps:
        return None
    data = frame
    for name, step in steps[:-1]:
        if step is None or isinstance(step, str):  # None or "passthrough": nothing runs
            continue
        try:
            data = step.transform(data)
        except Exception as exc:
            return _step_name(name, step), exc
    return None


_NOT_YOURS = (
    os.path.dirname(os.path.abspath(__file__)),
    sysconfig.get_paths()["stdlib"],
    sysconfig.get_paths()["purelib"],
)


def _raised_at(exc):
    """' (application.py, line 34)': the last line of the project's own code that `exc` passed through (not the
    serving package's, a library's or Python's), where a hook's failure is to be fixed; '' when there is none."""
    found = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(_NOT_YOURS) and not path.startswith("<"):
            found = (path, line)
    if found is None:
        return ""
    return " (%s, line %d)" % (os.path.relpath(found[0]), found[1])


def self_test(bundle, before_predict, after_predict):
    """Predict one example row through the hooks and the model (its derived features included: features.derive is a
    pipeline step), as a request would, before the app serves anything: a model that cannot answer, or a hook or a
    step that breaks it, stops the start-up with the reason, naming the hook or the step, instead of failing every
    request."""
    frame = model_input(bundle, [example_row(bundle.schema)])  # the app is not serving yet: no lock
    try:
        frame = before_predict(frame)
    except Exception as exc:
        raise ModelError(
            "%s failed in the start-up self-test (one example row)%s: %s: %s"
            % (_hook_name("before_predict", before_predict), _raised_at(exc), type(exc).__name__, exc)
        ) from exc
    if frame is None:
        raise ModelError(
            "%s returned None: it must return the frame the model gets (a missing `return frame`?)"
            % _hook_name("before_predict", before_predict)
        )
    expected = getattr(bundle.model, "feature_names_in_", None)
    columns = [str(c) for c in getattr(frame, "columns", [])]
    if expected is not None and columns != [str(n) for n in expected]:
        raise ModelError(
            "the model was trained on the columns %s but gets %s: schema.json does not match the model, or "
            "before_predict must return the columns the model was trained on (%s returned these; derived features "
            "belong in features.py, whose derive() the model runs itself)"
            % ([str(n) for n in expected], columns, _hook_name("before_predict", before_predict))
        )
    try:
        answer = predict_frame(bundle, frame)
    except Exception as exc:
        found = failing_step(bundle.model, frame)
        where = " in %s" % found[0] if found else ""
        cause = found[1] if found else exc
        raise ModelError(
            "the model failed its start-up self-test (one example row)%s: %s: %s" % (where, type(cause).__name__, cause)
        ) from exc
    try:
        answer = after_predict(answer, frame)
    except Exception as exc:
        raise ModelError(
            "%s failed in the start-up self-test (one example row)%s: %s: %s"
            % (_hook_name("after_predict", after_predict), _raised_at(exc), type(exc).__name__, exc)
        ) from exc
    if not isinstance(answer, dict):
        raise ModelError(
            "%s must return the answer body (a dict); it returned %s"
            % (_hook_name("after_predict", after_predict), type(answer).__name__)
        )
    for key in ("predictions", "model"):
        if key not in answer:
            raise ModelError(
                "after_predict must keep the %r key of the answer (%s dropped it)"
                % (key, _hook_name("after_predict", after_predict))
            )
