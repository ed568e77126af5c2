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
from operator import itemgetter

from . import artifact, settings
from . import trust as trust_file
from .onnx_runtime import OnnxModel
from .validation import CATEGORY, INTEGER, NUMBER, CompiledSchema

SCHEMA_VERSION = 1
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
        # (name, column getter, is category, nullable) in schema (= training) column order
        self.columns = tuple(
            (f["name"], itemgetter(f["name"]), f["type"] == CATEGORY, bool(f.get("nullable")))
            for f in schema["features"]
        )
        target = schema["target"]
        self.classes = list(target["classes"]) if target.get("type") == CATEGORY else None
        self.class_lookup = None
        self.labels_from_proba = False
        if self.classes is not None:
            model_classes = [str(c) for c in getattr(model, "classes_", [])]
            if model_classes != self.classes:
                raise ModelError("schema.json target.classes do not match the model's classes_; re-run `make train`")
            self.class_lookup = dict(zip(model.classes_, self.classes))
            self.labels_from_proba = labels_from_proba(model)

    def model_info(self):
        return {"name": self.name, "version": self.version}


def check_schema(schema, path):
    """Fail fast, with a message that names the file, on a schema.json this service cannot honour."""

    def bad(why):
        return ModelError("%s is not a valid model schema: %s" % (path, why))

    if not isinstance(schema, dict) or schema.get("schemaVersion") != SCHEMA_VERSION:
        raise bad("schemaVersion must be %d" % SCHEMA_VERSION)
    for key in ("model", "features", "target", "limits"):
        if key not in schema:
            raise bad("missing %r" % key)
    for key in ("name", "version", "sha256"):
        if not schema["model"].get(key):
            raise bad("missing model.%s" % key)
    features = schema["features"]
    if not isinstance(features, list) or not features:
        raise bad("features must be a non-empty list")
    for f in features:
        if f.get("type") not in (NUMBER, INTEGER, CATEGORY):
            raise bad("feature %r has unknown type %r" % (f.get("name"), f.get("type")))
        if f["type"] == CATEGORY and not f.get("categories"):
            raise bad("category feature %r has no categories" % f.get("name"))
    if schema["target"].get("type") == CATEGORY and not schema["target"].get("classes"):
        raise bad("a category target needs classes")
    for key in ("maxRows", "maxBodyBytes"):
        value = schema["limits"].get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad("limits.%s must be a positive integer" % key)


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


def load_model(model_dir, trust=None):
    """Load and check model_dir/schema.json and the artifact it names; return a ModelBundle.

    trust: a serving.trust.Trust (tests); default the project's trust.json.
    Raises ModelError with a clear message when a file is missing, the schema is invalid, the artifact's sha256
    differs from schema.json's, its format is not declared or not what its bytes are, nobody vouched for what loading
    it would run, or the model does not match the schema. (Whether the model's columns are the schema's, or what a
    before_predict hook makes of them, is checked by prediction.self_test.)
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
            OnnxModel(onnx_blob, schema["features"], classes, bool(compiled.get("labelsFromProba", True))),
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
    if schema["target"].get("type") == CATEGORY and not hasattr(model, "predict_proba"):
        raise ModelError("the model is a classifier without predict_proba; the API returns probabilities")
    return ModelBundle(model, schema, schema_bytes)
