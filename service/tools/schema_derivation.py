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

from serving import artifact, bundle, settings
from serving.bundle import column_specs, json_label
from serving.formats import MAX_YEAR, MIN_YEAR, NANOS_PER_DAY, format_date, format_datetime, parse_date
from serving.onnx_runtime import ARTIFACT as ONNX_ARTIFACT
from serving.prediction import frame_of
from serving.trust import TrustError
from serving.validation import BOOLEAN, CATEGORY, DATE, DATETIME, FEATURE_TYPES, INTEGER, NUMBER, TEXT

from . import onnx_conversion, own_code
from .errors import DerivationError
from .vouch import VouchRefused, refuse_dangerous, vouch

SCHEMA_NAME = "schema.json"
# The newest schemaVersion (the service reads it and version 1); schema_version() says which one a schema needs.
SCHEMA_VERSION = bundle.SCHEMA_VERSION
MAX_LISTED_CATEGORIES = 100
# A text feature accepts up to this many characters (more when the data has longer values): a bound that keeps one
# value from filling the request, far above what a review or a description needs.
TEXT_MAX_LENGTH = 10000
# An MLflow signature's column types (mlflow.types.DataType) -> feature types. "string" says nothing about whether the
# strings are categories or free text, so it decides nothing: the model or --feature-type must.
MLFLOW_TYPES = {
    "double": NUMBER,
    "float": NUMBER,
    "long": INTEGER,
    "integer": INTEGER,
    "boolean": BOOLEAN,
    "datetime": DATETIME,
    "string": None,
}
_TRUE = frozenset(["true", "1", "yes"])
_FALSE = frozenset(["false", "0", "no"])


def mlflow_signature_types(inputs):
    """An MLflow signature's inputs ([{"name": ..., "type": ...}], MLmodel's signature.inputs) -> {column: feature type}
    for describe_features(signature=...), leaving out the columns it cannot decide ("string"). A type the API cannot
    express (binary, arrays, objects) is a DerivationError naming the column."""
    types = {}
    for column in inputs or []:
        name, kind = column.get("name"), column.get("type")
        if name is None:
            continue
        if kind not in MLFLOW_TYPES:
            raise DerivationError(
                "the MLflow signature types column %r as %r, which the API cannot express (it takes numbers, "
                "strings, booleans and date-times)" % (name, kind)
            )
        if MLFLOW_TYPES[kind] is not None:
            types[str(name)] = MLFLOW_TYPES[kind]
    return types


def parse_feature_types(pairs):
    """["name=type", ...] (--feature-type, repeatable; or one "a=text,b=date") -> {name: type}, or DerivationError."""
    types = {}
    for item in pairs or []:
        for pair in str(item).split(","):
            if not pair.strip():
                continue
            name, sep, kind = pair.strip().rpartition("=")
            if not sep or not name or kind not in FEATURE_TYPES:
                raise DerivationError(
                    "--feature-type %s: give NAME=TYPE, TYPE one of %s" % (pair.strip(), ", ".join(FEATURE_TYPES))
                )
            types[name] = kind
    return types


