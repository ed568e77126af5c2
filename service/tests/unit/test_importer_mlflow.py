"""tools/importer/mlflow_model.py: an MLflow folder as MLflow 3 writes it, read without MLflow (and without PyYAML)."""

import json
import os

import pytest
import yaml
from importer_fixtures import skops_file

from tools.importer import ImportRefused
from tools.importer.mlflow_model import example_rows, parse_block_yaml, read_folder

# What mlflow.sklearn.save_model(..., serialization_format="skops", skops_trusted_types=[...], code_paths=[...],
# signature=..., input_example=...) wrote (MLflow 3.18): the signature is a JSON string folded over several lines.
MLMODEL = """flavors:
  python_function:
    code: code
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.skops
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: code
    pickled_model: model.skops
    serialization_format: skops
    sklearn_version: 1.7.2
    skops_trusted_types:
    - collections.OrderedDict
    - lightgbm.basic.Booster
    - loan_features.RatioFeatures
is_signature_from_type_hint: false
mlflow_version: 3.18.0
model_id: null
model_size_bytes: 229958
prompts: null
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  serving_input_path: serving_input_example.json
  type: dataframe
signature:
  inputs: '[{"type": "double", "name": "income", "required": false}, {"type": "long",
    "name": "years", "required": true}, {"type": "string", "name": "region", "required":
    false}, {"type": "string", "name": "plan", "required": true}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "object", "shape": [-1]}}]'
  params: null
utc_time_created: '2026-12-07 11:49:29.928144'
"""
CONDA = """channels:
- conda-forge
dependencies:
- python=3.11.7
- pip:
  - mlflow==3.18.0
  - scikit-learn==1.7.2
  - xgboost-cpu==3.1.2
name: mlflow-env
"""


def folder(tmp_path, mlmodel=MLMODEL, requirements="mlflow==3.18.0\nlightgbm==4.7.0\nscikit-learn==1.7.2\n", code=True):
    root = tmp_path / "mlflow-model"
    root.mkdir(parents=True)
    (root / "MLmodel").write_text(mlmodel)
    skops_file(root, name="model.skops")
    if requirements is not None:
        (root / "requirements.txt").write_text(requirements)
    if code:
        (root / "code").mkdir()
        (root / "code" / "loan_features.py").write_text("X = 1\n")
    (root / "input_example.json").write_text(
        json.dumps({"columns": ["income", "years", "region", "plan"], "data": [[75.4, 7, "south", "plus"]]})
    )
    return str(root)


def test_the_block_yaml_mlflow_writes_is_read_as_pyyaml_reads_it():
    assert parse_block_yaml(MLMODEL) == yaml.safe_load(MLMODEL)
    assert parse_block_yaml("a: 'it''s'\nb: \"x\\\"y\"\nc: []\nd: {}\ne: ~\nf: 1.5\ng: 1.7.2\n") == {
        "a": "it's",
        "b": 'x"y',
        "c": [],
        "d": {},
        "e": None,
        "f": 1.5,
        "g": "1.7.2",
    }
    with pytest.raises(ValueError):
        parse_block_yaml("a: 'never closed\nb: 1\n")


def test_a_folder_gives_its_format_versions_trust_code_example_and_typed_columns(tmp_path):
    root = folder(tmp_path)
    facts = read_folder(root)
    assert (facts["format"], facts["modelFile"], facts["sklearnVersion"]) == (
        "skops",
        os.path.join(root, "model.skops"),
        "1.7.2",
    )
    assert facts["trustedTypes"] == ["collections.OrderedDict", "lightgbm.basic.Booster", "loan_features.RatioFeatures"]
    assert facts["code"] == os.path.join(root, "code")
    assert facts["example"] == os.path.join(root, "input_example.json")
    assert facts["requirements"] == {"mlflow": "3.18.0", "lightgbm": "4.7.0", "scikit-learn": "1.7.2"}
    assert [(c["name"], c["type"], c["required"]) for c in facts["inputs"]] == [
        ("income", "double", False),
        ("years", "long", True),
        ("region", "string", False),
        ("plan", "string", True),
    ]
    assert example_rows(facts) == (["income", "years", "region", "plan"], [[75.4, 7, "south", "plus"]])


def test_without_requirements_txt_conda_yaml_s_pip_list_says_what_was_installed(tmp_path):
    root = folder(tmp_path, requirements=None, code=False)
    with open(os.path.join(root, "conda.yaml"), "w") as fh:
        fh.write(CONDA)
    facts = read_folder(root)
    assert facts["requirements"] == {"mlflow": "3.18.0", "scikit-learn": "1.7.2", "xgboost-cpu": "3.1.2"}
    assert facts["code"] is None


def test_a_tensor_signature_or_a_type_the_api_cannot_express_is_refused_by_column(tmp_path):
    tensor = MLMODEL.replace(
        MLMODEL[MLMODEL.index("  inputs:") : MLMODEL.index("  outputs:")],
        '  inputs: \'[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}]\'\n',
    )
    with pytest.raises(ImportRefused) as caught:
        read_folder(folder(tmp_path, mlmodel=tensor))
    assert "has a tensor signature (inputs without column names)" in str(caught.value)
    binary = MLMODEL.replace('"name": "income"', '"name": "photo"').replace('"double"', '"binary"')
    with pytest.raises(ImportRefused) as caught:
        read_folder(folder(tmp_path / "b", mlmodel=binary))
    assert "types input column(s) photo (binary), which the API cannot express" in str(caught.value)


def test_a_datetime_signature_column_is_read_as_a_column_the_api_takes(tmp_path):
    # mlflow.models.infer_signature types every datetime64 column "datetime", dates included.
    dated = MLMODEL.replace('"name": "income"', '"name": "visited"').replace('"double"', '"datetime"')
    facts = read_folder(folder(tmp_path, mlmodel=dated))
    assert [(c["name"], c["type"]) for c in facts["inputs"]][0] == ("visited", "datetime")


@pytest.mark.parametrize(
    "example",
    [
        {"dataframe_split": {"columns": ["a", "b"], "data": [[1, "x"]]}},
        [{"a": 1, "b": "x"}],
    ],
)
def test_the_other_example_layouts_mlflow_has_written_are_read_too(tmp_path, example):
    path = tmp_path / "input_example.json"
    path.write_text(json.dumps(example))
    assert example_rows({"example": str(path)}) == (["a", "b"], [[1, "x"]])
