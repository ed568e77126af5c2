"""tools/importer/schema.py: the sample, the model's input columns and the schema.json around them."""

import json
import os
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from importer_fixtures import IRIS_COLUMNS, classifier, regressor, sample_csv, unnamed_classifier
from sklearn.linear_model import LogisticRegression

from tools.importer import ImportRefused
from tools.importer.schema import (
    current_name,
    derive_schema_parts,
    feature_names,
    import_schema,
    read_plain,
    read_sample,
)


def options(target=None, name=None, path="model.skops", sample=None):
    return SimpleNamespace(target=target, name=name, path=path, sample=sample)


def refused(call, *args):
    with pytest.raises(ImportRefused) as caught:
        call(*args)
    return str(caught.value)


def test_a_sample_is_required_and_must_be_a_readable_csv(tmp_path):
    assert refused(read_sample, None).startswith("--sample CSV is required")
    assert refused(read_sample, str(tmp_path / "none.csv")) == "--sample: %s does not exist" % (tmp_path / "none.csv")
    (tmp_path / "empty.csv").write_text("")
    assert refused(read_sample, str(tmp_path / "empty.csv")).startswith(
        "--sample: cannot read %s as CSV" % (tmp_path / "empty.csv")
    )


def test_an_integer_column_with_gaps_stays_integer_in_the_schema_but_plain_for_the_model(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("rooms,area\n3,50.5\n,61.0\n4,70.25\n")
    assert str(read_sample(str(path))["rooms"].dtype) == "Int64"
    assert str(read_plain(str(path))["rooms"].dtype) == "float64"  # what a notebook's model saw


def test_names_come_from_the_model_first_and_unused_sample_columns_are_noted(tmp_path, capsys):
    sample = read_sample(sample_csv(tmp_path))
    sample["row_id"] = range(len(sample))
    assert feature_names(classifier(), None, sample, "species") == IRIS_COLUMNS
    assert "note: sample column(s) not used by the model, ignored: row_id" in capsys.readouterr().out


def test_without_feature_names_the_mlflow_signature_then_the_header_name_the_inputs(tmp_path):
    unnamed = unnamed_classifier()
    sample = read_sample(sample_csv(tmp_path))
    facts = {"inputs": [{"name": c} for c in IRIS_COLUMNS]}
    assert feature_names(unnamed, facts, sample[["species"] + IRIS_COLUMNS], None) == IRIS_COLUMNS
    assert feature_names(unnamed, None, sample, "species") == IRIS_COLUMNS


def test_the_header_with_the_target_among_it_asks_for_target(tmp_path):
    unnamed = unnamed_classifier()
    message = refused(feature_names, unnamed, None, read_sample(sample_csv(tmp_path)), None)
    assert message.startswith("the model takes 4 input columns but the sample's header gives 5")
    assert message.endswith("name the target with --target, or drop the sample's extra columns")


def test_a_target_that_is_an_input_or_a_missing_input_column_is_refused_by_name(tmp_path):
    sample = read_sample(sample_csv(tmp_path))
    message = refused(feature_names, classifier(), None, sample, "petal_width_cm")
    assert message == (
        "--target petal_width_cm is one of the model's inputs (from the model's feature_names_in_); name the column "
        "it predicts"
    )
    message = refused(feature_names, classifier(), None, sample.drop(columns=["sepal_width_cm"]), "species")
    assert message.startswith("the sample lacks the model's input column(s) sepal_width_cm (names from the model's")


def test_a_classifier_s_schema_parts_describe_its_inputs_and_its_classes_in_order(tmp_path):
    sample = read_sample(sample_csv(tmp_path))
    task, frame, features, target = derive_schema_parts(classifier(), None, sample, options(target="species"))
    assert task == "classification"
    assert [(f["name"], f["type"]) for f in features] == [(c, "number") for c in IRIS_COLUMNS]
    petal = features[3]
    assert (petal["observedMin"], petal["observedMax"]) == (
        sample["petal_width_cm"].min(),
        sample["petal_width_cm"].max(),
    )
    assert target == {
        "name": "species",
        "type": "category",
        "classes": ["setosa", "versicolor", "virginica"],
        "outputs": ["probabilities"],
    }
    assert list(frame.columns) == IRIS_COLUMNS and len(frame) == len(sample)
    assert all(frame[c].dtype == np.float64 for c in IRIS_COLUMNS)  # as the service builds request frames


def test_a_regressor_s_target_is_a_number_named_prediction_unless_told(tmp_path, capsys):
    sample = read_sample(sample_csv(tmp_path, target=False))
    task, _frame, features, target = derive_schema_parts(regressor(), None, sample, options())
    assert (task, target) == ("regression", {"name": "prediction", "type": "number"})
    assert [f["name"] for f in features] == IRIS_COLUMNS[:3]
    derive_schema_parts(regressor(), None, sample, options(target="width"))
    assert "note: --target width is not a column of the sample; it only names the prediction" in capsys.readouterr().out


def test_an_unfitted_model_is_refused(tmp_path):
    sample = read_sample(sample_csv(tmp_path))
    message = refused(derive_schema_parts, LogisticRegression(), None, sample, options())
    assert message.startswith("the model is not fitted (") and message.endswith("fit it before saving")


def test_an_input_column_without_values_is_refused(tmp_path):
    path = sample_csv(tmp_path)
    sample = read_sample(path)
    sample["sepal_width_cm"] = None
    message = refused(derive_schema_parts, classifier(), None, sample, options(target="species"))
    assert message == "--sample: column(s) sepal_width_cm have no values; the sample needs values for every input"


def test_the_schema_records_where_the_model_came_from_and_keeps_the_current_name(tmp_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    assert current_name(str(model_dir)) == "demo"  # no schema.json yet: the project's name
    (model_dir / "schema.json").write_text(json.dumps({"model": {"name": "churn"}}))
    sample = read_sample(sample_csv(tmp_path))
    task, _frame, features, target = derive_schema_parts(classifier(), None, sample, options(target="species"))
    make_schema = import_schema(
        classifier(), task, features, target, options(path="/tmp/mlflow/"), str(model_dir), "skops", {}, "1.5.2"
    )
    schema = make_schema({"artifact": "model.skops", "sha256": "0" * 64})
    model = schema["model"]
    assert (model["name"], model["task"], model["estimator"]) == ("churn", "classification", "LogisticRegression")
    assert (model["source"], model["importedFrom"], model["importedAs"]) == ("import", "mlflow", "mlflow-skops")
    assert (model["artifact"], model["writtenBySklearn"], model["metrics"]) == ("model.skops", "1.5.2", {})
    assert schema["features"] == features and schema["target"] == target
    assert schema["limits"] == {"maxRows": 1000, "maxBodyBytes": 1048576}
    renamed = import_schema(
        classifier(), task, features, target, options(name="iris"), str(model_dir), "pickle", None, None
    )({})
    assert (renamed["model"]["name"], renamed["model"]["importedAs"]) == ("iris", "pickle")
    assert renamed["model"]["writtenBySklearn"] == renamed["model"]["sklearnVersion"]
    assert os.listdir(str(model_dir)) == ["schema.json"]


def test_an_mlflow_input_example_stands_in_for_the_sample_typed_by_the_signature(tmp_path, capsys):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from tools.importer.schema import model_categories, read_rows

    rows = [[75.4, 7, "south", "plus"], [None, 13, None, "basic"]]
    example = tmp_path / "input_example.json"
    example.write_text(json.dumps({"columns": ["income", "years", "region", "plan"], "data": rows}))
    inputs = [
        {"name": "income", "type": "double", "required": False},
        {"name": "years", "type": "long", "required": True},
        {"name": "region", "type": "string", "required": False},
        {"name": "plan", "type": "string", "required": True},
    ]
    facts = {"example": str(example), "inputs": inputs}
    sample, plain, rows_are = read_rows(options(target="decision"), facts)
    assert rows_are == "input example rows"
    assert "derived from the MLflow signature and the 2 rows of input_example.json" in capsys.readouterr().out
    assert [str(t) for t in sample.dtypes] == ["float64", "Int64", "object", "object"]
    assert [str(t) for t in plain.dtypes] == ["float64", "int64", "object", "object"]

    # The model's encoders know every category (the imputer's fill value stands for "missing", not a category).
    frame = pd.DataFrame(
        {"income": [50.0, 60.0, 40.0], "years": [1, 2, 3], "region": ["north", "east", None], "plan": ["pro"] * 3}
    )
    categories = Pipeline(
        [("fill", SimpleImputer(strategy="constant", fill_value="missing")), ("onehot", OneHotEncoder())]
    )
    prep = ColumnTransformer([("num", "passthrough", ["income", "years"]), ("cat", categories, ["region", "plan"])])
    model = Pipeline([("prep", prep), ("model", LogisticRegression())]).fit(frame, ["a", "b", "a"])
    assert model_categories(model) == {"region": ["east", "north"], "plan": ["pro"]}
    task, _frame, features, _target = derive_schema_parts(model, facts, sample, options(target="decision"), True)
    assert task == "classification"
    by_name = dict((f["name"], f) for f in features)
    assert by_name["region"]["categories"] == ["east", "north", "south"]
    assert by_name["plan"]["categories"] == ["basic", "plus", "pro"]
    assert [by_name[n]["nullable"] for n in ("income", "years", "region", "plan")] == [True, False, True, False]


def date_example(tmp_path):
    """An MLflow folder's facts whose signature types a date column "datetime" (as infer_signature does), with the
    model it was logged with: text, a flag and the date, as tests/unit/typed_models.py's notebook fits them."""
    from typed_models import typed_classifier, typed_data

    frame, labels = typed_data()
    model = typed_classifier(frame[["review", "member", "joined", "grade", "spend"]], labels)
    head = frame.head(5)
    rows = [[r, bool(m), j.isoformat(), int(g), float(s)] for r, m, j, g, s in head.itertuples(index=False)]
    example = tmp_path / "input_example.json"
    example.write_text(json.dumps({"columns": list(frame.columns), "data": rows}))
    inputs = [
        {"name": "review", "type": "string", "required": True},
        {"name": "member", "type": "boolean", "required": True},
        {"name": "joined", "type": "datetime", "required": True},
        {"name": "grade", "type": "long", "required": True},
        {"name": "spend", "type": "double", "required": True},
    ]
    return model, {"example": str(example), "inputs": inputs}


def test_a_datetime_signature_column_of_an_example_is_a_datetime_feature(tmp_path, capsys):
    from tools.importer.schema import read_rows, reference_frame

    model, facts = date_example(tmp_path)
    sample, plain, _rows_are = read_rows(options(target="churned"), facts)
    assert str(sample["joined"].dtype).startswith("datetime64") and str(plain["joined"].dtype).startswith("datetime64")
    _task, frame, features, _target = derive_schema_parts(model, facts, sample, options(target="churned"), True)
    joined = [f for f in features if f["name"] == "joined"][0]
    assert joined["type"] == "datetime" and joined["observedMin"].endswith("T00:00:00")
    assert str(frame["joined"].dtype).startswith("datetime64")
    assert "column 'joined' is a date-time (the MLflow signature)" in capsys.readouterr().out
    assert len(model.predict(reference_frame(plain, features))) == 5


def test_feature_type_wins_over_a_datetime_signature_column(tmp_path, capsys):
    from tools.importer.schema import read_rows

    model, facts = date_example(tmp_path)
    told = SimpleNamespace(target="churned", name=None, path="mlflow", sample=None, feature_type=["joined=date"])
    sample, _plain, _rows_are = read_rows(told, facts)
    _task, _frame, features, _target = derive_schema_parts(model, facts, sample, told, True)
    joined = [f for f in features if f["name"] == "joined"][0]
    assert joined["type"] == "date" and len(joined["observedMin"]) == len("2020-01-01")
    assert "column 'joined' is a date (given)" in capsys.readouterr().out


def test_without_a_sample_or_an_example_a_sample_is_required(tmp_path):
    from tools.importer.schema import read_rows

    assert refused(read_rows, options(), None).startswith("--sample CSV is required")
