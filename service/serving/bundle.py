"""The model bundle: model/schema.json and the artifact it names, checked and loaded once per process.

The artifact's sha256 must match schema.json, so a stale or corrupted file is refused rather than served against the
wrong contract. That only proves the two files agree: whoever can write model/ can write both. So what may run when
the artifact loads is not model/'s to say. schema.json must declare the format (skops or joblib; nothing is assumed)
and the file's bytes must be in it; a joblib file (a pickle, which runs code as it loads) loads only when the
project's trust.json vouches for its exact sha256, and a skops file constructs only skops' default types plus those
trust.json lists (serving/trust.py), never a type that runs code. tools/check_bundle.py loads under the same rules.
"""

import hashlib
import json
import os
import re
import sys
from operator import itemgetter

from . import artifact, own_code, settings
from . import trust as trust_file
from .onnx_runtime import OnnxModel
from .validation import (
    BOOLEAN,
    CATEGORY,
    DATE,
    DATETIME,
    FEATURE_TYPES,
    INTEGER,
    NUMBER,
    TEXT,
    CompiledSchema,
    is_coded,
)

# What tools/ writes; the service also reads version 1 (number, integer and string category features, classifiers with
# probabilities and regressors, class labels as strings), so a model trained before version 2 keeps being served.
SCHEMA_VERSION = 2
SCHEMA_VERSIONS = (1, 2)
V1_FEATURE_TYPES = (NUMBER, INTEGER, CATEGORY)
# model.task -> target.type, and the members a row's answer may have beyond its prediction (docs/contract.md).
TASKS = {
    "classification": "category",
    "regression": "number",
    "clustering": "cluster",
    "outlier-detection": "outlier",
}
OUTPUTS = {"category": ("probabilities", "scores"), "number": (), "cluster": (), "outlier": ("scores",)}
# The dtype each feature type may be given to the model in (schema.json features[].dtype; docs/contract.md). Absent,
# numbers are float64 and categories (strings) object, as in version 1.
DTYPES = {
    NUMBER: ("float64",),
    INTEGER: ("float64",),
    CATEGORY: ("object", "category", "int64", "float64"),
    TEXT: ("object",),
    BOOLEAN: ("bool", "object"),
}
DATETIME_DTYPE = re.compile(r"datetime64\[(s|ms|us|ns)(?:, (.+))?\]")
# For these final estimators predict() is the argmax of predict_proba() (up to exact ties), so one
# predict_proba() call answers both: for a random forest that halves the work. Any other estimator gets both calls.
_ARGMAX_ESTIMATORS = frozenset(
    [
        "RandomForestClassifier",
        "ExtraTreesClassifier",
        "DecisionTreeClassifier",
        "GradientBoostingClassifier",
        "HistGradientBoostingClassifier",
        "LogisticRegression",
    ]
)


RUNTIMES = ("sklearn", "onnx")
_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # a top-level module of the project, never a path


def labels_from_proba(model):
    """Whether predict() is the argmax of predict_proba() for this model (an OnnxModel knows from its conversion)."""
    known = getattr(model, "labels_from_proba", None)
    if known is not None:
        return bool(known)
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    return type(final).__name__ in _ARGMAX_ESTIMATORS and type(final).__module__.startswith("sklearn.")


# What GET /v1/schema tells a caller about the model: what it is called, which version answers and what it predicts.
# Never how it was made (library versions, training metrics and times, the artifact's format and digest): that is
# for the people who deploy it, in model/schema.json, not for whoever can reach the API.
PUBLIC_MODEL_FIELDS = ("name", "version", "task")
PUBLIC_SCHEMA_FIELDS = ("schemaVersion", "model", "features", "target", "limits")


def public_schema(schema):
    """The part of schema.json callers need (features, types, limits, classes), in the file's order."""
    public = {}
    for key in PUBLIC_SCHEMA_FIELDS:
        if key == "model":
            public[key] = {k: schema["model"][k] for k in PUBLIC_MODEL_FIELDS if k in schema["model"]}
        elif key in schema:
            public[key] = schema[key]
    return public


