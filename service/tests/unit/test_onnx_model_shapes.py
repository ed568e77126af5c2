"""tools.onnx_conversion on the models people bring: whatever their shape (a plain estimator, a pipeline without a
ColumnTransformer, an estimator fitted on an array, stacking and voting, LightGBM and XGBoost) and whatever their
column names, converted, proven on held-out rows, written, loaded and served as scikit-learn answers."""

import lightgbm
import numpy as np
import pandas as pd
import pytest
import support
import xgboost
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_wine
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from serving import load_model, settings
from serving.onnx_runtime import MATRIX_INPUT
from serving.prediction import build_frame, predict
from tools.onnx_conversion import ConversionError
from tools.schema_derivation import describe_features

WINE_SLASHED = "od280/od315_of_diluted_wines"  # scikit-learn's own name: not a valid ONNX input name


@pytest.fixture(autouse=True)
def onnx_project(monkeypatch):
    monkeypatch.setattr(settings, "RUNTIME", "onnx")


@pytest.fixture(scope="module")
def wine():
    """(train frame, held-out frame, train labels, held-out labels) of scikit-learn's wine data, its own names."""
    frame, target = load_wine(return_X_y=True, as_frame=True)
    labels = target.map(lambda c: "cultivar_%d" % c)
    assert WINE_SLASHED in frame.columns
    return train_test_split(frame, labels, test_size=0.3, random_state=0, stratify=labels)


def served(tmp_path, model, train, held_out, target="cultivar"):
    """model/ written on the onnx runtime (proven on `held_out`), loaded as the service loads it -> (bundle, schema,
    request rows of the held-out frame)."""
    _frame, features = describe_features(train, log=lambda *a: None, model=model)
    proof, _same = describe_features(held_out, log=lambda *a: None, model=model)
    schema = support.write_folder(tmp_path, "m", model, features, target, runtime="onnx", proof_frame=proof)
    bundle = load_model(str(tmp_path))
    return bundle, schema, support.valid_rows(proof, features)


@pytest.mark.parametrize(
    "kind",
    ["plain", "pipeline", "stacking", "voting"],
)
def test_any_shape_of_estimator_converts_with_one_matrix_input(tmp_path, wine, kind):
    train, held_out, y_train, _y = wine
    model = {
        "plain": lambda: GradientBoostingClassifier(n_estimators=30, random_state=0),
        "pipeline": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "stacking": lambda: StackingClassifier(
            [
                ("forest", RandomForestClassifier(20, random_state=0)),
                ("linear", make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))),
            ]
        ),
        "voting": lambda: VotingClassifier(
            [
                ("forest", RandomForestClassifier(20, random_state=0)),
                ("linear", make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))),
            ],
            voting="soft",
        ),
    }[kind]().fit(train, y_train)
    bundle, schema, rows = served(tmp_path, model, train, held_out)
    assert schema["model"]["onnx"]["inputs"] == {"layout": "matrix", "name": MATRIX_INPUT}
    assert schema["model"]["onnx"]["parity"]["rows"] == len(held_out)
    answer = predict(bundle, rows)
    frame = build_frame(bundle, rows)
    assert answer["predictions"] == model.predict(frame).tolist()
    assert np.abs(np.array(answer["probabilities"]) - model.predict_proba(frame)).max() <= 1e-5


def test_a_hard_vote_with_string_labels_converts_and_answers_its_labels(tmp_path, wine):
    # No probabilities: the proof compares labels only (they crashed its float comparison, a tester found).
    train, held_out, y_train, _y = wine
    model = VotingClassifier(
        [("forest", RandomForestClassifier(20, random_state=0)), ("tree", GradientBoostingClassifier(n_estimators=20))]
    ).fit(train, y_train)
    bundle, schema, rows = served(tmp_path, model, train, held_out)
    assert schema["model"]["onnx"]["parity"]["largestDifference"] == 0
    answer = predict(bundle, rows)
    assert "probabilities" not in answer
    assert answer["predictions"] == model.predict(build_frame(bundle, rows)).tolist()


def test_a_model_skl2onnx_fails_on_is_refused_with_the_estimator_and_the_real_cause(tmp_path, wine):
    # skl2onnx 1.20 builds HistGradientBoosting's tree node with booleans where onnx 1.23 wants ints: an upstream
    # mismatch, named as such, with the way to keep serving the model.
    train, held_out, y_train, _y = wine
    model = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(train, y_train)
    with pytest.raises(ConversionError) as caught:
        served(tmp_path, model, train, held_out)
    message = str(caught.value)
    assert "cannot convert the model [the model (HistGradientBoostingClassifier)]" in message
    assert "because of TypeError: Field onnx.AttributeProto.ints: Expected an int, got a boolean" in message
    assert "stay on --runtime sklearn" in message
    assert list(tmp_path.iterdir()) == []


