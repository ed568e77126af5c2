"""schema.json for an imported model: its input columns come from the model first (feature_names_in_), then the MLflow
signature, then the sample's header; their types from --feature-type, then the MLflow signature, then the model's own
preprocessing, then the sample's dtypes (schema_derivation.describe_features says how); the sample (never copied into
model/) gives nullability, ranges and the rows of the proof, through the same schema_derivation functions train.py
uses, so an imported model obeys the same contract. An MLflow folder saved with a signature and an input example needs
no sample: the example's rows stand in for it, typed by the signature (its `required: false` columns nullable), and a
category column lists the categories the model's own encoders know, not only the few the example shows.
"""

import json
import os

import numpy as np
import pandas as pd
import sklearn

from serving import settings
from tools.schema_derivation import (
    DerivationError,
    describe_features,
    estimator_name,
    mlflow_signature_types,
    parse_feature_types,
    schema_version,
    target_schema,
    task_of,
    utc_now,
)

from . import ImportRefused
from .mlflow_model import SIGNATURE_DTYPES, example_rows

MODEL_NAME = settings.MODEL_NAME
LIMITS = settings.LIMITS


def read_sample(path):
    if not path:
        raise ImportRefused(
            "--sample CSV is required: a CSV of rows the model accepts (the target column may be "
            "in it) supplies the feature types, categories and ranges of schema.json, and the rows the "
            "import proves the model on"
        )
    if not os.path.isfile(path):
        raise ImportRefused("--sample: %s does not exist" % path)
    try:
        try:
            # Nullable dtypes keep an integer column with gaps an integer (plain pandas makes it float).
            return pd.read_csv(path, dtype_backend="numpy_nullable")
        except TypeError:  # pandas < 2.0
            return pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ImportRefused("--sample: cannot read %s as CSV: %s" % (path, exc)) from exc


def read_plain(path):
    """The sample with pandas' default dtypes (float64 and NaN for gappy numbers, object for strings)."""
    return pd.read_csv(path)


def read_rows(args, facts):
    """-> (the rows with nullable dtypes, the same rows as a notebook's pandas holds them, what they are called): the
    sample, else an MLflow folder's input example."""
    if args.sample or not (facts and facts.get("example")):
        return read_sample(args.sample), read_plain(args.sample), "sample rows"
    columns, data = example_rows(facts) or (None, None)
    if not data:
        raise ImportRefused(
            "%s holds no rows; give --sample CSV (rows the model accepts)" % (facts.get("example") or "the example")
        )
    plain = pd.DataFrame(data, columns=columns)
    typed = dict((c["name"], c["type"]) for c in facts.get("inputs") or [])
    sample = plain.copy()
    for name in plain.columns:
        dtype = SIGNATURE_DTYPES.get(typed.get(name))
        if dtype == "float64":
            plain[name] = sample[name] = plain[name].astype("float64")
        elif dtype == "Int64":
            sample[name] = plain[name].astype("Int64")
            plain[name] = plain[name].astype("float64" if plain[name].isna().any() else "int64")
        elif dtype == "boolean":
            sample[name] = plain[name].astype("boolean")
        elif dtype == "object":
            plain[name] = sample[name] = plain[name].astype(object).where(plain[name].notna(), None)
        elif dtype == "datetime64":
            plain[name] = sample[name] = _example_datetimes(plain[name], facts["example"])
    print(
        "note: no --sample: the schema is derived from the MLflow signature and the %d rows of %s"
        % (len(plain), os.path.basename(facts["example"]))
    )
    return sample, plain, "input example rows"


def _example_datetimes(column, path):
    """An input example's date-time strings as the model was fitted on them (datetime64); mixed offsets as their
    instants in UTC, as the service reads them."""
    try:
        try:
            return pd.to_datetime(column, format="ISO8601")
        except (ValueError, TypeError):
            return pd.to_datetime(column, utc=True, format="ISO8601").dt.tz_localize(None)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ImportRefused(
            "%s: column %r is typed datetime by the MLflow signature but holds values that are not ISO 8601 "
            "date-times (%s)" % (path, column.name, exc)
        ) from exc


def model_categories(model):
    """{input column: the string categories the model's encoders (OneHotEncoder, OrdinalEncoder) were fitted on},
    found through Pipelines and ColumnTransformers; a SimpleImputer's constant fill value is left out (it stands for
    a missing value, which the schema says with nullable)."""
    found = {}

    def visit(step, columns, fill):
        if step is None or isinstance(step, str):
            return
        if hasattr(step, "steps"):
            for _name, inner in step.steps:
                if getattr(inner, "strategy", None) == "constant" and hasattr(inner, "statistics_"):
                    fill = inner.fill_value
                visit(inner, columns, fill)
            return
        if hasattr(step, "transformers_"):
            names = list(getattr(step, "feature_names_in_", []))
            for _name, inner, selected in step.transformers_:
                picked = [
                    names[c] if isinstance(c, (int, np.integer)) and c < len(names) else c for c in _listed(selected)
                ]
                visit(inner, [str(c) for c in picked], fill)
            return
        categories = getattr(step, "categories_", None)
        columns = [str(c) for c in getattr(step, "feature_names_in_", columns or [])]
        if categories is not None and len(categories) == len(columns):
            for column, values in zip(columns, categories):
                listed = [str(v) for v in values if isinstance(v, str) and v != fill]
                if listed:
                    found[column] = sorted(set(found.get(column, [])) | set(listed))

    visit(model, [str(c) for c in getattr(model, "feature_names_in_", [])], None)
    return found


