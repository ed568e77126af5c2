"""tools/importer/preflight.py and user_code.py: every refusal the bytes decide, with its fix, before any venv; the
user's own code brought in only with --code."""

import importlib
import json
import os
import sys
from types import SimpleNamespace

import pytest
from importer_fixtures import iris, joblib_file, mlflow_folder, sample_csv, skops_file
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from tools.importer import ImportRefused, preflight, user_code, wheels
from tools.importer.preflight import Context, check

FEATURES = "import numpy as np\n\n\ndef double(values):\n    return np.asarray(values) * 2\n"


def options(path, **given):
    values = dict(
        path=str(path),
        sample=None,
        target=None,
        trust_pickle=False,
        trust_type=[],
        trust_mlflow_types=False,
        code=[],
        allow_version_mismatch=False,
        keep_pins=False,
    )
    values.update(given)
    return SimpleNamespace(**values)


def problems(args, context=None):
    with pytest.raises(ImportRefused) as caught:
        check(args, context or Context(root=None, in_project=False))
    return getattr(caught.value, "problems", [str(caught.value)])


@pytest.fixture
def own_code(tmp_path, monkeypatch):
    """A pipeline that uses a function of the data scientist's module acme_features, saved with skops; the module is
    gone from sys.modules and sys.path afterwards, as on a machine that never had it."""
    code = tmp_path / "nb"
    code.mkdir()
    (code / "acme_features.py").write_text(FEATURES)
    monkeypatch.syspath_prepend(str(code))
    module = importlib.import_module("acme_features")
    features, species = iris()
    model = make_pipeline(FunctionTransformer(module.double), LogisticRegression(max_iter=500)).fit(features, species)
    path = skops_file(tmp_path, model, name="own.skops")
    del sys.modules["acme_features"]
    return SimpleNamespace(model=path, module=str(code / "acme_features.py"), folder=str(code))


def test_a_clean_skops_file_with_a_sample_passes_and_says_what_it_trusts(tmp_path):
    found = check(options(skops_file(tmp_path), sample=sample_csv(tmp_path)), Context(root=None, in_project=False))
    assert (found.kind, found.trusted, found.code, found.libraries) == ("skops", [], {}, {})


def test_an_untrusted_pickle_without_rows_is_two_problems_each_with_its_fix(tmp_path):
    found = problems(options(joblib_file(tmp_path)))
    assert len(found) == 2
    assert found[0].startswith("%s is a pickle" % joblib_file(tmp_path)) and "add --trust-pickle" in found[0]
    assert found[1].startswith("--sample CSV is required") and "input_example needs none" in found[1]


def test_the_user_s_module_is_refused_without_code_and_brought_and_trusted_with_it(own_code, tmp_path):
    sample = sample_csv(tmp_path)
    [message] = problems(options(own_code.model, sample=sample))
    assert message.startswith("the model needs the module acme_features (acme_features.double)")
    assert "bring it with --code path/to/acme_features.py" in message
    found = check(options(own_code.model, sample=sample, code=[own_code.module]), Context(root=None, in_project=False))
    assert found.code == {"acme_features": own_code.module}
    assert "acme_features.double" in found.trusted  # --code vouches for the code it brings, types included
    # A folder of modules (as MLflow's code/ is) brings the modules in it.
    from_folder = check(options(own_code.model, sample=sample, code=[own_code.folder]), Context(in_project=False))
    assert from_folder.code == {"acme_features": own_code.module}


def test_code_named_like_the_project_or_a_library_is_refused(tmp_path):
    for name in ("application", "sklearn", "json"):
        path = tmp_path / (name + ".py")
        path.write_text("")
        [message] = problems(options(skops_file(tmp_path), sample=sample_csv(tmp_path), code=[str(path)]))
        assert message.startswith(
            "--code would bring module(s) named like what the service already imports: %s (" % name
        )
    [message] = problems(options(skops_file(tmp_path), sample=sample_csv(tmp_path), code=[str(tmp_path / "no.py")]))
    assert message == "--code %s does not exist; give your module's .py file or its folder" % (tmp_path / "no.py")