def describe_features(features, log=print, types=None, model=None, signature=None):
    """DataFrame -> (frame as the service builds it, schema feature list), column order preserved.

    What each column is, first match wins (docs/contract.md, "Feature types"):
      1. `types` {column: feature type}: what the user said (--feature-type, parse_feature_types; an answers file's
         featureTypes);
      2. the model, when given: what its preprocessing does with the column (column_types_from_model): the columns
         a text vectorizer reads are text, those an encoder reads categories (with the encoder's categories);
      3. `signature` {column: feature type}: the storage types a model's metadata declares, an MLflow signature's
         (mlflow_signature_types); after the model, which knows that a "long" column it one-hot encodes is a
         category;
      4. the column's dtype: bool is boolean, datetime64 a date-time (a date when every value is at midnight),
         pandas category a category (in its categories' order), whole numbers integer, other numbers number;
      5. strings: with a model, a column nothing above types is refused, listing each such column with the type
         its values suggest and the --feature-type that sets it (a closed list of the sample's strings would reject
         every real request of free text); without a model (train.py, which builds its pipeline from the schema
         afterwards) they are categories.
    The data gives only nullability, categories the model does not list, ranges and the text length limit.

    The frame is built by serving.prediction.frame_of from the request rows the data makes, the very code that builds
    request frames, each column in the dtype recorded as features[].dtype; so a model fitted or checked on it sees
    what it will see in service.

    types=None describes features as schemaVersion 1 did (numbers, integers and string categories only; booleans
    become the strings "False"/"True"; no dtype), for a train.py written before version 2, which writes
    schemaVersion 1. Pass types={} for inference without overrides.
    """
    if types is None:
        return _describe_v1(features, log)
    signature = signature or {}
    unknown = sorted(set(types) - set(str(c) for c in features.columns))
    if unknown:
        raise DerivationError("a type is given for column(s) the data does not have: %s" % ", ".join(unknown))
    from_model = column_types_from_model(model) if model is not None else {}
    columns, described, undecided = [], [], []
    for name in features.columns:
        column = features[name]
        if not isinstance(name, str):
            raise DerivationError("column names must be strings; got %r" % (name,))
        if column.isna().all():
            log("note: dropped column %r: it has no values" % (name,))
            continue
        evidence = from_model.get(name, {})
        if name in types:
            kind, why = types[name], "given"
        elif evidence:
            kind, why = evidence["type"], evidence["by"]
        elif signature.get(name):
            kind, why = signature[name], "the MLflow signature"
        else:
            kind, why = _type_from_dtype(column), "its dtype"
        if kind is None:
            if model is not None:
                undecided.append((name, column))
                continue
            kind = CATEGORY
        entry, values = _describe_column(name, column, kind, evidence)
        if why != "its dtype":
            log("note: column %r is %s (%s)" % (name, _kind_words(entry), why))
        if entry["type"] == CATEGORY and len(entry["categories"]) > MAX_LISTED_CATEGORIES:
            # Every category is listed in schema.json, and any other value is refused: an ID column, dates or free
            # text rarely belong there. Say what the values look like, with the option that types them so.
            guess = _guess(column) if why == "its dtype" else CATEGORY
            log(
                "note: column %r has %d distinct values, each of them a category every request must match; is it "
                "really a feature? %s"
                % (
                    name,
                    len(entry["categories"]),
                    "They look like %s: --feature-type %s=%s" % (_plural(guess), name, guess)
                    if guess != CATEGORY
                    else "(free text is --feature-type %s=text)" % name,
                )
            )
        described.append(entry)
        columns.append(values)
    if undecided:
        raise DerivationError(
            "the model does not say what these columns of strings are, and making each a closed list of the sample's "
            "values would refuse every other value: %s. Give each its type with --feature-type NAME=TYPE (TYPE: "
            "category, text, boolean, date or datetime)" % "; ".join(_suggestion(n, c) for n, c in undecided)
        )
    if not described:
        raise DerivationError("no feature columns left: the data has nothing but the target")
    names = [f["name"] for f in described]
    rows = [dict(zip(names, values)) for values in zip(*columns)]
    frame = frame_of(column_specs(described), rows)
    frame.index = features.index
    return frame, described


def _kind_words(entry):
    if entry["type"] == CATEGORY and entry["categories"] and type(entry["categories"][0]) is int:
        return "an integer-coded category"
    return {
        TEXT: "text",
        DATETIME: "a date-time",
        INTEGER: "an integer",
    }.get(entry["type"], "a " + entry["type"])


