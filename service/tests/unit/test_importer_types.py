"""The importer with feature types and model kinds (docs/contract.md): a notebook's pipeline on text, a flag, a date
and an integer-coded grade, saved as a pickle and its sample as pandas writes CSV; a column the model says nothing
about is refused until --feature-type types it; clustering models and classifiers without probabilities are proven
and served with their own answers, integer labels as integers."""

import json
import os
from types import SimpleNamespace

import joblib
from test_importer_cli import project, snapshot  # noqa: F401  (the fixture: a project whose Procfile serves)
from typed_models import clusters, linear_svc, typed_classifier, typed_data

from tools.importer import cli
from tools.importer.schema import derive_schema_parts, read_sample

# The notebook's own functions (a FunctionTransformer's) live in typed_models.py, which --code brings into model_code/.
OWN_CODE = ["--code", os.path.join(os.path.dirname(os.path.abspath(__file__)), "typed_models.py")]


def notebook(tmp_path, model, frame, labels=None, name="model.joblib"):
    """The model as a pickle and the sample as CSV (pandas writes dates as YYYY-MM-DD and booleans as True/False)."""
    path = os.path.join(str(tmp_path), name)
    joblib.dump(model, path)
    sample = frame.copy()
    if labels is not None:
        sample["churned"] = labels
    csv = os.path.join(str(tmp_path), "sample.csv")
    sample.to_csv(csv, index=False)
    return path, csv


def schema_of(project):  # noqa: F811
    with open(str(project / "model" / "schema.json"), encoding="utf-8") as fh:
        return json.load(fh)


def test_a_date_column_the_model_does_not_type_is_refused_until_typed_then_served(project, tmp_path, capsys):  # noqa: F811
    frame, labels = typed_data()
    path, csv = notebook(tmp_path, typed_classifier(frame, labels), frame, labels)
    args = [
        path,
        "--sample",
        csv,
        "--target",
        "churned",
        "--trust-pickle",
        *OWN_CODE,
        "--model-dir",
        str(project / "model"),
    ]
    before = snapshot(project)
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "the model does not say what these columns of strings are" in err
    assert "joined (" in err and "--feature-type joined=date)" in err
    assert "review (" not in err  # the model's TfidfVectorizer says it is text
    assert snapshot(project) == before

    assert cli.main(args + ["--feature-type", "joined=date"]) == 0
    out = capsys.readouterr().out
    assert "note: column 'review' is text (the model's TfidfVectorizer, ColumnTransformer step 'text')" in out
    assert "note: column 'joined' is a date (given)" in out
    assert "the same predictions and probabilities as the original (largest difference 0)" in out
    schema = schema_of(project)
    assert schema["schemaVersion"] == 2
    assert [(f["name"], f["type"]) for f in schema["features"]] == [
        ("review", "text"),
        ("member", "boolean"),
        ("joined", "date"),
        ("grade", "category"),
        ("spend", "number"),
    ]
    assert schema["features"][3]["categories"] == [1, 2, 3, 4]
    assert schema["target"] == {"name": "churned", "type": "category", "classes": [0, 1], "outputs": ["probabilities"]}


def test_a_classifier_without_probabilities_is_proven_on_its_labels_and_scores(project, tmp_path, capsys):  # noqa: F811
    frame, labels = typed_data()
    path, csv = notebook(tmp_path, linear_svc(frame, labels), frame, labels)
    args = [path, "--sample", csv, "--target", "churned", "--trust-pickle", *OWN_CODE, "--feature-type", "joined=date"]
    assert cli.main(args + ["--model-dir", str(project / "model")]) == 0
    assert "the same predictions and scores as the original" in capsys.readouterr().out
    schema = schema_of(project)
    assert schema["model"]["estimator"] == "LinearSVC"
    assert schema["target"] == {"name": "churned", "type": "category", "classes": [0, 1], "outputs": ["scores"]}


def test_a_clustering_model_is_proven_on_its_cluster_ids(project, tmp_path, capsys):  # noqa: F811
    frame, _labels = typed_data()
    path, csv = notebook(tmp_path, clusters(frame), frame[["spend", "grade"]])
    assert cli.main([path, "--sample", csv, "--trust-pickle", *OWN_CODE, "--model-dir", str(project / "model")]) == 0
    out = capsys.readouterr().out
    assert "(clustering, KMeans, version " in out and "the same predictions as the original" in out
    schema = schema_of(project)
    assert schema["target"] == {"name": "prediction", "type": "cluster", "clusters": 3}
    assert [f["type"] for f in schema["features"]] == ["number", "integer"]


def test_an_mlflow_signature_types_what_the_model_does_not_and_feature_type_wins_over_both(tmp_path):
    frame, labels = typed_data()
    model = typed_classifier(frame, labels)
    _path, csv = notebook(tmp_path, model, frame, labels)
    signature = [{"name": "joined", "type": "datetime"}, {"name": "spend", "type": "double"}]
    signature += [{"name": "review", "type": "string"}, {"name": "grade", "type": "long"}]
    sample = read_sample(csv)
    _task, frame, features, _target = derive_schema_parts(model, {"inputs": signature}, sample, options())
    types = {f["name"]: f["type"] for f in features}
    # grade: the signature says long, the model one-hot encodes it: a category of whole numbers
    assert types == {
        "review": "text",
        "member": "boolean",
        "joined": "datetime",
        "grade": "category",
        "spend": "number",
    }
    assert features[2]["observedMin"].endswith("T00:00:00") and str(frame["joined"].dtype).startswith("datetime64")
    told = options(feature_type=["joined=date", "grade=integer"])
    _task, _frame, features, _target = derive_schema_parts(model, {"inputs": signature}, sample, told)
    assert [f["type"] for f in features] == ["text", "boolean", "date", "integer", "number"]


def options(**values):
    values.setdefault("target", "churned")
    return SimpleNamespace(name=None, path="model.joblib", **values)


def test_bad_feature_types_are_refused_naming_them(project, tmp_path, capsys):  # noqa: F811
    frame, labels = typed_data()
    path, csv = notebook(tmp_path, typed_classifier(frame, labels), frame, labels)
    args = [
        path,
        "--sample",
        csv,
        "--target",
        "churned",
        "--trust-pickle",
        *OWN_CODE,
        "--model-dir",
        str(project / "model"),
    ]
    assert cli.main(args + ["--feature-type", "joined=day"]) == 2
    assert "--feature-type joined=day: give NAME=TYPE, TYPE one of number" in capsys.readouterr().err
    assert cli.main(args + ["--feature-type", "missing=text"]) == 2
    assert "a type is given for column(s) the data does not have: missing" in capsys.readouterr().err