def json_label(value):
    """A class label of the model (numpy or Python) as JSON has it: integers stay integers, booleans booleans, strings
    strings (numpy's str_ too); a label of another kind (a numpy datetime, say) becomes its string."""
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()  # numpy scalars -> Python's
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return float(value)
    return str(value)


def same_labels(a, b):
    """Equal lists of labels, types included (1 and "1", 1 and True are different labels)."""
    return len(a) == len(b) and all(type(x) is type(y) and x == y for x, y in zip(a, b))


def task_of_schema(schema):
    target_type = schema["target"].get("type")
    return schema["model"].get("task") or ("classification" if target_type == CATEGORY else "regression")


def outputs_of(target):
    """The per-row members of an answer beyond predictions: target.outputs, or what version 1 implied."""
    if "outputs" in target:
        return tuple(target["outputs"])
    return {"category": ("probabilities",), "outlier": ("scores",)}.get(target.get("type"), ())


def column_specs(features):
    """(name, column getter, feature type, nullable, dtype, categories) per feature, in schema (= training) order:
    how prediction.build_frame builds each column of the model's input."""
    return tuple(
        (
            f["name"],
            itemgetter(f["name"]),
            f["type"],
            bool(f.get("nullable")),
            f.get("dtype") or default_dtype(f),
            tuple(f.get("categories") or ()),
        )
        for f in features
    )


def default_dtype(feature):
    """A feature's dtype when schema.json does not record one: version 1's (float64 numbers, object categories), and
    what pandas makes of the other types' values (docs/contract.md, "Feature types")."""
    kind, nullable = feature["type"], bool(feature.get("nullable"))
    if kind == CATEGORY and is_coded(feature):
        return "float64" if nullable else "int64"
    if kind == BOOLEAN:
        return "object" if nullable else "bool"
    if kind in (DATE, DATETIME):
        return "datetime64[ns]"
    return "object" if kind in (CATEGORY, TEXT) else "float64"


class ModelError(RuntimeError):
    """The model folder cannot be served; the message says which file and what to do."""


class ModelBundle(object):
    """Everything loaded once per process: the fitted pipeline, its schema and precomputed helpers."""

    def __init__(self, model, schema, schema_bytes):
        self.model = model
        self.schema = schema
        self.schema_bytes = schema_bytes
        self.public_schema_bytes = json.dumps(public_schema(schema), separators=(",", ":"), allow_nan=False).encode()
        self.name = str(schema["model"]["name"])
        self.version = str(schema["model"]["version"])
        self.runtime = schema["model"].get("runtime") or "sklearn"
        self.compiled = CompiledSchema(schema)
        self.feature_names = self.compiled.names
        self.columns = column_specs(schema["features"])
        target = schema["target"]
        self.task = task_of_schema(schema)
        self.outputs = outputs_of(target)
        self.classes = list(target["classes"]) if target.get("type") == CATEGORY else None
        self.class_lookup = None
        self.labels_from_proba = False
        if self.classes is not None:
            # Version 1 wrote every label as a string; version 2 keeps the model's JSON type (1 stays 1, True true).
            to_json = str if schema.get("schemaVersion") == 1 else json_label
            model_classes = [to_json(c) for c in getattr(model, "classes_", [])]
            if not same_labels(model_classes, self.classes):
                raise ModelError("schema.json target.classes do not match the model's classes_; re-run `make train`")
            self.class_lookup = dict(zip(model.classes_, self.classes))
            self.labels_from_proba = "probabilities" in self.outputs and labels_from_proba(model)

    def model_info(self):
        return {"name": self.name, "version": self.version}


