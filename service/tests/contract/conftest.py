"""Fixtures of the contract suite (managed by generator-sci-eb: `sci-eb upgrade` keeps this folder current).

The suite tests the app the way Elastic Beanstalk runs it: application.py imported as gunicorn imports it, so the
service answers through your hooks, on the trained model in model/ (or MODEL_DIR). Hooks run on valid requests only
and must keep the contract's answer (docs/contract.md), so every rule holds with them as without. Two kinds of test
need something else, and say why:
  * the few that compare answers with the model called directly use `model_app`: your before_predict, but not your
    after_predict, which may change what the model said (a threshold, say);
  * the rules a model's schema cannot exercise (the iris schema has only non-nullable numbers, say) are tested on
    SYNTHETIC_SCHEMA, which has every kind of feature, with a stub model standing in for the pipeline and no hooks
    (yours expect your model's columns).
If application.py does not build its app with serving.create_app() (a project that kept its own service from before
the serving package), the suite tests the serving core as create_app() builds it. Nothing here knows the dataset:
rows are built from schema.json.
"""

import copy
import json
import os
import sys

import numpy as np
import pytest

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if PROJECT_ROOT not in sys.path:
    sys.path.insert(0, PROJECT_ROOT)

import serving  # noqa: E402  (after the path: the suite runs from any folder)
from serving import settings  # noqa: E402
from serving.bundle import ModelBundle, check_schema  # noqa: E402

MODEL_DIR = os.environ.get("MODEL_DIR") or settings.default_model_dir()
SCHEMA_PATH = os.path.join(MODEL_DIR, "schema.json")
CONTRACT_PATH = os.path.join(PROJECT_ROOT, "serving", "contract.json")

if not os.path.isfile(SCHEMA_PATH):
    raise pytest.UsageError("%s not found: run `make train` (or `python train.py`) before the tests" % SCHEMA_PATH)


def read_schema():
    with open(SCHEMA_PATH, encoding="utf-8") as fh:
        return json.load(fh)


def read_contract():
    with open(CONTRACT_PATH, encoding="utf-8") as fh:
        return json.load(fh)


MODEL_SCHEMA = read_schema()  # read at collection time too: which cases run depends on the features it has


def import_application():
    """application.application, imported as gunicorn imports it on EB (MODEL_DIR as this suite reads it), or None when
    application.py builds its app without serving.create_app(). An app that does not start ends the run here, with its
    reason, once: not as an error in every test that needs it."""
    try:
        import application
    except Exception as exc:
        raise pytest.UsageError(
            "application.py does not start, so gunicorn would not start it on Elastic Beanstalk either: %s: %s"
            % (type(exc).__name__, exc)
        ) from exc
    app = getattr(application, "application", None)
    extensions = getattr(app, "extensions", None)
    return app if isinstance(extensions, dict) and "sci_eb" in extensions else None


APPLICATION = import_application()

# Every kind of feature the contract knows: number, integer, category (of strings and of whole numbers), text,
# boolean, date and date-time, nullable and not. The names need RFC 6901 escaping ("/" and "~") and two category
# lists are longer than an error detail lists in full.
SYNTHETIC_SCHEMA = {
    "schemaVersion": 2,
    "model": {
        "name": "synthetic",
        "version": "5e1f00000000",
        "task": "regression",
        "estimator": "stub",
        "artifact": "model.joblib",
        "sha256": "5e1f" + "0" * 60,
        "trainedAt": "2000-01-01T00:00:00Z",
        "sklearnVersion": "0",
        "metrics": {},
    },
    "features": [
        {"name": "length", "type": "number", "nullable": False, "observedMin": -2.5, "observedMax": 7.25},
        {"name": "weight/kg", "type": "number", "nullable": True, "observedMin": 0.5, "observedMax": 80.0},
        {"name": "rooms", "type": "integer", "nullable": False, "observedMin": 1, "observedMax": 9},
        {"name": "floors~max", "type": "integer", "nullable": True, "observedMin": 0, "observedMax": 3},
        {"name": "colour", "type": "category", "nullable": False, "categories": ["blue", "red"]},
        {"name": "code", "type": "category", "nullable": True, "categories": ["c%02d" % i for i in range(25)]},
        {"name": "note", "type": "text", "nullable": False, "maxLength": 8},
        {"name": "member", "type": "boolean", "nullable": True},
        {"name": "joined", "type": "date", "nullable": False, "observedMin": "2019-01-02", "observedMax": "2026-10-30"},
        {
            "name": "seen at",
            "type": "datetime",
            "nullable": True,
            "observedMin": "2026-01-01T08:00:00",
            "observedMax": "2026-10-30T17:45:10.5",
        },
        {"name": "grade", "type": "category", "nullable": False, "categories": [1, 2, 3, 5]},
        {"name": "zone", "type": "category", "nullable": True, "categories": list(range(30))},
    ],
    "target": {"name": "score", "type": "number"},
    # Small limits: maxRows rows of this schema do not fit in maxBodyBytes (a case a real model may or may not hit).
    "limits": {"maxRows": 50, "maxBodyBytes": 4096},
}