def test_mlflow_s_recorded_trust_is_shown_and_accepted_with_one_flag(tmp_path, monkeypatch):
    root = mlflow_folder(tmp_path / "m")
    with open(os.path.join(root, "MLmodel")) as fh:
        meta = json.load(fh)
    listed = ["sklearn.tree._tree.Tree", "numpy.dtype"]
    meta["flavors"]["sklearn"]["skops_trusted_types"] = listed
    with open(os.path.join(root, "MLmodel"), "w") as fh:
        json.dump(meta, fh)
    context = Context(root=None, untrusted=lambda path: listed + ["numpy.float32"])
    [message] = problems(options(root, sample=sample_csv(tmp_path)), context)
    assert message == (
        "the skops file contains types nobody vouched for: sklearn.tree._tree.Tree, numpy.dtype, numpy.float32. The "
        "MLflow folder lists sklearn.tree._tree.Tree, numpy.dtype as trusted when the model was saved "
        "(skops_trusted_types): if you trust who saved it, add --trust-mlflow-types to accept all 2 at once. If you "
        "trust them, import the model again with --trust-type numpy.float32"
    )
    found = check(
        options(root, sample=sample_csv(tmp_path), trust_mlflow_types=True, trust_type=["numpy.float32"]), context
    )
    assert found.trusted == sorted(listed + ["numpy.float32"])


def test_mlflow_code_paths_need_code_and_the_onnx_runtime_cannot_run_the_user_s_code(own_code, tmp_path):
    root = mlflow_folder(tmp_path / "m")
    os.replace(own_code.model, os.path.join(root, "model.skops"))
    os.makedirs(os.path.join(root, "code"))
    os.replace(own_code.module, os.path.join(root, "code", "acme_features.py"))
    with open(os.path.join(root, "MLmodel")) as fh:
        meta = json.load(fh)
    meta["flavors"]["sklearn"]["code"] = "code"
    with open(os.path.join(root, "MLmodel"), "w") as fh:
        json.dump(meta, fh)
    [message] = problems(options(root, sample=sample_csv(tmp_path)))
    assert "which the MLflow folder brings in %s" % os.path.join(root, "code", "acme_features.py") in message
    assert message.endswith("add --code %s" % os.path.join(root, "code"))
    code = [os.path.join(root, "code")]
    assert check(options(root, sample=sample_csv(tmp_path), code=code), Context(in_project=False)).code
    [onnx] = problems(options(root, sample=sample_csv(tmp_path), code=code), Context(runtime="onnx", in_project=False))
    assert onnx.startswith(
        "this project serves with the onnx runtime, which runs model.onnx alone: the model runs your own Python code "
        "(acme_features), which cannot be converted to ONNX"
    )
    assert onnx.endswith("`sci-eb upgrade --set runtime=sklearn`, then import again")


def test_an_mlflow_folder_with_an_input_example_needs_no_sample(tmp_path):
    root = mlflow_folder(tmp_path / "m")
    with open(os.path.join(root, "input_example.json"), "w") as fh:
        json.dump({"columns": ["a"], "data": [[1.0]]}, fh)
    assert check(options(root), Context(in_project=False)).facts["example"]


def test_the_json_the_generator_reads_lists_problems_and_libraries(tmp_path, capsys, monkeypatch):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("numpy==2.4.6\nscikit-learn==1.9.1\n")
    common = ["--python", "3.11", "--arch", "x86_64", "--requirements", str(requirements), "--json"]
    assert preflight.main([joblib_file(tmp_path)] + common) == 2
    shown = json.loads(capsys.readouterr().out)
    assert [p.split(" ")[1:4] for p in shown["problems"]] == [["is", "a", "pickle"], ["CSV", "is", "required:"]]
    monkeypatch.setattr(wheels, "resolve", lambda lines, *a, **k: dict(line.split("==") for line in lines))
    assert preflight.main([skops_file(tmp_path), "--sample", sample_csv(tmp_path)] + common) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["problems"], shown["libraries"], shown["code"]) == ([], {}, [])


def test_staged_code_lands_with_a_readme_that_lists_it(own_code, tmp_path):
    target = tmp_path / "model_code"
    target.mkdir()
    user_code.stage({"acme_features": own_code.module}, str(target))
    assert sorted(os.listdir(str(target))) == ["README.md", "acme_features.py"]
    readme = (target / "README.md").read_text()
    assert "- `acme_features.py` (module `acme_features`), from %s" % own_code.module in readme
    assert "`sci-eb upgrade` never touches this folder" in readme