def _type_from_dtype(column):
    """The feature type a column's dtype says, or None for strings (and objects) it cannot decide."""
    # bool before numeric: pandas counts booleans as numbers, the API does not.
    if ptypes.is_bool_dtype(column):
        return BOOLEAN
    if isinstance(column.dtype, pd.CategoricalDtype):
        return CATEGORY
    if ptypes.is_datetime64_any_dtype(column):
        return DATE if _all_midnight(column) else DATETIME
    if ptypes.is_integer_dtype(column):
        return INTEGER
    if ptypes.is_float_dtype(column):
        return NUMBER
    if ptypes.is_object_dtype(column) or ptypes.is_string_dtype(column):
        present = column.dropna()
        if len(present) and all(isinstance(v, (bool, np.bool_)) for v in present):
            return BOOLEAN  # a bool column with gaps, as pandas reads one: object
        return None
    raise DerivationError(
        "column %r has dtype %s, which the API cannot express; convert it to numbers, strings, booleans or "
        "datetime64, or drop it" % (column.name, column.dtype)
    )


def _all_midnight(column):
    if getattr(column.dt, "tz", None) is not None:
        return False
    present = column.dropna()
    return bool(len(present)) and bool((present == present.dt.normalize()).all())


def _describe_column(name, column, kind, evidence):
    """-> (schema entry, the column's values as request JSON: None for missing)."""
    entry = {"name": name, "type": kind, "nullable": bool(column.isna().any())}
    present = column.dropna()
    if kind in (NUMBER, INTEGER):
        numbers = _numbers(name, column, kind)
        entry["observedMin"], entry["observedMax"] = _bounds(numbers, int if kind == INTEGER else float)
        entry["dtype"] = "float64"
        return entry, numbers
    if kind == TEXT:
        values = [None if pd.isna(v) else str(v) for v in column.astype(object)]
        longest = max(len(v) for v in values if v is not None)
        entry["maxLength"] = max(TEXT_MAX_LENGTH, longest)
        entry["dtype"] = "object"
        return entry, values
    if kind == BOOLEAN:
        values = [None if pd.isna(v) else _boolean(name, v) for v in column.astype(object)]
        entry["dtype"] = "object" if entry["nullable"] else "bool"
        return entry, values
    if kind in (DATE, DATETIME):
        return _describe_dates(name, column, kind, entry)
    # a category: of strings, or of whole numbers (an integer-coded category)
    dtype_categories = list(column.dtype.categories) if isinstance(column.dtype, pd.CategoricalDtype) else None
    listed = evidence.get("categories")
    coded = _whole_numbers(dtype_categories if dtype_categories is not None else (listed or present))
    if coded:
        values = [None if pd.isna(v) else int(v) for v in column.astype(object)]
        entry["dtype"] = "float64" if entry["nullable"] else "int64"
    else:
        values = [None if pd.isna(v) else str(v) for v in column.astype(object)]
        entry["dtype"] = "object"
        listed = [str(c) for c in listed] if listed is not None else None
    seen = sorted(set(v for v in values if v is not None))
    if dtype_categories is not None:
        # The dtype's own order: a model may use the codes (LightGBM, HistGradientBoosting from_dtype).
        entry["categories"] = [int(c) if coded else str(c) for c in dtype_categories]
        entry["dtype"] = "category"
    elif listed is not None:
        # The model's categories, and any value of the data it lacks (an encoder that ignores unknown values).
        entry["categories"] = sorted(set(listed) | set(seen))
    else:
        entry["categories"] = seen
    entry["dtype"] = entry.pop("dtype")  # last, as in every other feature
    return entry, values


def _numbers(name, column, kind):
    try:
        numbers = pd.to_numeric(column.astype(object), errors="raise")
    except (ValueError, TypeError) as exc:
        raise DerivationError("column %r is typed %s but has values that are not numbers" % (name, kind)) from exc
    convert = int if kind == INTEGER else float
    out = []
    for v in numbers.astype(object):
        if pd.isna(v):
            out.append(None)
        elif kind == INTEGER and not float(v).is_integer():
            raise DerivationError("column %r is typed integer but has values that are not whole numbers" % name)
        else:
            out.append(convert(v))
    return out


def _bounds(values, convert):
    present = [v for v in values if v is not None]
    return convert(min(present)), convert(max(present))