def escape_pointer(token):
    return token.replace("~", "~0").replace("/", "~1")


def kind_of(feature):
    """A feature's type, except "coded" for a category of whole numbers (its values are numbers, not strings)."""
    if feature["type"] == "category" and all(type(c) is int for c in feature["categories"]):
        return "coded"
    return feature["type"]


def features_of(schema, types=(), nullable=None):
    """The features of `schema` whose kind (kind_of) is in `types` (any when empty) and, unless None, nullability."""
    return [
        f
        for f in schema["features"]
        if (not types or kind_of(f) in types) and (nullable is None or bool(f.get("nullable")) == nullable)
    ]


def one_of_each_kind(features):
    """The first feature of each (kind, nullable): the rules depend on the kind, not on the feature."""
    seen, chosen = set(), []
    for f in features:
        kind = (kind_of(f), bool(f.get("nullable")))
        if kind not in seen:
            seen.add(kind)
            chosen.append(f)
    return chosen


def build_row(schema, variant=0):
    """A valid instance of `schema`. Variants spread numbers over the observed range and cycle the categories and
    the other types' values, so a batch has distinct rows."""
    fractions = (0.5, 0.0, 1.0, 0.25, 0.75)
    row = {}
    for f in schema["features"]:
        kind = f["type"]
        if kind == "category":
            row[f["name"]] = f["categories"][variant % len(f["categories"])]
            continue
        if kind == "text":
            row[f["name"]] = ("w%d" % variant)[: f["maxLength"]]
            continue
        if kind == "boolean":
            row[f["name"]] = variant % 2 == 0
            continue
        if kind in ("date", "datetime"):
            midnight = "T00:00:00" if kind == "datetime" else ""
            choices = [f.get("observedMin") or "2000-02-29" + midnight, f.get("observedMax") or "2020-12-31" + midnight]
            if kind == "datetime":
                choices += ["2000-02-29T23:59:59.5Z", "2021-06-01T12:30:00+02:00"]
            row[f["name"]] = choices[variant % len(choices)]
            continue
        low = f.get("observedMin", 0)
        high = f.get("observedMax", low)
        value = low + (high - low) * fractions[variant % len(fractions)]
        row[f["name"]] = int(round(value)) if f["type"] == "integer" else float(value)
    return row


class StubRegressor(object):
    """Stands in for a fitted pipeline behind SYNTHETIC_SCHEMA: predicts each row's position in the batch and keeps
    the frames it was given, so a test can see what the service made of a request."""

    def __init__(self):
        self.frames = []

    def predict(self, frame):
        self.frames.append(frame)
        return np.arange(len(frame), dtype=np.float64)


