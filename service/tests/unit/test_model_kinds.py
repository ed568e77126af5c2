"""Models beyond classifiers with probabilities and regressors (docs/contract.md, "Answers"): classifiers without
predict_proba (labels, and decision scores where the model has them), clustering (cluster ids) and outlier detection
(labels and scores); labels keep their JSON type. Each is derived, written as train.py and the importer write it,
loaded and served, and compared with the model's own answers."""

import json

import numpy as np
import pandas as pd
import pytest
import support
from sklearn.cluster import DBSCAN, KMeans
from sklearn.ensemble import IsolationForest, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import LocalOutlierFactor
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

import serving
from serving.bundle import load_model
from serving.prediction import predict
from tools.errors import DerivationError
from tools.onnx_conversion import ConversionError
from tools.schema_derivation import target_schema, task_of


def served(tmp_path, model, features, target_name):
    """model/ written as train.py writes it, then the answer of the app to the first rows, as JSON."""
    schema = support.write_folder(tmp_path, "kinds", model, features, target_name, fmt="joblib")
    client = serving.create_app(str(tmp_path)).test_client()
    return schema, client


def answer_of(client, rows):
    response = support.post(client, {"instances": rows})
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))


def test_a_linear_svc_answers_labels_and_one_score_per_class(tmp_path, training, rows):
    frame, features, labels, _values = training
    model = support.fit_classifier(frame, features, labels, LinearSVC())
    schema, client = served(tmp_path, model, features, "size")
    assert schema["model"]["task"] == "classification"
    assert schema["target"] == {"name": "size", "type": "category", "classes": support.CLASSES, "outputs": ["scores"]}
    batch = rows(8)
    answer = answer_of(client, batch)
    assert list(answer) == ["predictions", "scores", "classes", "model"]
    reference = model.predict(frame.iloc[:8])
    assert answer["predictions"] == reference.tolist() and answer["classes"] == support.CLASSES
    assert np.allclose(answer["scores"], model.decision_function(frame.iloc[:8]), rtol=0, atol=1e-12)
    # the label is the class with the highest score
    assert [support.CLASSES[int(np.argmax(s))] for s in answer["scores"]] == answer["predictions"]


def test_a_binary_classifier_without_probabilities_gives_minus_s_and_s_and_keeps_integer_labels(
    tmp_path, training, rows
):
    frame, features, labels, _values = training
    binary = (labels == "large").astype(int)  # 0 and 1, as a notebook's target often is
    model = support.fit_classifier(frame, features, binary, LinearSVC())
    schema, client = served(tmp_path, model, features, "large")
    assert schema["target"]["classes"] == [0, 1]
    answer = answer_of(client, rows(10))
    assert all(type(p) is int for p in answer["predictions"]) and answer["classes"] == [0, 1]
    s = model.decision_function(frame.iloc[:10])
    assert np.allclose(answer["scores"], np.column_stack([-s, s]), rtol=0, atol=1e-12)
    assert answer["predictions"] == model.predict(frame.iloc[:10]).tolist()
    assert '"predictions":[' + ",".join(str(p) for p in answer["predictions"]) + "]" in json.dumps(
        answer, separators=(",", ":")
    )


def test_a_hard_voting_classifier_answers_labels_only(tmp_path, training, rows):
    frame, features, labels, _values = training
    voting = VotingClassifier(
        [("lr", LogisticRegression(max_iter=500)), ("tree", DecisionTreeClassifier(random_state=0))], voting="hard"
    )
    model = support.fit_classifier(frame, features, labels, voting)
    schema, client = served(tmp_path, model, features, "size")
    assert schema["target"]["outputs"] == []
    answer = answer_of(client, rows(5))
    assert list(answer) == ["predictions", "classes", "model"]
    assert answer["predictions"] == model.predict(frame.iloc[:5]).tolist()


def test_boolean_labels_stay_booleans(tmp_path, training, rows):
    frame, features, labels, _values = training
    model = support.fit_classifier(frame, features, labels == "small")
    schema, client = served(tmp_path, model, features, "small")
    assert schema["target"]["classes"] == [False, True]
    answer = answer_of(client, rows(6))
    assert all(type(p) is bool for p in answer["predictions"]) and answer["classes"] == [False, True]


def test_k_means_answers_cluster_ids(tmp_path, training, rows):
    frame, features, _labels, _values = training
    model = support.fit(frame, features, None, KMeans(n_clusters=4, n_init=3, random_state=0))
    assert task_of(model) == "clustering"
    schema, client = served(tmp_path, model, features, "cluster")
    assert schema["target"] == {"name": "cluster", "type": "cluster", "clusters": 4}
    answer = answer_of(client, rows(12))
    assert list(answer) == ["predictions", "model"]
    assert answer["predictions"] == model.predict(frame.iloc[:12]).tolist()
    assert all(type(c) is int and 0 <= c < 4 for c in answer["predictions"])