def _boolean(name, value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise DerivationError("column %r is typed boolean but has values other than true/false (and 1/0, yes/no)" % (name,))


def _whole_numbers(values):
    """Whether a list of category values are all numbers (not booleans) with whole values: an integer-coded category."""
    values = [v for v in values if not (isinstance(v, float) and np.isnan(v))]
    return bool(values) and all(
        isinstance(v, (int, float, np.integer, np.floating))
        and not isinstance(v, (bool, np.bool_))
        and float(v).is_integer()
        for v in values
    )


def _pandas_datetime_dtype():
    """What pandas makes of date strings (datetime64[ns] before pandas 3, [us] since): what a notebook's
    pd.to_datetime gave the model."""
    return str(pd.to_datetime(pd.Series(["2000-01-01"])).dtype)


def _describe_dates(name, column, kind, entry):
    if ptypes.is_datetime64_any_dtype(column):
        dtype = str(column.dtype)
        zone = getattr(column.dt, "tz", None)
        naive = column.dt.tz_convert("UTC").dt.tz_localize(None) if zone is not None else column
    else:
        # Strings: with an offset converted to UTC, without one taken as they are (docs/contract.md).
        try:
            naive = pd.to_datetime(column.astype(object), utc=True).dt.tz_localize(None)
        except (ValueError, TypeError, OverflowError) as exc:
            raise DerivationError(
                "column %r is typed %s but has values that are not ISO 8601 dates (%s)" % (name, kind, exc)
            ) from exc
        dtype, zone = _pandas_datetime_dtype(), None
    try:
        nanos = [_nanos(v) for v in naive.astype(object)]
    except (OverflowError, ValueError) as exc:
        raise DerivationError(
            "column %r has dates outside the years %d to %d, which the API accepts" % (name, MIN_YEAR, MAX_YEAR)
        ) from exc
    present = [v for v in nanos if v is not None]
    low, high = min(present), max(present)
    for edge in (low, high):
        if not MIN_YEAR <= int(format_date(edge)[:4]) <= MAX_YEAR:
            raise DerivationError(
                "column %r has dates outside the years %d to %d, which the API accepts" % (name, MIN_YEAR, MAX_YEAR)
            )
    if kind == DATE:
        if any(v % NANOS_PER_DAY for v in present):
            raise DerivationError("column %r is typed date but has times of day; type it datetime" % name)
        values = [None if v is None else format_date(v) for v in nanos]
    else:
        values = [None if v is None else format_datetime(v, zone is not None) for v in nanos]
    entry["observedMin"], entry["observedMax"] = min(v for v in values if v), max(v for v in values if v)
    entry["dtype"] = dtype
    return entry, values


def _nanos(value):
    """A timestamp (naive, UTC) -> nanoseconds since the epoch, None for NaT; OverflowError beyond nanoseconds."""
    return None if pd.isna(value) else int(pd.Timestamp(value).value)


def _guess(column):
    """What a column of strings looks like: date, boolean, datetime, text or category."""
    values = [str(v) for v in column.dropna().astype(object)]
    lowered = set(v.strip().lower() for v in values)
    if all(parse_date(v) is not None for v in values):
        return "date"
    if lowered <= (_TRUE | _FALSE):
        return "boolean"
    if _parses_as_datetimes(values):
        return "datetime"
    if len(set(values)) > 0.5 * len(values) and any(" " in v for v in values):
        return "text"
    return "category"


def _plural(kind):
    return {"datetime": "date-times", "category": "categories", "text": "text"}.get(kind, kind + "s")


def _suggestion(name, column):
    """A column of strings the model says nothing about, and what its values look like."""
    values = [str(v) for v in column.dropna().astype(object)]
    guess = _guess(column)
    return "%s (%d distinct of %d values; they look like %s: --feature-type %s=%s)" % (
        name,
        len(set(values)),
        len(values),
        _plural(guess),
        name,
        guess,
    )


def _parses_as_datetimes(values):
    try:
        pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
    except (ValueError, TypeError):
        return False
    return True


def column_types_from_model(model):
    """What a fitted model's preprocessing says about its input columns: {column: {"type", "by", ["categories"]}}.

    Read from the ColumnTransformer that receives the model's input (the model itself, or the first step of its
    Pipeline, past the steps before it that hand it a named frame: features.py's derive, a notebook's own
    RatioFeatures; the columns they add, which the request does not send, are left out): a column it hands, by name,
    to a text vectorizer (TfidfVectorizer, CountVectorizer, HashingVectorizer; alone or first in a Pipeline) is text;
    a column it hands to an encoder with fitted categories_ (OneHotEncoder,
    OrdinalEncoder, TargetEncoder), alone or after SimpleImputers, is a category with the encoder's categories (NaN
    and a constant imputer's fill value, which stand for null, left out; booleans make a boolean). A column read by
    both is text. Anything else says nothing."""
    front = model
    while hasattr(front, "steps"):
        leading = [step for _name, step in front.steps]
        # A step whose successor was fitted on named columns passed the frame on (derived features add columns and
        # keep the request's): the ColumnTransformer after it still says what the request's columns are. If such a
        # step changed a column's values, the import's proof on the sample rows refuses, so nothing wrong is served.
        while (
            len(leading) > 1 and not hasattr(leading[0], "transformers_") and hasattr(leading[1], "feature_names_in_")
        ):
            leading = leading[1:]
        front = leading[0]
    if not hasattr(front, "transformers_") or not hasattr(front, "feature_names_in_"):
        return {}
    names = [str(n) for n in front.feature_names_in_]
    sent = getattr(model, "feature_names_in_", None)
    found = _types_of_columns(front, names)
    return found if sent is None else {c: t for c, t in found.items() if c in set(str(n) for n in sent)}


def _types_of_columns(front, names):
    found = {}
    for step_name, transformer, columns in front.transformers_:
        if isinstance(transformer, str):  # "drop", "passthrough"
            continue
        chain = [step for _n, step in transformer.steps] if hasattr(transformer, "steps") else [transformer]
        where = "ColumnTransformer step %r" % step_name
        if isinstance(columns, str) and any(_is_vectorizer(step) for step in chain):
            vectorizer = next(step for step in chain if _is_vectorizer(step))
            found[columns] = {"type": TEXT, "by": "the model's %s, %s" % (type(vectorizer).__name__, where)}
            continue
        encoder, fills = None, []
        for step in chain:
            if hasattr(step, "categories_"):
                encoder = step
                break
            if type(step).__name__ != "SimpleImputer" or getattr(step, "add_indicator", False):
                break
            if getattr(step, "strategy", None) == "constant":
                fills.append(step.fill_value)
        if encoder is None:
            continue
        selected = _column_names(columns, names)
        if selected is None or len(selected) != len(encoder.categories_):
            continue
        for column, categories in zip(selected, encoder.categories_):
            if found.get(column, {}).get("type") == TEXT:
                continue
            listed = [json_label(c) for c in categories if not _is_missing(c) and not any(_same(c, f) for f in fills)]
            by = "the model's %s, %s" % (type(encoder).__name__, where)
            if listed and all(type(c) is bool for c in listed):
                found[column] = {"type": BOOLEAN, "by": by}
            else:
                found[column] = {"type": CATEGORY, "categories": listed, "by": by}
    return found


def _is_vectorizer(step):
    return hasattr(step, "build_analyzer") and hasattr(step, "transform")


def _is_missing(value):
    return value is None or (isinstance(value, (float, np.floating)) and np.isnan(value))


def _same(a, b):
    return type(json_label(a)) is type(json_label(b)) and json_label(a) == json_label(b)


def _column_names(columns, names):
    """A ColumnTransformer's column selection -> column names, or None when it cannot be read."""
    if isinstance(columns, str):
        return [columns]
    if isinstance(columns, slice):
        return names[columns]
    selected = list(np.asarray(columns).ravel()) if not isinstance(columns, list) else list(columns)
    if selected and all(isinstance(c, (bool, np.bool_)) for c in selected):
        return [n for n, keep in zip(names, selected) if keep]
    if all(isinstance(c, (int, np.integer)) for c in selected):
        return [names[int(c)] for c in selected]
    if all(isinstance(c, str) for c in selected):
        return selected
    return None


def _describe_v1(features, log):
    """describe_features as schemaVersion 1 did (see describe_features)."""
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
    """A frame as describe_features builds it -> the JSON request rows a client would send (None for missing)."""
    columns = []
    for f in features:
        column = frame[f["name"]]
        kind = f["type"]
        if kind in (DATE, DATETIME):
            aware = getattr(column.dt, "tz", None) is not None
            utc = column.dt.tz_convert("UTC").dt.tz_localize(None) if aware else column
            nanos = [_nanos(v) for v in utc.astype(object)]
            fmt = format_date if kind == DATE else (lambda v, aware=aware: format_datetime(v, aware))
            columns.append([None if v is None else fmt(v) for v in nanos])
            continue
        convert = _JSON_VALUE.get(kind, str)
        if kind == CATEGORY and f["categories"] and type(f["categories"][0]) is int:
            convert = int
        columns.append([None if _is_missing_value(v) else convert(v) for v in column.astype(object)])
    names = [f["name"] for f in features]
    return [dict(zip(names, values)) for values in zip(*columns)]


_JSON_VALUE = {NUMBER: float, INTEGER: int, BOOLEAN: bool}


def _is_missing_value(value):
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value))


