"""Derived features as the pipeline's first step (tools/derived_features.py), the project's own code a model runs
(tools/own_code.py writes the record, serving/own_code.py checks it at start-up), and the start-up self-test naming
the hook or the step that fails."""

import importlib
import json
import sys
import textwrap

import pytest
import support
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import serving
from serving import ModelError, load_model, trust
from serving import own_code as serving_own_code
from serving.bundle import ModelBundle
from serving.prediction import self_test
from tools import own_code
from tools.derived_features import derive_step, derived_frame, derives_nothing
from tools.errors import DerivationError
from tools.schema_derivation import column_types_from_model

DERIVING = '''
def derive(frame):
    """Adds the product of two columns."""
    return frame.assign(area=frame["length"] * frame["rooms"])
'''


def identity(value, *_args):
    return value


# --- which derive() is a step --------------------------------------------------------------------------------------


def _function(source, name="derive"):
    namespace = {}
    exec(compile(textwrap.dedent(source), "<test>", "exec"), namespace)  # noqa: S102
    return namespace[name]


def test_a_derive_that_only_returns_its_frame_is_no_step(tmp_path, monkeypatch):
    # inspect reads the source from the module's file, as it does for features.py.
    (tmp_path / "shapes.py").write_text(
        "def derive(frame):\n"
        '    """Nothing yet."""\n'
        "    # a comment\n"
        "    return frame\n\n\n"
        "def other(rows):\n    return rows\n\n\n"
        "def renamed(frame):\n    return frame.copy()\n\n\n"
        "def twice(frame):\n    frame = frame\n    return frame\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    shapes = importlib.import_module("shapes")
    try:
        assert derives_nothing(shapes.derive) and derives_nothing(shapes.other)
        assert not derives_nothing(shapes.renamed) and not derives_nothing(shapes.twice)
        assert derive_step(shapes.derive) == []
        [(name, step)] = derive_step(shapes.renamed)
        assert name == "derive" and isinstance(step, FunctionTransformer) and step.func is shapes.renamed
        assert not derives_nothing(len)  # no Python source: a step, to be safe
    finally:
        del sys.modules["shapes"]


def test_derived_frame_refuses_what_the_pipeline_could_not_use(training):
    frame = training[0]
    assert list(derived_frame(_function(DERIVING), frame).columns) == ["length", "width", "rooms", "colour", "area"]
    assert list(frame.columns) == ["length", "width", "rooms", "colour"]
    cases = [
        ("def derive(frame):\n    frame['x'] = 1.0\n    return frame", "changes the frame it is given.*frame.copy"),
        ("def derive(frame):\n    return frame.head(3)", r"returned 3 rows for 60"),
        ("def derive(frame):\n    return frame.to_numpy()", "must return a pandas DataFrame"),
        ("def derive(frame):\n    return frame['nope']", "failed on the training rows: KeyError"),
        ("def derive(frame):\n    return frame.assign(**{'1': 1.0}).rename(columns={'1': 1})", "column names must"),
        # a helper's derive: relative to the frame's mean, so an answer would depend on the rows batched with it
        (
            "def derive(frame):\n    return frame.assign(rel=frame['length'] / frame['length'].mean())",
            r"gives row 0's 'rel' as .* when it gets that row alone: it must compute each row from that row only",
        ),
        ("def derive(frame):\n    return frame.assign(r=frame['length'].rank())", "that row alone"),
    ]
    for source, message in cases:
        with pytest.raises(DerivationError, match=message):
            derived_frame(_function(source), frame)


# --- the project's own code: vouched for, recorded, checked --------------------------------------------------------


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder holding unit_features.py (derive adds `area`), importable and standing for PROJECT_ROOT."""
    (tmp_path / "unit_features.py").write_text(DERIVING)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(serving_own_code, "PROJECT_ROOT", str(tmp_path))
    monkeypatch.delitem(sys.modules, "unit_features", raising=False)
    yield tmp_path
    sys.modules.pop("unit_features", None)


def fit_deriving(training):
    frame, features, labels, _values = training
    derive = importlib.import_module("unit_features").derive
    derived = derived_frame(derive, frame)
    model_features = features + [{"name": "area", "type": "number"}]
    pipeline = Pipeline(
        derive_step(derive)
        + [("preprocess", support.preprocess(model_features)), ("model", LogisticRegression(max_iter=500))]
    )
    assert "area" in list(derived.columns)
    return pipeline.fit(frame, labels)


def test_a_model_with_derived_features_records_its_code_and_serves_with_it(project, training):
    frame, features = training[0], training[1]
    model = fit_deriving(training)
    assert own_code.own_modules(model) == ["unit_features"]
    schema = support.write_model_folder(
        str(project / "model"),
        model,
        "skops",
        support.schema_maker("deriving", model, features, "size"),
        runtime="sklearn",
        trusted_code=["unit_features"],
    )
    assert schema["model"]["ownCode"] == {"unit_features": serving_own_code.digest(str(project / "unit_features.py"))}
    assert "unit_features.derive" in trust.read().skops_types  # vouched for in trust.json, not by the model folder
    assert [f["name"] for f in schema["features"]] == ["length", "width", "rooms", "colour"]  # requests: raw columns
    app = serving.create_app(str(project / "model"))
    rows = support.valid_rows(frame, features, 5)
    answer = support.post(app.test_client(), {"instances": rows}).get_json()
    assert answer["predictions"] == [str(p) for p in model.predict(frame.head(5))]

    # The file changes after training: the model would serve code it was not fitted with.
    (project / "unit_features.py").write_text(DERIVING.replace("*", "+"))
    with pytest.raises(
        ModelError, match=r"unit_features.py has changed since the model was trained with it.*make train"
    ):
        load_model(str(project / "model"))
    (project / "unit_features.py").write_text(DERIVING.replace("\n", "\r\n"))  # a CRLF checkout: the same code
    assert load_model(str(project / "model")).version == schema["model"]["version"]
    (project / "unit_features.py").unlink()
    with pytest.raises(ModelError, match=r"trained with module 'unit_features' \(unit_features.py\), which is not in"):
        load_model(str(project / "model"))


def test_own_code_nobody_vouched_for_is_refused_and_nothing_written(project, training):
    model = fit_deriving(training)
    with pytest.raises(DerivationError, match=r"nobody vouched for: unit_features \(unit_features.py\).*TRUSTED_CODE"):
        support.write_model_folder(
            str(project / "model"),
            model,
            "skops",
            support.schema_maker("deriving", model, training[1], "size"),
            runtime="sklearn",
            trusted_code=["features"],
        )
    assert not (project / "model").exists()


def test_a_function_of_the_training_script_is_refused_with_where_it_belongs(training):
    frame, features, labels, _values = training
    script_function = _function("def derive(frame):\n    return frame.assign(area=frame['length'])")
    script_function.__module__ = "__main__"  # what a function defined in train.py is when train.py runs
    model = Pipeline(
        [
            ("derive", FunctionTransformer(script_function)),
            ("preprocess", support.preprocess(features)),
            ("model", LogisticRegression(max_iter=500)),
        ]
    ).fit(frame, labels)
    with pytest.raises(DerivationError, match=r"uses __main__.derive, defined in the script.*features.py"):
        own_code.vouch(model, ["features"])


def test_the_modules_train_py_trusts_are_recorded_even_when_the_model_leaves_them_out(project, classifier):
    # features.py as generated: derive() returns its frame, so no step; the model was still trained with that file.
    digest = serving_own_code.digest(str(project / "unit_features.py"))
    assert own_code.vouch(classifier, ["unit_features", "absent"]) == {"unit_features": digest}
    assert own_code.vouch(classifier, None) == {}  # an import records only what the model runs


class AddsArea(BaseEstimator, TransformerMixin):
    """A notebook's own transformer class (not a FunctionTransformer) that adds a column and passes the frame on."""

    def fit(self, X, y=None):
        self.feature_names_in_ = X.columns.to_numpy(dtype=object)
        return self

    def transform(self, X):
        return derive_unless_broken(X)


@pytest.mark.parametrize(
    "leading",
    [lambda: FunctionTransformer(derive_unless_broken), AddsArea],
    ids=["features.py's derive", "a class of the notebook's own (MLflow code_paths)"],
)
def test_an_import_reads_the_column_types_past_a_step_that_derives(training, leading):
    # A notebook pipeline with a deriving step first: its ColumnTransformer still says what the request's columns are
    # (colour a category); the column the step adds is the model's, not the request's, and is left out.
    frame, features, labels, _values = training
    model = Pipeline(
        [
            ("derive", leading()),
            ("preprocess", support.preprocess(features + [{"name": "area", "type": "number"}])),
            ("model", LogisticRegression(max_iter=500)),
        ]
    ).fit(frame, labels)
    found = column_types_from_model(model)
    assert {name: (f["type"], f.get("categories")) for name, f in found.items()} == {
        "colour": ("category", ["blue", "green", "red"])
    }


def test_models_without_own_code_record_none(classifier, classifier_dir):
    assert own_code.own_modules(classifier) == []
    assert "ownCode" not in json.loads((classifier_dir / "schema.json").read_text())


def test_own_code_names_must_be_modules_not_paths(model_copy):
    schema = json.loads((model_copy / "schema.json").read_text())
    schema["model"]["ownCode"] = {"../etc/passwd": "0" * 64}
    (model_copy / "schema.json").write_text(json.dumps(schema))
    with pytest.raises(ModelError, match="model.ownCode must map the project's module names"):
        load_model(str(model_copy))


# --- the start-up self-test names what failed ----------------------------------------------------------------------

_BROKEN = {"on": False}


def derive_unless_broken(frame):
    if _BROKEN["on"]:
        raise KeyError("area_m2")
    return frame.assign(area=frame["length"] * frame["rooms"])


@pytest.fixture
def deriving_bundle(training, classifier_dir):
    frame, features, labels, _values = training
    model = Pipeline(
        [
            ("derive", FunctionTransformer(derive_unless_broken)),
            ("preprocess", support.preprocess(features + [{"name": "area", "type": "number"}])),
            ("model", LogisticRegression(max_iter=500)),
        ]
    ).fit(frame, labels)
    schema = json.loads((classifier_dir / "schema.json").read_text())
    yield ModelBundle(model, schema, b"")
    _BROKEN["on"] = False


def test_the_self_test_runs_the_derived_features_and_names_the_step_that_fails(deriving_bundle):
    self_test(deriving_bundle, identity, identity)
    _BROKEN["on"] = True
    with pytest.raises(ModelError) as failed:
        self_test(deriving_bundle, identity, identity)
    assert str(failed.value) == (
        "the model failed its start-up self-test (one example row) in pipeline step 'derive' "
        "(test_derived_features.derive_unless_broken, in test_derived_features.py): KeyError: 'area_m2'"
    )


def test_the_self_test_names_the_hook_that_fails(deriving_bundle):
    def before_predict(frame):
        return frame["nope"]

    def after_predict(answer, frame):
        return answer["threshold"]

    with pytest.raises(ModelError, match=r"^the before_predict hook \(.*before_predict\) failed in the start-up"):
        self_test(deriving_bundle, before_predict, identity)
    with pytest.raises(ModelError, match=r"^the after_predict hook \(.*after_predict\) failed .*KeyError: 'threshold'"):
        self_test(deriving_bundle, identity, after_predict)
    # where to fix it: the line of the project's own code, not the serving package's
    line = after_predict.__code__.co_firstlineno + 1
    with pytest.raises(ModelError, match=r"\(tests/unit/test_derived_features\.py, line %d\): KeyError" % line):
        self_test(deriving_bundle, identity, after_predict)
    with pytest.raises(ModelError, match=r"^the before_predict hook \(.*\) returned None: it must return the frame"):
        self_test(deriving_bundle, lambda frame: None, identity)
    with pytest.raises(ModelError, match=r"must return the answer body \(a dict\); it returned list"):
        self_test(deriving_bundle, identity, lambda answer, frame: [answer])


def test_hooks_of_gives_back_the_apps_hooks(classifier_dir):
    def after_predict(answer, frame):
        return answer

    app = serving.create_app(str(classifier_dir), after_predict=after_predict)
    before, after = serving.hooks_of(app)
    assert after is after_predict and before("same") == "same"


def test_code_in_model_code_is_recorded_and_checked_as_features_py_is(tmp_path, monkeypatch, training):
    # One mechanism for the user's code a model runs: beside application.py (features.py) or in model_code/ (what
    # tools/import_model.py --code brings), either is recorded in model.ownCode and checked at start-up.
    monkeypatch.delenv(serving_own_code.CODE_ENV, raising=False)
    frame, features, labels, _values = training
    folder = tmp_path / "model_code"
    folder.mkdir()
    (folder / "nb_features.py").write_text(DERIVING)
    monkeypatch.syspath_prepend(str(folder))
    module = importlib.import_module("nb_features")
    try:
        model = Pipeline(
            [
                ("derive", FunctionTransformer(module.derive)),
                ("preprocess", support.preprocess(features + [{"name": "area", "type": "number"}])),
                ("model", LogisticRegression(max_iter=500)),
            ]
        ).fit(frame, labels)
        recorded = own_code.vouch(model, None, root=str(tmp_path))
    finally:
        del sys.modules["nb_features"]
    assert recorded == {"nb_features": serving_own_code.digest(str(folder / "nb_features.py"))}
    serving_own_code.check(recorded, str(tmp_path))
    (folder / "nb_features.py").write_text(DERIVING + "\n# tuned\n")
    with pytest.raises(serving_own_code.OwnCodeError, match=r"model_code/nb_features.py has changed since"):
        serving_own_code.check(recorded, str(tmp_path))
    (folder / "nb_features.py").unlink()
    with pytest.raises(serving_own_code.OwnCodeError, match=r"which is not in .* nor in its model_code/"):
        serving_own_code.check(recorded, str(tmp_path))
