"""serving.prediction: validated rows -> the model's input -> the answer body, and the start-up self-test."""

import json
import math

import numpy as np
import pytest
import support
from sklearn.neighbors import KNeighborsClassifier

from serving import ModelError, load_model
from serving.bundle import ModelBundle
from serving.onnx_runtime import MISSING_CATEGORY
from serving.prediction import build_columns, build_frame, example_row, predict, predict_rows, self_test
from serving.validation import validate_instances


@pytest.fixture(scope="module")
def classifier_bundle(classifier_dir):
    return load_model(str(classifier_dir))


@pytest.fixture(scope="module")
def regressor_bundle(regressor_dir):
    return load_model(str(regressor_dir))


def identity(value, *_args):
    return value


def test_the_frame_is_built_as_the_training_frame_was(classifier_bundle, training):
    sent = [
        {"colour": None, "rooms": 3.0, "width": None, "length": 1.5},
        {"colour": "red", "rooms": 1.0, "width": 2.0, "length": 2.5},
    ]
    frame = build_frame(classifier_bundle, sent)
    assert list(frame.columns) == ["length", "width", "rooms", "colour"]  # schema order, whatever the rows' order
    assert frame.dtypes.tolist() == training[0].dtypes.tolist()  # as describe_features built it for fitting
    assert str(frame["rooms"].dtype) == "float64" and frame["colour"][1] == "red"
    assert math.isnan(frame["width"][0]) and frame["colour"].isna().tolist() == [True, False]


def test_the_onnx_columns_are_float32_with_a_string_for_a_null_category(classifier_bundle):
    columns = build_columns(classifier_bundle, [{"length": 1.5, "width": None, "rooms": 3.0, "colour": None}])
    assert columns.columns == ["length", "width", "rooms", "colour"] and len(columns) == 1
    assert columns["length"].dtype == np.float32 and math.isnan(columns["width"][0])
    assert columns["colour"].tolist() == [MISSING_CATEGORY]


def test_a_classifier_answers_labels_probabilities_and_classes_in_plain_types(classifier_bundle, classifier, rows):
    batch = rows(5)
    answer = predict(classifier_bundle, batch)
    assert answer["classes"] == support.CLASSES and answer["model"] == classifier_bundle.model_info()
    assert len(answer["predictions"]) == 5 and len(answer["probabilities"]) == 5
    assert all(type(label) is str for label in answer["predictions"])
    for probabilities in answer["probabilities"]:
        assert len(probabilities) == 3 and all(type(p) is float for p in probabilities)
        assert math.isclose(sum(probabilities), 1.0, abs_tol=1e-9)
    assert answer["predictions"] == classifier.predict(build_frame(classifier_bundle, batch)).tolist()


def test_a_regressor_answers_numbers_only(regressor_bundle, regressor, rows):
    batch = rows(4)
    answer = predict(regressor_bundle, batch)
    assert set(answer) == {"predictions", "model"}
    assert all(type(value) is float for value in answer["predictions"])
    assert answer["predictions"] == pytest.approx(regressor.predict(build_frame(regressor_bundle, batch)).tolist())


def test_a_classifier_predicting_otherwise_than_by_argmax_answers_its_integer_labels_as_integers(training, rows):
    # Integer labels, and an estimator not known to predict the argmax of its probabilities: predict() is called,
    # and its labels keep their JSON type.
    frame, features, labels, _values = training
    numbered = labels.map({"small": 0, "medium": 1, "large": 2})
    model = support.fit_classifier(frame, features, numbered, KNeighborsClassifier(n_neighbors=3))
    schema = support.schema_maker("knn", model, features, "size")({"version": "0" * 12, "sha256": "0" * 64})
    bundle = ModelBundle(model, schema, b"")
    assert bundle.classes == [0, 1, 2] and not bundle.labels_from_proba
    batch = rows(6)
    answer = predict(bundle, batch)
    expected = model.predict(build_frame(bundle, batch)).tolist()
    assert answer["predictions"] == expected and all(type(p) is int for p in answer["predictions"])
    assert answer["classes"] == [0, 1, 2] and json.loads(json.dumps(answer))["predictions"] == expected


def test_a_version_1_schema_keeps_answering_its_labels_as_strings(training, rows):
    frame, features, labels, _values = training
    numbered = labels.map({"small": 0, "medium": 1, "large": 2})
    model = support.fit_classifier(frame, features, numbered, KNeighborsClassifier(n_neighbors=3))
    schema = support.schema_maker("knn", model, features, "size")({"version": "0" * 12, "sha256": "0" * 64})
    schema["schemaVersion"] = 1
    schema["target"] = {"name": "size", "type": "category", "classes": ["0", "1", "2"]}
    schema["features"] = [{k: v for k, v in f.items() if k != "dtype"} for f in features]
    bundle = ModelBundle(model, schema, b"")
    batch = rows(6)
    answer = predict(bundle, batch)
    assert answer["predictions"] == [str(label) for label in model.predict(build_frame(bundle, batch))]
    assert answer["classes"] == ["0", "1", "2"] and len(answer["probabilities"]) == 6


def test_before_predict_gets_the_frame_and_the_model_gets_what_it_returns(regressor_bundle, rows):
    def double_length(frame):
        frame = frame.copy()
        frame["length"] = frame["length"] * 2
        return frame

    row = rows(1)[0]
    doubled, frame = predict_rows(regressor_bundle, [row], double_length)
    assert frame["length"][0] == row["length"] * 2
    assert doubled == predict(regressor_bundle, [dict(row, length=row["length"] * 2)])


def test_the_example_row_is_valid_and_mid_range(classifier_bundle):
    features = [
        {"name": "a", "type": "number", "observedMin": 1.0, "observedMax": 2.0},
        {"name": "b", "type": "integer", "observedMin": 1, "observedMax": 4},
        {"name": "c", "type": "category", "categories": ["x", "y"]},
        {"name": "d", "type": "number"},
    ]
    row = example_row({"features": features})
    assert row == {"a": 1.5, "b": 2.0, "c": "x", "d": 0.0}
    assert validate_instances({"instances": [example_row(classifier_bundle.schema)]}, classifier_bundle.compiled) == []


def test_the_self_test_refuses_a_hook_that_changes_the_models_columns(classifier_bundle):
    with pytest.raises(ModelError, match="before_predict must return the columns"):
        self_test(classifier_bundle, lambda frame: frame.drop(columns=["width"]), identity)


def test_the_self_test_refuses_an_answer_without_the_contracts_keys(classifier_bundle):
    with pytest.raises(ModelError, match="after_predict must keep the 'predictions' key"):
        self_test(classifier_bundle, identity, lambda answer, frame: {"model": answer["model"]})


def test_the_self_test_reports_a_model_that_cannot_predict(classifier_bundle):
    def broken(answer, frame):
        raise ValueError("cannot")

    with pytest.raises(ModelError, match="start-up self-test .*ValueError: cannot"):
        self_test(classifier_bundle, identity, broken)