class Service(object):
    """An app serving one schema: `model` (the trained model) or `synthetic` (SYNTHETIC_SCHEMA, stub model)."""

    def __init__(self, label, app, stub=None):
        self.label = label
        self.app = app
        self.bundle = serving.bundle_of(app)
        self.schema = self.bundle.schema
        self.client = app.test_client()
        self.stub = stub
        self.max_rows = self.schema["limits"]["maxRows"]
        self.max_body_bytes = self.schema["limits"]["maxBodyBytes"]

    def __repr__(self):
        return "<Service %s>" % self.label

    def row(self, variant=0):
        return build_row(self.schema, variant)

    def feature(self, name):
        return next(f for f in self.schema["features"] if f["name"] == name)

    def validate(self, payload):
        return serving.validate_instances(payload, self.schema)

    def post(self, body, content_type="application/json", headers=None):
        """POST /v1/predict. A non-bytes body is sent as JSON."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        return self.client.post("/v1/predict", data=data, content_type=content_type, headers=headers or {})


def synthetic_app(limits=None, **options):
    """create_app() serving SYNTHETIC_SCHEMA (with other limits if given) and a StubRegressor."""
    schema = copy.deepcopy(SYNTHETIC_SCHEMA)
    if limits:
        schema["limits"].update(limits)
    check_schema(schema, "SYNTHETIC_SCHEMA")  # the rules load_model applies to schema.json
    stub = StubRegressor()
    bundle = ModelBundle(stub, schema, json.dumps(schema).encode("utf-8"))
    return serving.create_app(bundle=bundle, **options), stub


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "feature_kinds(*types, nullable=None): run the test once per kind of feature matching (fixture "
        "`feature_case`), for the trained model's features and for the synthetic schema's, which has every kind",
    )


# Named feature_case and feature_kinds, not case and feature_kind: a project upgraded from 0.1.0 may keep its old
# tests/conftest.py, whose hook parametrizes every test asking for `case`.
def pytest_generate_tests(metafunc):
    """A test taking `feature_case` runs once per matching kind of feature of both schemas (the model's and the
    synthetic)."""
    if "feature_case" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("feature_kinds")
        types = marker.args if marker else ()
        nullable = marker.kwargs.get("nullable") if marker else None
        cases = [
            (label, f["name"])
            for label, schema in (("model", MODEL_SCHEMA), ("synthetic", SYNTHETIC_SCHEMA))
            for f in one_of_each_kind(features_of(schema, types, nullable))
        ]
        # Never empty: the synthetic schema has every kind (an empty parameter set would be reported as skipped).
        assert cases, "no feature of the synthetic schema matches %r" % (marker,)
        metafunc.parametrize("feature_case", cases, indirect=True, ids=["%s:%s" % c for c in cases])


@pytest.fixture(scope="session")
def project_root():
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def model_dir():
    return MODEL_DIR


@pytest.fixture(scope="session")
def schema():
    return read_schema()


@pytest.fixture(scope="session")
def contract():
    return read_contract()


@pytest.fixture(scope="session")
def app():
    """The app as Elastic Beanstalk runs it: application.py's, with your hooks (else the serving core; see above)."""
    return APPLICATION if APPLICATION is not None else serving.create_app(MODEL_DIR)


@pytest.fixture(scope="session")
def bundle(app):
    return serving.bundle_of(app)


@pytest.fixture(scope="session")
def hooks(app):
    """(before_predict, after_predict) of the app."""
    return serving.hooks_of(app)


@pytest.fixture(scope="session")
def model_app(bundle, hooks):
    """The app's model and its before_predict, without its after_predict: for the tests that compare answers with the
    model called directly, because after_predict may change what the model said (a threshold, say)."""
    return serving.create_app(bundle=bundle, before_predict=hooks[0])


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_service(app):
    """make_service("model") -> the app on the trained model; make_service("synthetic", limits=None) -> an app
    serving SYNTHETIC_SCHEMA (with other limits if given) and a StubRegressor."""

    def build(label, limits=None):
        if label == "model":
            return Service("model", app)
        synthetic, stub = synthetic_app(limits)
        return Service("synthetic", synthetic, stub)

    return build


@pytest.fixture
def service(request, make_service):
    """Parametrize indirectly with "model" and/or "synthetic"."""
    return make_service(request.param)


class Case(object):
    """One feature of one service's schema (see pytest_generate_tests)."""

    def __init__(self, service, name):
        self.service = service
        self.name = name
        self.feature = service.feature(name)

    def row(self, variant=0):
        return self.service.row(variant)

    def pointer(self, index=0):
        return "/instances/%d/%s" % (index, escape_pointer(self.name))

    def post_value(self, value):
        """POST one valid row but with `value` for this feature."""
        row = self.row()
        row[self.name] = value
        return self.service.post({"instances": [row]})

    def validate_value(self, value):
        row = self.row()
        row[self.name] = value
        return self.service.validate({"instances": [row]})


@pytest.fixture
def feature_case(request, make_service):
    label, name = request.param
    return Case(make_service(label), name)


@pytest.fixture(scope="session")
def make_row(schema):
    """make_row(variant=0) -> a valid instance of the trained model's schema."""

    def build(variant=0):
        return build_row(schema, variant)

    return build


@pytest.fixture
def post(client):
    """post(body, content_type=..., headers=...) -> response. A non-bytes body is sent as JSON."""

    def send(body, content_type="application/json", headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        return client.post("/v1/predict", data=data, content_type=content_type, headers=headers or {})

    return send


@pytest.fixture(scope="session")
def pointer():
    def build(index, name):
        return "/instances/%d/%s" % (index, escape_pointer(name))

    return build