def test_a_skops_file_whose_schema_is_damaged_is_refused_with_the_reason(tmp_path):
    import zipfile

    path = tmp_path / "broken.skops"
    with zipfile.ZipFile(str(path), "w") as archive:
        archive.writestr("schema.json", "{not json")
    [message] = problems(options(path, sample=sample_csv(tmp_path)))
    assert message.startswith("cannot read %s as a skops file: JSONDecodeError" % path)


def test_on_onnx_lightgbm_and_xgboost_models_pass_and_other_libraries_are_refused_by_name(tmp_path):
    # onnxmltools converts LightGBM's and XGBoost's estimators (the conversion's proof still decides); CatBoost's
    # would have to run on the instance, which serves model.onnx alone.
    import catboost
    import lightgbm
    import xgboost

    features, species = iris()
    sample = sample_csv(tmp_path)
    onnx = Context(runtime="onnx", in_project=False)
    for name, model in (
        ("lgbm.joblib", lightgbm.LGBMClassifier(n_estimators=5, verbose=-1)),
        ("xgb.joblib", make_pipeline(FunctionTransformer(), xgboost.XGBRegressor(n_estimators=5))),
    ):
        target = species if "lgbm" in name else features["petal_width_cm"]
        path = joblib_file(tmp_path, model.fit(features, target), name=name)
        found = check(options(path, sample=sample, trust_pickle=True), onnx)
        assert set(found.libraries) & {"lightgbm", "xgboost"}
    path = joblib_file(
        tmp_path,
        catboost.CatBoostClassifier(iterations=5, verbose=0, allow_writing_files=False).fit(features, species),
        "cb.joblib",
    )
    [refusal] = problems(options(path, sample=sample, trust_pickle=True), onnx)
    assert refusal.startswith("this project serves with the onnx runtime, which runs model.onnx alone: catboost")
    assert "catboost cannot run there, and this project converts only scikit-learn's, LightGBM's and" in refusal
    assert refusal.endswith("`sci-eb upgrade --set runtime=sklearn`, then import again")


def test_the_project_s_own_modules_are_used_as_they_are_and_trusted_only_when_told(own_code, tmp_path):
    # features.py (or any module beside application.py) is the project's: the model may use it without --code, which
    # would shadow it; loading still runs it, so its skops types need --trust-type as any other.
    project = tmp_path / "project"
    project.mkdir()
    with open(own_code.module) as fh:
        (project / "acme_features.py").write_text(fh.read())
    sample = sample_csv(tmp_path)
    context = Context(root=str(project))
    [message] = problems(options(own_code.model, sample=sample), context)
    assert message.startswith("the skops file contains types nobody vouched for: acme_features.double")
    assert "--trust-type acme_features.double" in message
    found = check(options(own_code.model, sample=sample, trust_type=["acme_features.double"]), context)
    assert found.code == {} and found.project_modules == {"acme_features": str(project / "acme_features.py")}
    assert found.trusted == ["acme_features.double"]
    clash = problems(options(own_code.model, sample=sample, code=[own_code.module]), context)
    assert clash[0].startswith("--code would bring module(s) named like what the service already imports")
    assert "acme_features (acme_features.py in this project)" in clash[0]


def test_code_named_features_is_refused_for_the_project_s_features_py(tmp_path):
    path = tmp_path / "features.py"
    path.write_text("")
    [message] = problems(options(skops_file(tmp_path), sample=sample_csv(tmp_path), code=[str(path)]))
    assert "features (the project's features.py, where derived features live" in message


