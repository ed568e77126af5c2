"""serving.bundle: model/schema.json and the artifact it names, checked before anything is served."""

import copy
import hashlib
import json

import pytest
import support
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

from serving import ModelError, load_model, settings
from serving.bundle import check_schema, labels_from_proba


def read_schema(model_dir):
    return json.loads((model_dir / "schema.json").read_text(encoding="utf-8"))


def rewrite_schema(model_dir, change):
    """Apply change(schema) to model_dir/schema.json (the artifact is untouched, so its sha256 still matches)."""
    schema = read_schema(model_dir)
    change(schema)
    (model_dir / "schema.json").write_text(json.dumps(schema), encoding="utf-8")


def test_a_written_folder_loads_as_its_schema_describes(classifier_dir):
    bundle = load_model(str(classifier_dir))
    schema = read_schema(classifier_dir)
    blob = (classifier_dir / schema["model"]["artifact"]).read_bytes()
    assert schema["model"]["format"] == "skops" and bundle.runtime == "sklearn"
    assert bundle.version == hashlib.sha256(blob).hexdigest()[:12] == schema["model"]["version"]
    assert bundle.model_info() == {"name": "sizes", "version": bundle.version}
    assert bundle.feature_names == ["length", "width", "rooms", "colour"]
    assert bundle.classes == support.CLASSES and bundle.labels_from_proba
    assert bundle.schema_bytes == (classifier_dir / "schema.json").read_bytes()


def test_a_tampered_artifact_is_refused_with_both_digests(model_copy):
    artifact = model_copy / read_schema(model_copy)["model"]["artifact"]
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="refusing to load .*sha256 is [0-9a-f]{64} but schema.json expects"):
        load_model(str(model_copy))


def test_a_version_other_than_the_digests_prefix_is_refused(model_copy):
    rewrite_schema(model_copy, lambda s: s["model"].update(version="0" * 12))
    with pytest.raises(ModelError, match="model.version must be the first 12 hex digits"):
        load_model(str(model_copy))


def test_the_artifact_is_only_ever_read_from_the_model_folder(model_copy):
    # A schema naming a path elsewhere is read as that file name in model/ (here: the real artifact, so it loads).
    rewrite_schema(model_copy, lambda s: s["model"].update(artifact="../../elsewhere/model.skops"))
    assert load_model(str(model_copy)).name == "sizes"


def test_a_missing_folder_says_to_train(tmp_path):
    with pytest.raises(ModelError, match="schema.json .*run `make train`"):
        load_model(str(tmp_path / "nowhere"))


def test_a_schema_that_is_not_json_names_the_file(model_copy):
    (model_copy / "schema.json").write_text("{", encoding="utf-8")
    with pytest.raises(ModelError, match="schema.json is not valid JSON"):
        load_model(str(model_copy))


def test_a_model_written_for_the_onnx_runtime_is_refused_with_what_to_run(model_copy):
    rewrite_schema(model_copy, lambda s: s["model"].update(runtime="onnx"))
    with pytest.raises(
        ModelError, match="written for the onnx runtime but this project serves with sklearn.*make train"
    ):
        load_model(str(model_copy))


def test_a_sklearn_model_is_refused_by_an_onnx_project(classifier_dir, monkeypatch):
    monkeypatch.setattr(settings, "RUNTIME", "onnx")
    with pytest.raises(ModelError, match="written for the sklearn runtime but this project serves with onnx"):
        load_model(str(classifier_dir))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("runtime", "tensorflow", "model.runtime 'tensorflow' is not one of"),
        ("format", "pickle", "model.format 'pickle' is unknown"),
        ("format", None, "model.format is missing"),
    ],
)
def test_unknown_runtimes_and_formats_are_refused(model_copy, field, value, message):
    rewrite_schema(model_copy, lambda s: s["model"].update({field: value}))
    with pytest.raises(ModelError, match=message):
        load_model(str(model_copy))


def test_classes_other_than_the_models_are_refused(model_copy):
    rewrite_schema(model_copy, lambda s: s["target"].update(classes=["small", "medium", "large"]))
    with pytest.raises(ModelError, match="target.classes do not match the model's classes_"):
        load_model(str(model_copy))


def test_a_joblib_folder_loads_and_a_schema_without_format_is_refused(tmp_path, regressor, features):
    support.write_folder(tmp_path, "prices", regressor, features, "price", fmt="joblib")
    bundle = load_model(str(tmp_path))  # write_model_folder vouched for the pickle it wrote
    assert bundle.classes is None and bundle.schema["model"]["artifact"] == "model.joblib"
    rewrite_schema(tmp_path, lambda s: s["model"].pop("format"))
    with pytest.raises(ModelError, match="model.format is missing; it must be one of skops, joblib. Run `make train`"):
        load_model(str(tmp_path))


def test_a_classifier_without_probabilities_is_served_with_its_decision_scores(tmp_path, training):
    frame, features, labels, _values = training
    model = support.fit_classifier(frame, features, labels, SVC())
    schema = support.write_folder(tmp_path, "svc", model, features, "size", fmt="joblib")
    assert schema["target"]["outputs"] == ["scores"]
    bundle = load_model(str(tmp_path))
    assert bundle.outputs == ("scores",) and not bundle.labels_from_proba


