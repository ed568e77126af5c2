"""serving.onnx_runtime: model.onnx (converted by tools.onnx_conversion) served as the fitted pipeline would be."""

import json

import numpy as np
import pytest
import support

import serving
from serving import ModelError, load_model, onnx_runtime, settings
from serving.onnx_runtime import Columns, OnnxModel
from serving.prediction import build_frame, predict


@pytest.fixture(scope="module")
def onnx_classifier_dir(tmp_path_factory, classifier, training):
    frame, features = training[0], training[1]
    directory = tmp_path_factory.mktemp("onnx") / "model"
    support.write_folder(directory, "sizes", classifier, features, "size", runtime="onnx", proof_frame=frame)
    return directory


@pytest.fixture(scope="module")
def onnx_regressor_dir(tmp_path_factory, regressor, training):
    frame, features = training[0], training[1]
    directory = tmp_path_factory.mktemp("onnx-regressor") / "model"
    support.write_folder(directory, "prices", regressor, features, "price", runtime="onnx", proof_frame=frame)
    return directory


@pytest.fixture(autouse=True)
def onnx_project(monkeypatch):
    """The project's runtime answer is onnx (serving/settings.py), as `sci-eb app --runtime onnx` renders it."""
    monkeypatch.setattr(settings, "RUNTIME", "onnx")


def test_the_folder_records_the_compiled_model_and_its_proof(onnx_classifier_dir):
    schema = json.loads((onnx_classifier_dir / "schema.json").read_text(encoding="utf-8"))
    entry = schema["model"]["onnx"]
    assert schema["model"]["runtime"] == "onnx" and entry["artifact"] == onnx_runtime.ARTIFACT
    assert (onnx_classifier_dir / entry["artifact"]).is_file() and len(entry["sha256"]) == 64
    assert entry["parity"]["rows"] == 60 and entry["parity"]["largestDifference"] <= entry["parity"]["tolerance"]


def test_a_classifier_answers_as_the_pipeline_does(onnx_classifier_dir, classifier, rows):
    bundle = load_model(str(onnx_classifier_dir))
    assert isinstance(bundle.model, OnnxModel) and bundle.classes == support.CLASSES
    batch = rows(20)
    answer = predict(bundle, batch)
    expected = classifier.predict_proba(build_frame(bundle, batch))
    assert answer["predictions"] == classifier.predict(build_frame(bundle, batch)).tolist()
    assert np.allclose(answer["probabilities"], expected, atol=1e-5)
    assert all(type(p) is float for p in answer["probabilities"][0])


def test_a_regressor_answers_as_the_pipeline_does(onnx_regressor_dir, regressor, rows):
    bundle = load_model(str(onnx_regressor_dir))
    batch = rows(20)
    answer = predict(bundle, batch)
    assert set(answer) == {"predictions", "model"}
    # The conversion's tolerance: 1e-5 relative to max(|value|, 1)
    assert np.allclose(answer["predictions"], regressor.predict(build_frame(bundle, batch)), rtol=1e-5, atol=1e-5)


def test_the_session_is_made_on_first_use_in_each_process(onnx_classifier_dir, monkeypatch, rows):
    # A session made before gunicorn forks would be shared by every worker: it is made where it predicts.
    model = load_model(str(onnx_classifier_dir)).model
    assert model._session is None
    first = model.session()
    assert model.session() is first
    monkeypatch.setattr(onnx_runtime.os, "getpid", lambda: -1)
    assert model.session() is not first


def test_columns_of_any_float_dtype_are_fed_as_the_graph_wants(onnx_regressor_dir, rows):
    bundle = load_model(str(onnx_regressor_dir))
    batch = rows(3)
    built = serving.prediction.build_columns(bundle, batch)
    columns = Columns(
        (name, column if column.dtype == object else column.astype(np.float64)) for name, column in built.items()
    )
    assert bundle.model.predict(columns).tolist() == pytest.approx(predict(bundle, batch)["predictions"])


def test_columns_behave_like_a_frame_for_hooks():
    columns = Columns([("a", np.zeros(3)), ("b", np.ones(3))])
    assert columns.columns == ["a", "b"] and len(columns) == 3
    assert len(Columns()) == 0


def test_a_changed_model_onnx_is_refused(tmp_path, onnx_classifier_dir):
    for path in onnx_classifier_dir.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / onnx_runtime.ARTIFACT).write_bytes((tmp_path / onnx_runtime.ARTIFACT).read_bytes() + b"\0")
    with pytest.raises(ModelError, match="refusing to load .*model.onnx: its sha256"):
        load_model(str(tmp_path))
    schema = json.loads((tmp_path / "schema.json").read_text(encoding="utf-8"))
    del schema["model"]["onnx"]
    (tmp_path / "schema.json").write_text(json.dumps(schema), encoding="utf-8")
    with pytest.raises(ModelError, match="model.onnx must name the ONNX artifact"):
        load_model(str(tmp_path))


def test_the_app_serves_nulls_and_hands_hooks_numpy_columns(onnx_classifier_dir):
    seen = []

    def before_predict(frame):
        seen.append(frame)
        return frame

    app = serving.create_app(str(onnx_classifier_dir), before_predict=before_predict)
    row = {"length": 4.0, "width": None, "rooms": 2, "colour": None}
    response = support.post(app.test_client(), {"instances": [row]})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["predictions"][0] in support.CLASSES
    frame = seen[-1]  # seen[0] is the start-up self-test's
    assert isinstance(frame, Columns) and frame["width"].dtype == np.float32 and np.isnan(frame["width"][0])
    assert frame["colour"].tolist() == [onnx_runtime.MISSING_CATEGORY]