def test_an_estimator_fitted_on_an_array_converts(tmp_path, wine):
    train, held_out, y_train, _y = wine
    model = GradientBoostingClassifier(n_estimators=20, random_state=0).fit(train.values, y_train)
    bundle, schema, rows = served(tmp_path, model, train, held_out)
    assert schema["model"]["onnx"]["inputs"]["layout"] == "matrix"
    answer = predict(bundle, rows)
    values = build_frame(bundle, rows).values
    assert answer["predictions"] == model.predict(values).tolist()
    assert np.abs(np.array(answer["probabilities"]) - model.predict_proba(values)).max() <= 1e-5


def test_feature_names_onnx_cannot_take_are_mapped_recorded_and_invisible_to_clients(tmp_path, wine):
    train, held_out, y_train, _y = wine
    numbers = list(train.columns)
    model = make_pipeline(
        ColumnTransformer([("scaled", StandardScaler(), numbers)]), LogisticRegression(max_iter=1000)
    ).fit(train, y_train)
    bundle, schema, rows = served(tmp_path, model, train, held_out)
    inputs = schema["model"]["onnx"]["inputs"]
    assert inputs["layout"] == "columns"
    mapped = dict(zip(numbers, inputs["names"]))
    assert mapped[WINE_SLASHED] != WINE_SLASHED and "/" not in mapped[WINE_SLASHED]
    assert mapped["alcohol"] == "alcohol"
    # Clients send and see the feature names only
    assert [f["name"] for f in schema["features"]] == numbers and WINE_SLASHED in rows[0]
    answer = predict(bundle, rows)
    frame = build_frame(bundle, rows)
    assert answer["predictions"] == model.predict(frame).tolist()
    assert np.abs(np.array(answer["probabilities"]) - model.predict_proba(frame)).max() <= 1e-5


def test_a_matrix_of_numbers_and_categories_is_refused_naming_both_and_writes_nothing(tmp_path):
    frame = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0] * 10, "colour": ["red", "blue"] * 20})
    labels = ["a", "b", "b", "a"] * 10
    model = make_pipeline(OrdinalEncoder(), LogisticRegression()).fit(frame, labels)
    with pytest.raises(ConversionError) as caught:
        served(tmp_path, model, frame, frame)
    message = str(caught.value)
    assert "mix numbers (size) and categories (colour)" in message and "stay on --runtime sklearn" in message
    assert list(tmp_path.iterdir()) == []


def _mixed(frame, labels):
    """The wine frame with a category column, for library estimators inside a ColumnTransformer pipeline."""
    return frame.assign(region=np.where(frame["proline"] > 750, "north", "south")), labels


@pytest.mark.parametrize("library", ["lightgbm", "xgboost"])
@pytest.mark.parametrize("task", ["classifier", "regressor"])
@pytest.mark.parametrize("shape", ["alone", "pipeline"])
def test_lightgbm_and_xgboost_convert_through_onnxmltools_alone_and_in_pipelines(tmp_path, wine, library, task, shape):
    train, held_out, y_train, y_held_out = wine
    estimator = {
        ("lightgbm", "classifier"): lambda: lightgbm.LGBMClassifier(n_estimators=50, verbose=-1, random_state=0),
        ("lightgbm", "regressor"): lambda: lightgbm.LGBMRegressor(n_estimators=50, verbose=-1, random_state=0),
        ("xgboost", "classifier"): lambda: xgboost.XGBClassifier(n_estimators=50, random_state=0),
        ("xgboost", "regressor"): lambda: xgboost.XGBRegressor(n_estimators=50, random_state=0),
    }[(library, task)]()
    if task == "regressor":
        target = train["alcohol"]
        train, held_out = train.drop(columns="alcohol"), held_out.drop(columns="alcohol")
    else:
        # XGBoost wants the classes as 0..n-1; the service's classes are those of the fitted estimator.
        target = y_train.str[-1].astype(int) if library == "xgboost" else y_train
    if shape == "pipeline":
        train, held_out = _mixed(train, None)[0], _mixed(held_out, None)[0]
        # Trees need no scaling: the numbers pass through as they are, the category is one-hot encoded.
        estimator = make_pipeline(
            ColumnTransformer([("region", OneHotEncoder(), ["region"])], remainder="passthrough"), estimator
        )
    model = estimator.fit(train, target)
    bundle, schema, rows = served(tmp_path, model, train, held_out, target="y")
    parity = schema["model"]["onnx"]["parity"]
    assert parity["rows"] == len(held_out) and parity["largestDifference"] <= parity["tolerance"]
    answer = predict(bundle, rows)
    frame = build_frame(bundle, rows)
    if task == "classifier":
        assert answer["predictions"] == model.predict(frame).tolist()
        assert np.abs(np.array(answer["probabilities"]) - model.predict_proba(frame)).max() <= 1e-5
    else:
        expected = model.predict(frame)
        assert (np.abs(np.array(answer["predictions"]) - expected) / np.maximum(np.abs(expected), 1)).max() <= 1e-5