def check_schema(schema, path):
    """Fail fast, with a message that names the file, on a schema.json this service cannot honour."""

    def bad(why):
        return ModelError("%s is not a valid model schema: %s" % (path, why))

    if not isinstance(schema, dict) or schema.get("schemaVersion") not in SCHEMA_VERSIONS:
        raise bad("schemaVersion must be %s" % " or ".join(str(v) for v in SCHEMA_VERSIONS))
    version = schema["schemaVersion"]
    for key in ("model", "features", "target", "limits"):
        if key not in schema:
            raise bad("missing %r" % key)
    for key in ("name", "version", "sha256"):
        if not schema["model"].get(key):
            raise bad("missing model.%s" % key)
    features = schema["features"]
    if not isinstance(features, list) or not features:
        raise bad("features must be a non-empty list")
    types = V1_FEATURE_TYPES if version == 1 else FEATURE_TYPES
    for f in features:
        problem = _feature_problem(f, types, version)
        if problem:
            raise bad("feature %r %s" % (f.get("name"), problem))
    own = schema["model"].get("ownCode")
    if own is not None and not (
        isinstance(own, dict) and all(_MODULE_NAME.match(str(k)) and isinstance(v, str) for k, v in own.items())
    ):
        raise bad("model.ownCode must map the project's module names to the sha256 of their code")
    target = schema["target"]
    task = task_of_schema(schema)
    if task not in TASKS or (version == 1 and task not in ("classification", "regression")):
        raise bad("model.task %r is not one of %s" % (task, ", ".join(TASKS if version > 1 else list(TASKS)[:2])))
    if target.get("type") != TASKS[task]:
        raise bad("a %s model needs a target of type %r" % (task, TASKS[task]))
    if target.get("type") == CATEGORY and not target.get("classes"):
        raise bad("a category target needs classes")
    unknown = [o for o in target.get("outputs", ()) if o not in OUTPUTS[target["type"]]]
    if unknown or not isinstance(target.get("outputs", ()), (list, tuple)):
        raise bad(
            "target.outputs of a %s target may only name %s" % (target["type"], OUTPUTS[target["type"]] or "none")
        )
    for key in ("maxRows", "maxBodyBytes"):
        value = schema["limits"].get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad("limits.%s must be a positive integer" % key)


def _feature_problem(f, types, version):
    """Why one feature entry cannot be served, or None."""
    kind = f.get("type")
    if kind not in types:
        return "has unknown type %r (schemaVersion %d knows %s)" % (kind, version, ", ".join(types))
    if kind == CATEGORY:
        listed = f.get("categories")
        if not listed:
            return "is a category feature without categories"
        if not (all(type(c) is str for c in listed) or (version > 1 and is_coded(f))):
            return "must list its categories as strings%s" % ("" if version == 1 else " or as whole numbers")
    if kind == TEXT:
        limit = f.get("maxLength")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            return "is a text feature without a positive whole maxLength"
    dtype = f.get("dtype")
    if dtype is None:
        return None
    if kind in (DATE, DATETIME):
        return (
            None
            if DATETIME_DTYPE.fullmatch(str(dtype))
            else "has dtype %r; a %s is a datetime64 column" % (dtype, kind)
        )
    if dtype not in DTYPES[kind]:
        return "has dtype %r; a %s feature is given to the model as %s" % (dtype, kind, " or ".join(DTYPES[kind]))
    if kind == CATEGORY and (dtype in ("int64", "float64")) != is_coded(f):
        return "has dtype %r, which does not fit its categories" % dtype
    return None


def _checked(model_dir, name, expected, what):
    """The bytes of model_dir/name, refused unless their sha256 is `expected` (from schema.json)."""
    path = os.path.join(model_dir, os.path.basename(name))  # basename: schema.json may only name a file in model_dir
    blob = _read(path, what)
    digest = hashlib.sha256(blob).hexdigest()
    if digest != str(expected).lower():
        raise ModelError(
            "refusing to load %s: its sha256 is %s but schema.json expects %s. The artifact and schema.json are out "
            "of sync: deploy both files from the same `make train` run" % (path, digest, str(expected).lower())
        )
    return path, blob


