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

from serving import artifact, settings
from serving.onnx_runtime import ARTIFACT as ONNX_ARTIFACT
from serving.trust import TrustError

from . import onnx_conversion
from .errors import DerivationError
from .vouch import VouchRefused, refuse_dangerous, vouch

SCHEMA_NAME = "schema.json"
MAX_LISTED_CATEGORIES = 100


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
        if (
            ptypes.is_bool_dtype(column)
            or isinstance(column.dtype, pd.CategoricalDtype)
            or ptypes.is_object_dtype(column)
            or ptypes.is_string_dtype(column)
        ):
            values = [np.nan if pd.isna(v) else str(v) for v in column.astype(object)]
            entry["type"] = "category"
            entry["nullable"] = bool(column.isna().any())
            entry["categories"] = sorted(set(v for v in values if isinstance(v, str)))
            if len(entry["categories"]) > MAX_LISTED_CATEGORIES:
                # Every category is listed in schema.json: an ID column or free text rarely belongs in the features.
                log(
                    "note: column %r has %d distinct values; is it really a feature?" % (name, len(entry["categories"]))
                )
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
            raise DerivationError(
                "column %r has dtype %s, which the API cannot express; convert it to numbers or "
                "strings, or drop it" % (name, column.dtype)
            )
        described.append(entry)
    if not described:
        raise DerivationError("no feature columns left: the data has nothing but the target")
    frame = pd.DataFrame(columns, columns=[f["name"] for f in described], index=features.index)
    return frame, described


def request_rows(frame, features):
    """A frame as described_features builds it -> the JSON request rows a client would send (None for missing)."""
    rows = []
    for record in frame.to_dict(orient="records"):
        row = {}
        for f in features:
            value = record[f["name"]]
            if value is None or (isinstance(value, float) and np.isnan(value)):
                row[f["name"]] = None
            elif f["type"] == "integer":
                row[f["name"]] = int(value)
            elif f["type"] == "number":
                row[f["name"]] = float(value)
            else:
                row[f["name"]] = str(value)
        rows.append(row)
    return rows


def task_of(model):
    """'classification' or 'regression', from the fitted estimator itself (the final step of a Pipeline)."""
    from sklearn.base import is_classifier, is_regressor

    if is_classifier(model):
        if not hasattr(model, "predict_proba") or not hasattr(model, "classes_"):
            raise DerivationError(
                "the model is a classifier without predict_proba or classes_; the API returns "
                "probabilities, so use a classifier that has them (or wrap it in "
                "CalibratedClassifierCV)"
            )
        return "classification"
    if is_regressor(model):
        return "regression"
    raise DerivationError(
        "%s is neither a scikit-learn classifier nor a regressor (is it fitted, and is its "
        "last step an estimator?)" % type(model).__name__
    )


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


def _voucher(schema):
    """Who vouches for a model written from this schema: train.py, or an import (whose flags let it load)."""
    model = schema["model"]
    if model.get("source") == "import":
        return "make import of %s (%s)" % (model.get("importedFrom", "a model"), model.get("importedAs", "?"))
    return str(model.get("source") or "train.py")


def write_model_folder(
    directory, model, fmt, make_schema, runtime=None, proof_frame=None, proof_rows="held-out rows", log=print
):
    """Write the artifact in `fmt` (and model.onnx for the onnx runtime), then schema.json = make_schema(model_fields),
    each atomically; return the schema.

    model_fields are the schema's model.* entries that describe the files (artifact, format, sha256, version,
    runtime, onnx); make_schema builds the whole schema around them. What loading the artifact may run is not in
    schema.json: the caller (train.py, or an import the user vouched for with its flags) vouches for this artifact in
    the project's trust.json (tools/vouch.py), before the files are renamed into place, so the folder is at every
    moment either the old model, trusted before, or the new one, trusted now. A model holding a type that runs code
    is refused before anything is written. runtime defaults to the project's
    (serving/settings.py). For onnx the pipeline is converted and proven on `proof_frame` (a frame as
    describe_features builds it; `proof_rows` says what its rows are) before anything is written: a pipeline that
    cannot be converted, or answers differently, raises onnx_conversion.ConversionError and leaves the folder as it was.
    A crash before the renames leaves the previous files untouched; between the renames the service would refuse to
    start (sha256 mismatch) rather than serve a model that does not match its schema. Artifacts of another format or
    runtime left from before are removed last.
    """
    runtime = runtime or settings.RUNTIME
    blob, trusted = artifact.dumps(model, fmt)
    sha256 = hashlib.sha256(blob).hexdigest()
    name = artifact.ARTIFACT_NAMES[fmt]
    fields = {"artifact": name, "format": fmt, "sha256": sha256, "version": sha256[:12], "runtime": runtime}
    try:
        refuse_dangerous(trusted)
    except VouchRefused as exc:
        raise DerivationError(str(exc)) from None
    files = [(name, blob)]
    if runtime == "onnx":
        if proof_frame is None:
            raise DerivationError(
                "the onnx runtime proves the converted model on rows before writing it: pass "
                "write_model_folder(..., proof_frame=<held-out rows>)"
            )
        draft = make_schema(dict(fields))
        entry, onnx_blob = onnx_conversion.convert_and_prove(
            model, draft, request_rows(proof_frame, draft["features"]), proof_rows
        )
        entry["sha256"] = hashlib.sha256(onnx_blob).hexdigest()
        fields["onnx"] = entry
        files.append((ONNX_ARTIFACT, onnx_blob))
    schema = make_schema(fields)
    text = json.dumps(schema, indent=2, allow_nan=False) + "\n"
    files.append((SCHEMA_NAME, text.encode("utf-8")))
    if not os.path.isdir(directory):
        os.makedirs(directory)
    temps = []
    try:
        for file_name, data in files:
            temps.append((_write_temp(directory, file_name, data), file_name))
        # Written by this process from a model it holds: the types it contains (skops) or the exact file (a pickle)
        # are what its caller vouches for.
        try:
            vouch(
                skops_types=trusted if fmt == "skops" else (),
                pickle_sha256=sha256 if fmt == "joblib" else None,
                by=_voucher(schema),
                log=log,
            )
        except TrustError as exc:
            raise DerivationError("cannot record the model's trust: %s" % exc) from None
        for temp, file_name in temps:  # schema.json last: it names the others
            os.replace(temp, os.path.join(directory, file_name))
        temps = []
    finally:
        for temp, _file_name in temps:
            if os.path.exists(temp):
                os.remove(temp)
    written = set(file_name for file_name, _data in files)
    for other in list(artifact.ARTIFACT_NAMES.values()) + [ONNX_ARTIFACT]:
        if other not in written and os.path.exists(os.path.join(directory, other)):
            os.remove(os.path.join(directory, other))
    return schema