def task_of(model):
    """The model's task, from the fitted estimator itself (the final step of a Pipeline): 'classification',
    'regression', 'clustering' or 'outlier-detection' (docs/contract.md, "Answers")."""
    from sklearn.base import is_classifier, is_regressor

    final = model.steps[-1][1] if hasattr(model, "steps") else model
    name = type(final).__name__
    if is_classifier(model):
        if not hasattr(model, "classes_"):
            raise DerivationError("%s is a classifier without classes_ (is it fitted?)" % name)
        return "classification"
    if is_regressor(model):
        return "regression"
    kind = _estimator_kind(model)
    if kind == "clusterer":
        if not hasattr(model, "predict"):
            raise DerivationError(
                "%s is a clustering model that cannot assign new rows to its clusters (it has no predict; "
                "it only labels the rows it was fitted on): serve one that predicts, such as KMeans" % name
            )
        return "clustering"
    if kind == "outlier_detector":
        if not hasattr(model, "predict") or not hasattr(model, "decision_function"):
            hint = " (LocalOutlierFactor predicts new rows with novelty=True)" if name == "LocalOutlierFactor" else ""
            raise DerivationError(
                "%s is an outlier detector that cannot score new rows (it needs predict and decision_function)%s"
                % (name, hint)
            )
        return "outlier-detection"
    raise DerivationError(
        "%s is not a scikit-learn classifier, regressor, clustering model or outlier detector: the last step of a "
        "pipeline must be one (a transformer alone cannot be served)" % name
    )