def test_an_isolation_forest_answers_inlier_or_outlier_and_its_score(tmp_path, training, rows):
    frame, features, _labels, _values = training
    model = support.fit(frame, features, None, IsolationForest(n_estimators=20, random_state=0))
    assert task_of(model) == "outlier-detection"
    schema, client = served(tmp_path, model, features, "outlier")
    assert schema["target"] == {"name": "outlier", "type": "outlier", "outputs": ["scores"]}
    outlier = dict(rows(1)[0], length=1e6, rooms=1e6)
    batch = rows(9) + [outlier]
    answer = answer_of(client, batch)
    assert list(answer) == ["predictions", "scores", "model"]
    assert answer["predictions"][-1] == -1 and answer["scores"][-1] < 0
    reference = pd.concat([frame.iloc[:9], pd.DataFrame([outlier])], ignore_index=True)
    reference = reference.astype(frame.dtypes.to_dict())
    assert answer["predictions"] == model.predict(reference).tolist()
    assert np.allclose(answer["scores"], model.decision_function(reference), rtol=0, atol=1e-12)


def test_models_that_cannot_answer_new_rows_are_refused_saying_why(training):
    frame, features, _labels, _values = training
    dbscan = support.fit(frame, features, None, DBSCAN())
    with pytest.raises(DerivationError, match="DBSCAN is a clustering model that cannot assign new rows"):
        task_of(dbscan)
    lof = support.fit(frame, features, None, LocalOutlierFactor())
    with pytest.raises(DerivationError, match="LocalOutlierFactor predicts new rows with novelty=True"):
        task_of(lof)
    novelty = support.fit(frame, features, None, LocalOutlierFactor(novelty=True))
    assert task_of(novelty) == "outlier-detection"
    with pytest.raises(DerivationError, match="is not a scikit-learn classifier, regressor, clustering model or"):
        task_of(support.preprocess(features).fit(frame))


def test_a_version_1_schema_promising_probabilities_keeps_its_answer_shape(classifier_dir, rows):
    bundle = load_model(str(classifier_dir))
    assert list(predict(bundle, rows(2))) == ["predictions", "probabilities", "classes", "model"]


@pytest.mark.parametrize(
    "kind, message",
    [
        ("clustering", "a clustering model whose answers carry labels only"),
        ("outlier", "an outlier-detection model whose answers carry scores"),
        ("scores", "a classification model whose answers carry scores"),
    ],
)
def test_the_onnx_runtime_refuses_what_it_cannot_serve_yet_by_name(tmp_path, training, kind, message):
    frame, features, labels, _values = training
    model = {
        "clustering": lambda: support.fit(frame, features, None, KMeans(n_clusters=2, n_init=2, random_state=0)),
        "outlier": lambda: support.fit(frame, features, None, IsolationForest(n_estimators=5, random_state=0)),
        "scores": lambda: support.fit_classifier(frame, features, labels, LinearSVC()),
    }[kind]()
    lead = "the onnx runtime cannot serve this model: it serves only regressors and classifiers that answer labels or "
    with pytest.raises(ConversionError, match=lead + "probabilities, not yet " + message):
        support.write_folder(tmp_path, "k", model, features, "y", runtime="onnx", proof_frame=frame)
    assert not (tmp_path / "schema.json").exists()


def test_the_onnx_runtime_refuses_typed_features_by_name(tmp_path, training):
    frame, features, labels, _values = training
    typed = frame.assign(member=np.arange(len(frame)) % 2 == 0)
    described = features + [{"name": "member", "type": "boolean", "nullable": False, "dtype": "bool"}]
    model = support.fit_classifier(typed, features, labels)
    with pytest.raises(ConversionError, match="cannot serve feature 'member' \\(boolean\\) yet .*member=number"):
        support.write_folder(tmp_path, "k", model, described, "y", runtime="onnx", proof_frame=typed)


def test_target_schemas_describe_every_kind():
    class Labels(object):
        classes_ = np.array([1, 2])

        def decision_function(self, x):
            return x

    assert target_schema(Labels(), "y", "classification") == {
        "name": "y",
        "type": "category",
        "classes": [1, 2],
        "outputs": ["scores"],
    }
    assert target_schema(None, "price", "regression") == {"name": "price", "type": "number"}