def _read(path, what):
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise ModelError("cannot read %s (%s): %s" % (path, exc.strerror or exc, what)) from exc


def code_dir():
    """model_code/: the user's own modules the model refers to by name (tools/import_model.py --code put them there);
    MODEL_CODE_DIR while an import proves a model with its staged code."""
    return os.environ.get("MODEL_CODE_DIR") or settings.default_code_dir()


def _importable(folder):
    """The user's modules import by the names the model was saved with, after every installed one (no shadowing)."""
    if os.path.isdir(folder) and folder not in sys.path:
        sys.path.append(folder)


def load_model(model_dir, trust=None):
    """Load and check model_dir/schema.json and the artifact it names; return a ModelBundle.

    trust: a serving.trust.Trust (tests); default the project's trust.json.
    Raises ModelError with a clear message when a file is missing, the schema is invalid, the artifact's sha256
    differs from schema.json's, its format is not declared or not what its bytes are, nobody vouched for what loading
    it would run, the project's code the model runs (model.ownCode: features.py) has changed since it was written, or
    the model does not match the schema. (Whether the model's columns are the schema's, or what a before_predict hook
    makes of them, is checked by prediction.self_test.)
    """
    schema_path = os.path.join(model_dir, "schema.json")
    schema_bytes = _read(schema_path, "run `make train` (or `python train.py`) first, or set MODEL_DIR")
    try:
        schema = json.loads(schema_bytes.decode("utf-8"))
    except ValueError as exc:
        raise ModelError("%s is not valid JSON: %s" % (schema_path, exc)) from exc
    check_schema(schema, schema_path)

    fields = schema["model"]
    artifact_path, blob = _checked(
        model_dir,
        fields.get("artifact") or artifact.ARTIFACT_NAMES.get(fields.get("format"), "model.joblib"),
        fields["sha256"],
        "deploy it together with the schema.json that names it, or re-run `make train`",
    )
    digest = hashlib.sha256(blob).hexdigest()
    if fields["version"] != digest[:12]:
        raise ModelError(
            "%s: model.version must be the first 12 hex digits of the sha256 (%s)" % (schema_path, digest[:12])
        )
    # The project's code the model was trained with (features.py, whose derive() the pipeline runs) must be the code
    # it serves with: loading imports it, and a changed file would serve predictions nobody trained or proved.
    try:
        own_code.check(fields.get("ownCode"))
    except own_code.OwnCodeError as exc:
        raise ModelError("cannot serve %s: %s" % (artifact_path, exc)) from exc
    runtime = fields.get("runtime") or "sklearn"
    if runtime not in RUNTIMES:
        raise ModelError("%s: model.runtime %r is not one of %s" % (schema_path, runtime, ", ".join(RUNTIMES)))
    if runtime != settings.RUNTIME:
        raise ModelError(
            "%s was written for the %s runtime but this project serves with %s (serving/settings.py, "
            "set by `sci-eb upgrade --set runtime=...`): run `make train` (or `make import`) again to "
            "write the model for %s" % (schema_path, runtime, settings.RUNTIME, settings.RUNTIME)
        )
    if runtime == "onnx":
        unserved = onnx_unsupported(schema)
        if unserved:
            raise ModelError(
                "%s: the onnx runtime cannot serve %s; serve it with the sklearn runtime" % (schema_path, unserved)
            )
        compiled = fields.get("onnx") or {}
        if not compiled.get("artifact") or not compiled.get("sha256"):
            raise ModelError(
                "%s: model.onnx must name the ONNX artifact and its sha256; re-run `make train`" % schema_path
            )
        _path, onnx_blob = _checked(
            model_dir,
            compiled["artifact"],
            compiled["sha256"],
            "deploy it together with the schema.json that names it, or re-run `make train`",
        )
        target = schema["target"]
        classes = list(target["classes"]) if target.get("type") == CATEGORY else None
        # The scikit-learn artifact is checked above (it is the model's identity: version) but not loaded: the onnx
        # runtime runs without scikit-learn and skops.
        return ModelBundle(
            OnnxModel(
                onnx_blob,
                schema["features"],
                classes,
                bool(compiled.get("labelsFromProba", True)),
                compiled.get("inputs"),
            ),
            schema,
            schema_bytes,
        )

    # Load the bytes just hashed, not the file again: what is checked is what is loaded. The format is never assumed:
    # a schema.json without one (from before formats existed, or written to pass a pickle off) is refused.
    fmt = fields.get("format")
    if fmt not in artifact.FORMATS:
        raise ModelError(
            "%s: model.format %s; it must be one of %s. Run `make train` (or `make import`) to write the model again"
            % (schema_path, "is missing" if fmt is None else "%r is unknown" % (fmt,), ", ".join(artifact.FORMATS))
        )
    _importable(code_dir())
    try:
        artifact.check_format(blob, fmt)
        vouched = trust if trust is not None else trust_file.read()
    except (artifact.ArtifactError, trust_file.TrustError) as exc:
        raise ModelError("refusing to load %s: %s" % (artifact_path, exc)) from exc
    if fmt == "joblib" and not vouched.trusts_pickle(digest):
        raise ModelError(
            "refusing to load %s: it is a pickle, which runs whatever code it holds as it loads, and %s does not "
            "vouch for it (sha256 %s). If you made it, run `make train` again; if it comes from elsewhere and you "
            "trust who made it, `make import MODEL=... IMPORT_FLAGS=--trust-pickle`"
            % (artifact_path, vouched.path, digest)
        )
    try:
        model = artifact.loads(blob, fmt, sorted(vouched.skops_types))
    except artifact.ArtifactError as exc:
        raise ModelError("cannot load %s: %s" % (artifact_path, exc)) from exc
    except ImportError as exc:
        raise ModelError(
            "cannot load %s: it needs the module %s, which is not installed here. A library belongs in "
            "requirements.txt (tools/import_model.py pins the ones a model needs), your own code in model_code/ "
            "(tools/import_model.py --code)" % (artifact_path, getattr(exc, "name", None) or exc)
        ) from exc
    outputs = outputs_of(schema["target"])
    for output, method in (("probabilities", "predict_proba"), ("scores", "decision_function")):
        if output in outputs and not hasattr(model, method):
            raise ModelError(
                "schema.json says the answers carry %s, but the model has no %s; re-run `make train` or `make import`"
                % (output, method)
            )
    return ModelBundle(model, schema, schema_bytes)


