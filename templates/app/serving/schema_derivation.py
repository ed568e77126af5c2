"""model/schema.json derived from data and a fitted model, never typed by hand: train.py and tools/import_model.py
both describe features and targets, and write the model folder, with these functions, so a trained model and an
imported one obey the same contract (docs/contract.md).
"""
import datetime
import hashlib
import json
import os
import tempfile

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from . import artifact

SCHEMA_NAME = "schema.json"
MAX_LISTED_CATEGORIES = 100


class DerivationError(ValueError):
    """The data or the model cannot be described by the contract; the message says what to change."""


def describe_features(features, log=print):
    """DataFrame -> (frame as the service builds it, schema feature list), column order preserved.

    The frame is built the way serving.prediction.build_frame() builds request frames (float64 with NaN for numbers,
    strings or NaN for categories), so a model sees the same dtypes when fitted or checked as in service.
    """
    columns, described = {}, []
    for name in features.columns:
        column = features[name]
        if column.isna().all():
            log("note: dropped column %r: it has no values" % (name,))
            continue
        if not isinstance(name, str):
            raise DerivationError("column names must be strings; got %r" % (name,))
        entry = {"name": name}
        # bool before numeric: pandas counts booleans as numbers, the API does not.
        if ptypes.is_bool_dtype(column) or isinstance(column.dtype, pd.CategoricalDtype) \
                or ptypes.is_object_dtype(column) or ptypes.is_string_dtype(column):
            values = [np.nan if pd.isna(v) else str(v) for v in column.astype(object)]
            entry["type"] = "category"
            entry["nullable"] = bool(column.isna().any())
            entry["categories"] = sorted(set(v for v in values if isinstance(v, str)))
            if len(entry["categories"]) > MAX_LISTED_CATEGORIES:
                # Every category is listed in schema.json: an ID column or free text rarely belongs in the features.
                log("note: column %r has %d distinct values; is it really a feature?"
                    % (name, len(entry["categories"])))
            columns[name] = np.array(values, dtype=object)
        elif ptypes.is_integer_dtype(column) or ptypes.is_float_dtype(column):
            integer = ptypes.is_integer_dtype(column)
            convert = int if integer else float
            entry["type"] = "integer" if integer else "number"
            entry["nullable"] = bool(column.isna().any())
            entry["observedMin"] = convert(column.min())
            entry["observedMax"] = convert(column.max())
            columns[name] = column.to_numpy(dtype="float64", na_value=np.nan)
        else:
            raise DerivationError("column %r has dtype %s, which the API cannot express; convert it to numbers or "
                                  "strings, or drop it" % (name, column.dtype))
        described.append(entry)
    if not described:
        raise DerivationError("no feature columns left: the data has nothing but the target")
    frame = pd.DataFrame(columns, columns=[f["name"] for f in described], index=features.index)
    return frame, described


def task_of(model):
    """'classification' or 'regression', from the fitted estimator itself (the final step of a Pipeline)."""
    from sklearn.base import is_classifier, is_regressor
    if is_classifier(model):
        if not hasattr(model, "predict_proba") or not hasattr(model, "classes_"):
            raise DerivationError("the model is a classifier without predict_proba or classes_; the API returns "
                                  "probabilities, so use a classifier that has them (or wrap it in "
                                  "CalibratedClassifierCV)")
        return "classification"
    if is_regressor(model):
        return "regression"
    raise DerivationError("%s is neither a scikit-learn classifier nor a regressor (is it fitted, and is its "
                          "last step an estimator?)" % type(model).__name__)


def target_schema(model, target_name, task):
    if task == "classification":
        # predict_proba's columns follow classes_; the API's "classes" must be in that order.
        return {"name": target_name, "type": "category", "classes": [str(c) for c in model.classes_]}
    return {"name": target_name, "type": "number"}


def estimator_name(model):
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    return type(final).__name__


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_temp(directory, final_name, data):
    """Write a temp file next to its final name (same filesystem, so os.replace is atomic); return its path."""
    fd, path = tempfile.mkstemp(dir=directory, prefix="." + final_name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(path, 0o644)  # mkstemp makes 0600; the web server's user must be able to read the model
    except BaseException:
        os.remove(path)
        raise
    return path


def write_model_folder(directory, model, fmt, make_schema):
    """Write the artifact in `fmt`, then schema.json = make_schema(model_fields), each atomically; return the schema.

    model_fields are the schema's model.* entries that describe the file (artifact, format, sha256, version,
    trustedTypes); make_schema builds the whole schema around them. A crash before the renames leaves the previous
    pair untouched; between the two renames the service would refuse to start (sha256 mismatch) rather than serve a
    model that does not match its schema. An artifact of the other format left from before is removed last.
    """
    blob, trusted = artifact.dumps(model, fmt)
    sha256 = hashlib.sha256(blob).hexdigest()
    name = artifact.ARTIFACT_NAMES[fmt]
    fields = {"artifact": name, "format": fmt, "sha256": sha256, "version": sha256[:12]}
    if fmt == "skops":
        # Written by this process from a model it holds: the types it contains are the ones it vouches for.
        fields["trustedTypes"] = trusted
    schema = make_schema(fields)
    text = json.dumps(schema, indent=2, allow_nan=False) + "\n"
    if not os.path.isdir(directory):
        os.makedirs(directory)
    temps = []
    try:
        temps.append(_write_temp(directory, name, blob))
        temps.append(_write_temp(directory, SCHEMA_NAME, text.encode("utf-8")))
        os.replace(temps[0], os.path.join(directory, name))
        os.replace(temps[1], os.path.join(directory, SCHEMA_NAME))
        temps = []
    finally:
        for path in temps:
            if os.path.exists(path):
                os.remove(path)
    for other in artifact.ARTIFACT_NAMES.values():
        if other != name and os.path.exists(os.path.join(directory, other)):
            os.remove(os.path.join(directory, other))
    return schema
