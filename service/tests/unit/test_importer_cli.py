"""tools/import_model.py and tools/importer/cli.py: the whole import, in the order that keeps the project unchanged
until the new model is proven."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from importer_fixtures import pickle_from_another_sklearn, sample_csv, skops_file

from serving import trust
from tools.importer import cli, environment, proof

UNIT = os.path.dirname(os.path.abspath(__file__))
SERVICE = os.path.dirname(os.path.dirname(UNIT))
ENTRY_POINT = os.path.join(SERVICE, "tools", "import_model.py")

# The real service (serving.create_app on $MODEL_DIR) behind the Procfile's web command, without gunicorn.
REAL_SERVICE = textwrap.dedent(
    """
    import sys
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    sys.path[:0] = [{service!r}, {unit!r}]
    import project_settings
    sys.modules["serving.settings"] = project_settings
    from serving import create_app, trust

    trust.PROJECT_ROOT = {{trust_root}}  # the session's trust.json (conftest.py), where train and import vouch

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    host, port = sys.argv[sys.argv.index("--bind") + 1].split(":")
    make_server(host, int(port), create_app(), handler_class=Quiet).serve_forever()
    """
).format(service=SERVICE, unit=UNIT)


@pytest.fixture
def project(monkeypatch, tmp_path):
    """A project root whose Procfile serves the real service, with a model/ the user wrote notes into."""
    root = tmp_path / "project"
    (root / "model").mkdir(parents=True)
    (root / "model" / "schema.json").write_text(json.dumps({"model": {"name": "churn"}}))
    (root / "model" / "NOTES.md").write_text("why this model")
    (root / "serve.py").write_text(REAL_SERVICE.replace("{trust_root}", repr(trust.PROJECT_ROOT)))
    (root / "Procfile").write_text("web: python serve.py --bind 127.0.0.1:8000\n")
    # Everything the importer writes at the project root (model_code/, requirements) goes to this one, not service/.
    for module in (proof, cli, environment):
        monkeypatch.setattr(module, "PROJECT_ROOT", str(root))
    return root


def snapshot(folder):
    return dict(
        (os.path.relpath(os.path.join(top, name), str(folder)), open(os.path.join(top, name), "rb").read())
        for top, _dirs, names in os.walk(str(folder))
        for name in names
    )


def test_help_describes_the_importer_as_import_model_py_does(capsys):
    with pytest.raises(SystemExit) as done:
        cli.parse_args(["--help"])
    assert done.value.code == 0
    with open(ENTRY_POINT, encoding="utf-8") as fh:
        first_line = fh.read().split('"""')[1].splitlines()[0]
    shown = capsys.readouterr().out
    assert " ".join(first_line.split()) in " ".join(shown.split())
    for option in (
        "--sample",
        "--target",
        "--trust-pickle",
        "--trust-type",
        "--trust-mlflow-types",
        "--code",
        "--allow-version-mismatch",
        "--keep-pins",
    ):
        assert option in shown


def test_a_proven_model_replaces_model_keeping_its_name_and_the_user_s_notes(project, tmp_path, capsys):
    path = skops_file(tmp_path)
    model_dir = str(project / "model")
    args = [path, "--sample", sample_csv(tmp_path), "--target", "species", "--model-dir", model_dir]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert (
        "proved on 15 sample rows: in process and served by the Procfile's command, the same predictions and "
        "probabilities as the original (largest difference 0)"
    ) in out
    assert "imported %s as %s (classification, LogisticRegression, version " % (path, model_dir + "/model.skops") in out
    assert sorted(os.listdir(model_dir)) == ["NOTES.md", "model.skops", "schema.json"]
    with open(os.path.join(model_dir, "schema.json")) as fh:
        model = json.load(fh)["model"]
    assert (model["name"], model["source"], model["importedAs"]) == ("churn", "import", "skops")
    assert sorted(os.listdir(str(project))) == ["Procfile", "model", "serve.py"]


def test_a_model_the_service_cannot_serve_leaves_the_project_as_it_was(project, tmp_path, capsys):
    (project / "Procfile").write_text("web: python -c raise(SystemExit(3)) --bind 127.0.0.1:8000\n")
    before = snapshot(project)
    args = [skops_file(tmp_path), "--sample", sample_csv(tmp_path), "--model-dir", str(project / "model")]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the service did not start on the new model (exit 3):")
    assert err.endswith(". Nothing was changed.\n")
    assert snapshot(project) == before


def test_an_interrupted_import_leaves_the_project_as_it_was(project, tmp_path, monkeypatch, capsys):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "serve_and_compare", interrupted)
    before = snapshot(project)
    args = [skops_file(tmp_path), "--sample", sample_csv(tmp_path), "--model-dir", str(project / "model")]
    assert cli.main(args) == 130
    assert capsys.readouterr().err == "interrupted. Nothing was changed.\n"
    assert snapshot(project) == before


def test_a_model_from_another_sklearn_re_pins_before_it_is_even_loaded(tmp_path, monkeypatch):
    # The version read from its bytes decides first: the model is loaded only in the re-pinned venv.
    path, version = pickle_from_another_sklearn(tmp_path)
    monkeypatch.setattr(environment, "wheel_set", lambda v, python: {"scikit-learn": v})
    monkeypatch.setattr(cli, "load_source", lambda *a: pytest.fail("loaded before re-pinning"))
    calls = []
    monkeypatch.setattr(cli, "repin_and_import", lambda *call: calls.append(call) or 0)
    args = [path, "--sample", sample_csv(tmp_path), "--trust-pickle"]
    assert cli.main(args) == 0
    assert calls == [(version, {"scikit-learn": version}, args, {})]