def _listed(selected):
    if isinstance(selected, str):
        return [selected]
    try:
        return list(selected)
    except TypeError:
        return []


def feature_names(model, facts, sample, target):
    """From the model itself, else the MLflow signature, else the sample's header (minus the target)."""
    if hasattr(model, "feature_names_in_"):
        names, source = [str(n) for n in model.feature_names_in_], "the model's feature_names_in_"
    elif facts and facts.get("inputs"):
        names, source = [str(c["name"]) for c in facts["inputs"]], "the MLflow signature"
    else:
        names, source = [str(c) for c in sample.columns if c != target], "the sample's header"
    if target and target in names:
        raise ImportRefused(
            "--target %s is one of the model's inputs (from %s); name the column it predicts" % (target, source)
        )
    missing = [n for n in names if n not in sample.columns]
    if missing:
        raise ImportRefused(
            "the sample lacks the model's input column(s) %s (names from %s); give a --sample that "
            "has them" % (", ".join(missing), source)
        )
    expected = getattr(model, "n_features_in_", None)
    if expected is not None and expected != len(names):
        hint = " name the target with --target, or drop the sample's extra columns" if source.endswith("header") else ""
        raise ImportRefused(
            "the model takes %d input columns but %s gives %d (%s);%s"
            % (expected, source, len(names), ", ".join(names), hint)
        )
    extra = [str(c) for c in sample.columns if c not in names and c != target]
    if extra:
        print("note: sample column(s) not used by the model, ignored: %s" % ", ".join(extra))
    return names


def derive_schema_parts(model, facts, sample, args, from_example=False):
    """-> (task, the sample's inputs as the service builds request frames, schema features, schema target).
    from_example: the rows are an MLflow input example, completed by the signature and the model's encoders."""
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except Exception as exc:
        raise ImportRefused("the model is not fitted (%s); fit it before saving" % exc) from exc
    try:
        task = task_of(model)
    except DerivationError as exc:
        raise ImportRefused(str(exc)) from exc
    if args.target and args.target not in sample.columns and not from_example:
        print("note: --target %s is not a column of the sample; it only names the prediction" % args.target)
    names = feature_names(model, facts, sample, args.target)
    try:
        signature = mlflow_signature_types((facts or {}).get("inputs"))
        types = parse_feature_types(getattr(args, "feature_type", None))
    except DerivationError as exc:
        raise ImportRefused(str(exc)) from exc
    try:
        frame, features = describe_features(
            sample[names], log=_type_notes, types=types, model=model, signature=signature
        )
    except DerivationError as exc:
        raise ImportRefused("--sample: %s" % exc) from exc
    empty = [n for n in names if n not in [f["name"] for f in features]]
    if empty:
        raise ImportRefused(
            "--sample: column(s) %s have no values; the sample needs values for every input" % ", ".join(empty)
        )
    if from_example:
        optional = set(c["name"] for c in (facts or {}).get("inputs") or [] if c.get("required") is False)
        known = model_categories(model)
        for feature in features:
            if feature["name"] in optional:
                feature["nullable"] = True
            if feature["type"] == "category" and feature["name"] in known:
                feature["categories"] = sorted(set(feature["categories"]) | set(known[feature["name"]]))
    target = target_schema(model, args.target or "prediction", task)
    return task, frame, features, target


def _type_notes(line):
    # describe_features' notes on how a column was typed (and on columns dropped or suspiciously many categories).
    print(line)


def reference_frame(plain, features):
    """The sample as a notebook would hand it to the model: plain pandas' dtypes, and the date and date-time columns
    parsed by pandas (pd.to_datetime), which the model was fitted on as datetime64."""
    frame = plain[[f["name"] for f in features]].copy()
    for f in features:
        if f["type"] in ("date", "datetime"):
            try:
                frame[f["name"]] = pd.to_datetime(frame[f["name"]])
            except (ValueError, TypeError):  # mixed offsets: the instants, in UTC, as the service reads them
                frame[f["name"]] = pd.to_datetime(frame[f["name"]], utc=True).dt.tz_localize(None)
    return frame


def current_name(model_dir):
    """The name the model/ being replaced goes by (an import keeps it), else the project's."""
    try:
        with open(os.path.join(model_dir, "schema.json"), encoding="utf-8") as fh:
            return json.load(fh)["model"]["name"]
    except (OSError, ValueError, KeyError):
        return MODEL_NAME


def import_schema(model, task, features, target, args, model_dir, kind, facts, written_by):
    """-> make_schema(fields) for write_model_folder: the whole schema.json around the fields that describe the
    written files, saying where the model came from and which scikit-learn wrote and re-saved it."""

    def make_schema(fields):
        described = {"name": args.name or current_name(model_dir), "task": task, "estimator": estimator_name(model)}
        described.update(fields)
        described.update(
            {
                "source": "import",
                "importedFrom": os.path.basename(os.path.normpath(args.path)),
                "importedAs": kind if facts is None else "mlflow-" + kind,
                "trainedAt": utc_now(),
                "sklearnVersion": sklearn.__version__,
                "writtenBySklearn": written_by or sklearn.__version__,
                "metrics": {},
            }
        )
        return {
            "schemaVersion": schema_version(features, target),
            "model": described,
            "features": features,
            "target": target,
            "limits": dict(LIMITS),
        }

    return make_schema