def onnx_unsupported(schema):
    """What in `schema` the onnx runtime cannot serve yet (named), or None: it takes numbers, string categories and text
    (for TfidfVectorizer/CountVectorizer), as plain float and string columns, and answers classifiers with
    probabilities and regressors."""
    return onnx_unsupported_feature(schema) or onnx_unsupported_kind(schema)


def onnx_unsupported_feature(schema):
    """The first feature the onnx runtime cannot take ("feature 'x' (boolean)"), or None."""
    for f in schema["features"]:
        if f["type"] not in V1_FEATURE_TYPES + (TEXT,) or is_coded(f) or f.get("dtype", "object") == "category":
            kind = "integer-coded category" if f["type"] == CATEGORY and is_coded(f) else f["type"]
            if f.get("dtype") == "category":
                kind = "pandas category-dtype"
            return "feature %r (%s)" % (f["name"], kind)
    return None


def onnx_unsupported_kind(schema):
    """The kind of model the onnx runtime cannot answer for ("an outlier-detection model whose answers carry
    scores"), or None: it answers regressors, and classifiers with labels or probabilities."""
    task = task_of_schema(schema)
    outputs = outputs_of(schema["target"])
    if task not in ("classification", "regression") or outputs not in ((), ("probabilities",)):
        return "%s %s model whose answers carry %s" % (
            "an" if task[:1] in "aeiou" else "a",
            task,
            ", ".join(outputs) or "labels only",
        )
    return None