def test_every_refusal_the_bytes_decide_comes_before_any_re_pin(tmp_path, monkeypatch, capsys):
    # An untrusted pickle from another scikit-learn, without a sample: refused in seconds, both problems named, before
    # pip is asked anything or the venv rebuilt (the issue: a refusal after a 96 s rebuild).
    path, _version = pickle_from_another_sklearn(tmp_path)
    monkeypatch.setattr(environment, "wheel_set", lambda *a: pytest.fail("asked pip before refusing"))
    monkeypatch.setattr(cli, "repin_and_import", lambda *a: pytest.fail("re-pinned before refusing"))
    assert cli.main([path]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 2 problems, each with its fix:\n- %s is a pickle" % path)
    assert "add --trust-pickle" in err
    assert "\n- --sample CSV is required" in err
    assert err.endswith("Nothing was changed.\n")


def test_the_entry_point_runs_from_any_folder_and_exits_2_on_a_refusal(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n")
    # A fresh interpreter with only the settings stand-in importable: the entry point finds tools and serving itself.
    code = (
        "import runpy, sys, project_settings\n"
        "sys.modules['serving.settings'] = project_settings\n"
        "sys.argv = [%r, 'notes.txt', '--sample', 'rows.csv']\n"
        "runpy.run_path(%r, run_name='__main__')\n" % (ENTRY_POINT, ENTRY_POINT)
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=str(tmp_path),
        env=dict(os.environ, PYTHONPATH=UNIT),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "error: %s is a text file (it starts with 'hello\\n'), not a scikit-learn model. Accepted: a skops file, a "
        "joblib or pickle file, or an MLflow model folder of the sklearn flavor. Nothing was changed.\n"
        % (tmp_path / "notes.txt")
    )


FEATURES = "import numpy as np\n\n\ndef double(values):\n    return np.asarray(values) * 2\n"


def test_the_user_s_code_comes_with_the_model_into_model_code_and_is_served_from_there(
    project, tmp_path, monkeypatch, project_trust
):
    import importlib

    from importer_fixtures import iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    notebook = tmp_path / "notebook"
    notebook.mkdir()
    (notebook / "acme_features.py").write_text(FEATURES)
    sys.path.insert(0, str(notebook))
    try:
        module = importlib.import_module("acme_features")
        features, species = iris()
        model = make_pipeline(FunctionTransformer(module.double), LogisticRegression(max_iter=500))
        path = skops_file(tmp_path, model.fit(features, species), name="own.skops")
    finally:
        sys.path.remove(str(notebook))
        del sys.modules["acme_features"]
    base = [path, "--sample", sample_csv(tmp_path), "--model-dir", str(project / "model")]

    # A proof that fails leaves no model_code/ and no staged folder behind.
    (project / "Procfile").write_text("web: python -c raise(SystemExit(3)) --bind 127.0.0.1:8000\n")
    before = snapshot(project)
    assert cli.main(base + ["--code", str(notebook / "acme_features.py")]) == 2
    assert snapshot(project) == before and sorted(os.listdir(str(project))) == ["Procfile", "model", "serve.py"]

    (project / "Procfile").write_text("web: python serve.py --bind 127.0.0.1:8000\n")
    # The apps other tests built put this checkout's model_code/ on sys.path (serving/bundle.py); the import adds none.
    code_paths = [p for p in sys.path if "model-code-import" in p or p.endswith("model_code")]
    assert cli.main(base + ["--code", str(notebook / "acme_features.py")]) == 0
    assert sorted(os.listdir(str(project / "model_code"))) == ["README.md", "acme_features.py"]
    # The user's own type, trusted by --code, is recorded where every trust decision is: trust.json, not model/.
    with open(str(project / "model" / "schema.json")) as fh:
        assert "trustedTypes" not in json.load(fh)["model"]
    with open(str(project_trust)) as fh:
        assert "acme_features.double" in json.load(fh)["skopsTypes"]
    assert "acme_features" not in sys.modules or str(project) in sys.modules["acme_features"].__file__
    assert [p for p in sys.path if "model-code-import" in p or p.endswith("model_code")] == code_paths
    assert not [p for p in code_paths if str(project) in p]
    # Imported again without --code: the model_code/ it has is the model's code (and stays as it is).
    sys.modules.pop("acme_features", None)
    assert cli.main(base) == 0
    assert sorted(os.listdir(str(project / "model_code"))) == ["README.md", "acme_features.py"]
    sys.modules.pop("acme_features", None)


def test_skops_types_another_scikit_learn_names_otherwise_are_judged_after_the_re_pin():
    # The early check runs on this venv's scikit-learn: a type it names the same way is judged now; one only another
    # version names so (1.5's Cython losses said their module was "_loss") waits for the re-pinned venv.
    assert cli._named_here("sklearn.pipeline.Pipeline")
    assert not cli._named_here("_loss.CyHalfBinomialLoss")
    assert not cli._named_here("sklearn.no_such_module.Thing")
    assert cli._sklearns("_loss.CyHalfBinomialLoss") and not cli._sklearns("lightgbm.basic.Booster")