def test_types_that_run_code_are_refused_by_the_preflight_whoever_vouches_for_them(tmp_path):
    # The service's own denylist (serving/trust.py), read without importing Flask: no flag lets builtins.eval in, not
    # --trust-type, not MLflow's recorded list with --trust-mlflow-types.
    model = make_pipeline(FunctionTransformer(eval), LogisticRegression(max_iter=500))
    root = mlflow_folder(tmp_path / "m")
    skops_file(root, model, name="model.skops")
    with open(os.path.join(root, "MLmodel")) as fh:
        meta = json.load(fh)
    meta["flavors"]["sklearn"]["skops_trusted_types"] = ["builtins.eval"]
    with open(os.path.join(root, "MLmodel"), "w") as fh:
        json.dump(meta, fh)
    refusal = (
        "the skops file contains builtins.eval, which run code, files, processes or the network when the model loads "
        "or predicts: refused even if trusted (no flag accepts them), and the service would refuse them too. Rebuild "
        "the model without them"
    )
    for given in (dict(trust_mlflow_types=True), dict(trust_type=["builtins.eval"])):
        assert problems(options(root, sample=sample_csv(tmp_path), **given)) == [refusal]
    assert preflight.trust_rules().runs_code("os.system") and not preflight.trust_rules().runs_code("numpy.dtype")


@pytest.fixture
def lightgbm_skops(tmp_path):
    """A LightGBM classifier saved with skops: its Booster's best_score is a defaultdict(OrderedDict), whose
    collections.OrderedDict skops refuses unless trusted, as it does the two LightGBM types."""
    import lightgbm

    features, species = iris()
    model = lightgbm.LGBMClassifier(n_estimators=3, verbose=-1).fit(features, species)
    return skops_file(tmp_path, model, name="lgbm.skops")


LIGHTGBM_TYPES = ["lightgbm.basic.Booster", "lightgbm.sklearn.LGBMClassifier"]


def test_without_skops_the_preflight_asks_for_every_type_the_import_will(lightgbm_skops, tmp_path):
    # The generator runs the preflight with no skops (and no venv): the types it asks for are the ones skops refuses
    # when the import loads the model, OrderedDict included, so nobody learns of one after a venv is built.
    import skops.io as sio

    sample = sample_csv(tmp_path)
    [message] = problems(options(lightgbm_skops, sample=sample))
    assert message == (
        "the skops file contains types nobody vouched for: collections.OrderedDict, lightgbm.basic.Booster, "
        "lightgbm.sklearn.LGBMClassifier. If you trust them, import the model again with --trust-type "
        "collections.OrderedDict --trust-type lightgbm.basic.Booster --trust-type lightgbm.sklearn.LGBMClassifier"
    )
    assert sorted(sio.get_untrusted_types(file=lightgbm_skops)) == [
        "collections.OrderedDict",
        "lightgbm.basic.Booster",
        "lightgbm.sklearn.LGBMClassifier",
    ]
    [only] = problems(options(lightgbm_skops, sample=sample, trust_type=LIGHTGBM_TYPES))
    assert only.endswith("import the model again with --trust-type collections.OrderedDict")
    everything = LIGHTGBM_TYPES + ["collections.OrderedDict"]
    found = check(options(lightgbm_skops, sample=sample, trust_type=everything), Context(in_project=False))
    assert found.trusted == sorted(everything)
    # Inside a project skops itself decides, and it decides the same.
    with_skops = Context(root=None, in_project=False, untrusted=lambda path: sio.get_untrusted_types(file=path))
    assert problems(options(lightgbm_skops, sample=sample, trust_type=LIGHTGBM_TYPES), with_skops) == [only]


def test_trust_type_takes_comma_separated_names_as_well_as_repeated_flags(lightgbm_skops, tmp_path, capsys):
    # `sci-eb app --trust-type a,b` is documented; the importer (and this preflight) read the same value alike.
    from tools.importer import cli

    given = ["--trust-type", "lightgbm.basic.Booster, lightgbm.sklearn.LGBMClassifier,", "--trust-type", "x.Y"]
    expected = LIGHTGBM_TYPES + ["x.Y"]
    assert cli.parse_args([lightgbm_skops] + given).trust_type == expected
    common = ["--python", "3.11", "--arch", "x86_64", "--json", "--sample", sample_csv(tmp_path)]
    joined = ",".join(LIGHTGBM_TYPES + ["collections.OrderedDict"])
    assert preflight.main([lightgbm_skops, "--trust-type", joined] + common) == 0
    assert json.loads(capsys.readouterr().out)["problems"] == []
    with pytest.raises(SystemExit) as done:
        cli.parse_args([lightgbm_skops, "--trust-type", " , "])
    assert done.value.code == 2
    assert "--trust-type needs a value: MODULE.CLASS, or several separated by commas" in capsys.readouterr().err