def test_a_schema_promising_what_the_model_cannot_give_is_refused(tmp_path, training):
    frame, features, labels, _values = training
    model = support.fit_classifier(frame, features, labels, SVC())
    # Written as joblib: the refusal is the service's, whatever the artifact's format.
    support.write_folder(tmp_path, "svc", model, features, "size", fmt="joblib")
    rewrite_schema(tmp_path, lambda s: s["target"].update(outputs=["probabilities"]))
    with pytest.raises(ModelError, match="answers carry probabilities, but the model has no predict_proba"):
        load_model(str(tmp_path))
    rewrite_schema(tmp_path, lambda s: s.update(schemaVersion=1) or s["target"].pop("outputs"))
    with pytest.raises(ModelError, match="answers carry probabilities, but the model has no predict_proba"):
        load_model(str(tmp_path))


GOOD_SCHEMA = dict(
    support.schema_maker("s", None, [{"name": "x", "type": "number"}], "y")({"version": "0" * 12, "sha256": "0" * 64}),
    schemaVersion=2,
)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s.update(schemaVersion=3), "schemaVersion must be 1 or 2"),
        (lambda s: s.pop("limits"), "missing 'limits'"),
        (lambda s: s["model"].pop("sha256"), "missing model.sha256"),
        (lambda s: s.update(features=[]), "features must be a non-empty list"),
        (lambda s: s["features"][0].update(type="bool"), "feature 'x' has unknown type 'bool'"),
        (
            lambda s: s.update(schemaVersion=1) or s["features"][0].update(type="text", maxLength=5),
            "feature 'x' has unknown type 'text' \\(schemaVersion 1 knows number, integer, category\\)",
        ),
        (lambda s: s["features"][0].update(type="category"), "feature 'x' is a category feature without categories"),
        (
            lambda s: s["features"][0].update(type="category", categories=[1, "a"]),
            "feature 'x' must list its categories as strings or as whole numbers",
        ),
        (
            lambda s: s["features"][0].update(type="category", categories=["a"], dtype="int64"),
            "feature 'x' has dtype 'int64', which does not fit its categories",
        ),
        (lambda s: s["features"][0].update(type="text"), "feature 'x' is a text feature without a positive whole"),
        (lambda s: s["features"][0].update(dtype="int32"), "feature 'x' has dtype 'int32'; a number feature is given"),
        (lambda s: s["features"][0].update(type="date", dtype="object"), "feature 'x' has dtype 'object'; a date is"),
        (
            lambda s: s.update(target={"name": "y", "type": "category"}),
            "a regression model needs a target of type 'number'",
        ),
        (
            lambda s: s.update(target={"name": "y", "type": "category"}) or s["model"].update(task="classification"),
            "a category target needs classes",
        ),
        (lambda s: s["model"].update(task="ranking"), "model.task 'ranking' is not one of"),
        (
            lambda s: s["target"].update(outputs=["scores"]),
            "target.outputs of a number target may only name none",
        ),
        (lambda s: s["limits"].update(maxRows=True), "limits.maxRows must be a positive integer"),
        (lambda s: s["limits"].update(maxBodyBytes=0), "limits.maxBodyBytes must be a positive integer"),
    ],
)
def test_a_schema_the_service_cannot_honour_is_refused_naming_the_file(change, message):
    schema = copy.deepcopy(GOOD_SCHEMA)
    check_schema(schema, "model/schema.json")
    change(schema)
    with pytest.raises(ModelError, match="model/schema.json is not a valid model schema: " + message):
        check_schema(schema, "model/schema.json")


def test_every_new_feature_type_and_model_kind_passes_the_check():
    schema = copy.deepcopy(GOOD_SCHEMA)
    schema["features"] = [
        {"name": "n", "type": "number", "nullable": False, "dtype": "float64"},
        {"name": "g", "type": "category", "nullable": True, "categories": [1, 2], "dtype": "float64"},
        {"name": "c", "type": "category", "nullable": False, "categories": ["b", "a"], "dtype": "category"},
        {"name": "t", "type": "text", "nullable": False, "maxLength": 10, "dtype": "object"},
        {"name": "b", "type": "boolean", "nullable": True, "dtype": "object"},
        {"name": "d", "type": "date", "nullable": False, "dtype": "datetime64[us]"},
        {"name": "s", "type": "datetime", "nullable": False, "dtype": "datetime64[ns, UTC]"},
    ]
    for task, target in [
        ("classification", {"name": "y", "type": "category", "classes": [0, 1], "outputs": []}),
        ("classification", {"name": "y", "type": "category", "classes": [True, False], "outputs": ["scores"]}),
        ("clustering", {"name": "cluster", "type": "cluster", "clusters": 3}),
        ("outlier-detection", {"name": "outlier", "type": "outlier", "outputs": ["scores"]}),
    ]:
        schema["model"]["task"], schema["target"] = task, target
        check_schema(schema, "model/schema.json")


def test_labels_come_from_probabilities_only_for_estimators_known_to_argmax(classifier):
    assert labels_from_proba(classifier) and labels_from_proba(LogisticRegression())
    assert not labels_from_proba(KNeighborsClassifier())

    class LogisticRegressionLookalike(object):  # the name alone is not enough: it must be scikit-learn's
        pass

    LogisticRegressionLookalike.__name__ = "LogisticRegression"
    assert not labels_from_proba(LogisticRegressionLookalike())