def _estimator_kind(model):
    """'clusterer', 'outlier_detector' or None, by scikit-learn's tags (1.6+) or its older _estimator_type."""
    try:
        from sklearn.base import is_clusterer, is_outlier_detector
    except ImportError:  # scikit-learn < 1.6
        final = model.steps[-1][1] if hasattr(model, "steps") else model
        return getattr(final, "_estimator_type", None)
    if is_clusterer(model):
        return "clusterer"
    if is_outlier_detector(model):
        return "outlier_detector"
    return None


def target_schema(model, target_name, task):
    """schema.json's target for `model`: the labels in their JSON type, and what the answers carry."""
    if task == "classification":
        # predict_proba's (and decision_function's) columns follow classes_; the API's "classes" are in that order.
        if hasattr(model, "predict_proba"):
            outputs = ["probabilities"]
        elif hasattr(model, "decision_function"):
            outputs = ["scores"]
        else:
            outputs = []
        classes = [json_label(c) for c in model.classes_]
        return {"name": target_name, "type": "category", "classes": classes, "outputs": outputs}
    if task == "clustering":
        target = {"name": target_name, "type": "cluster"}
        count = _cluster_count(model)
        if count:
            target["clusters"] = count
        return target
    if task == "outlier-detection":
        return {"name": target_name, "type": "outlier", "outputs": ["scores"]}
    return {"name": target_name, "type": "number"}


def _cluster_count(model):
    """How many clusters the model assigns rows to (its centres, else the clusters of the rows it was fitted on)."""
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    centers = getattr(final, "cluster_centers_", None)
    if centers is not None:
        return int(len(centers))
    labels = getattr(final, "labels_", None)
    if labels is not None:
        return int(len(set(int(v) for v in np.asarray(labels).ravel() if int(v) >= 0)))
    return None


def schema_version(features, target):
    """The lowest schemaVersion that can say this, which train.py and the importer write: 1 when every feature is a
    number, an integer or a category of strings and the model a regressor or a classifier with string labels that
    answers probabilities (what version 1 could say; the extra dtype and outputs members are ignored by its
    readers), else 2. So a service or gateway from before version 2 (an application.py a user kept, a gateway
    already deployed) keeps reading what it can serve, and refuses by version what it cannot."""
    plain = all(
        f["type"] in ("number", "integer")
        or (f["type"] == "category" and all(type(c) is str for c in f["categories"]) and f.get("dtype") != "category")
        for f in features
    )
    if target.get("type") == "number":
        answers = True
    else:
        answers = (
            target.get("type") == "category"
            and target.get("outputs", ["probabilities"]) == ["probabilities"]
            and all(type(c) is str for c in target.get("classes", []))
        )
    return 1 if plain and answers else SCHEMA_VERSION


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
    directory,
    model,
    fmt,
    make_schema,
    runtime=None,
    proof_frame=None,
    proof_rows="held-out rows",
    trusted_code=None,
    log=print,
):
    """Write the artifact in `fmt` (and model.onnx for the onnx runtime), then schema.json = make_schema(model_fields),
    each atomically; return the schema.

    model_fields are the schema's model.* entries that describe the files (artifact, format, sha256, version,
    runtime, onnx, and ownCode when the model runs code of the project: see tools/own_code.py); make_schema builds the
    whole schema around them. trusted_code lists the project's modules the caller vouches for (train.py's
    TRUSTED_CODE): a model that runs code of another one is refused. None: the caller loaded the model with the user's
    explicit trust already (the importer). What loading the artifact may run is not in schema.json: the caller
    (train.py, or an import the user vouched for with its flags) vouches for this artifact in the project's trust.json
    (tools/vouch.py), before the files are renamed into place, so the folder is at every moment either the old model,
    trusted before, or the new one, trusted now. A model holding a type that runs code is refused before anything is
    written. runtime defaults to the project's
    (serving/settings.py). For onnx the pipeline is converted and proven on `proof_frame` (a frame as
    describe_features builds it; `proof_rows` says what its rows are) before anything is written: a pipeline that
    cannot be converted, or answers differently, raises onnx_conversion.ConversionError and leaves the folder as it was.
    A crash before the renames leaves the previous files untouched; between the renames the service would refuse to
    start (sha256 mismatch) rather than serve a model that does not match its schema. Artifacts of another format or
    runtime left from before are removed last.
    """
    runtime = runtime or settings.RUNTIME
    code = own_code.vouch(model, trusted_code)
    blob, trusted = artifact.dumps(model, fmt)
    sha256 = hashlib.sha256(blob).hexdigest()
    name = artifact.ARTIFACT_NAMES[fmt]
    fields = {"artifact": name, "format": fmt, "sha256": sha256, "version": sha256[:12], "runtime": runtime}
    try:
        refuse_dangerous(trusted)
    except VouchRefused as exc:
        raise DerivationError(str(exc)) from None
    if code:
        fields["ownCode"] = code
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
