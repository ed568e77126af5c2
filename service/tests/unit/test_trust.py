"""Trust lives outside model/: planted model folders (a pickle passed off as the model, skops files naming types that
run code) are refused before anything in them runs, by the service and by the deploy check alike; trust.json is read
from the project folder only, and written only by the commands that vouch (tools/vouch.py)."""

import functools
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import zipfile

import pytest
import support
from sklearn.preprocessing import FunctionTransformer

from serving import ModelError, load_model, trust
from tools import vouch

SERVICE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Payload(object):
    """A pickle that makes a folder when it is loaded: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def plant(model_dir, blob, fmt=None, artifact_name=None):
    """model_dir as an attacker writes it: an artifact of their choosing and a schema.json agreeing with it."""
    schema = json.loads((model_dir / "schema.json").read_text(encoding="utf-8"))
    name = artifact_name or schema["model"]["artifact"]
    (model_dir / name).write_bytes(blob)
    digest = hashlib.sha256(blob).hexdigest()
    schema["model"].update(artifact=name, sha256=digest, version=digest[:12])
    if fmt is None:
        schema["model"].pop("format", None)
    else:
        schema["model"]["format"] = fmt
    (model_dir / "schema.json").write_text(json.dumps(schema), encoding="utf-8")


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "code-ran"
    yield path
    assert not path.exists(), "the planted model's code ran"


@pytest.mark.parametrize("fmt", [None, "joblib", "skops"])
@pytest.mark.parametrize("name", ["model.skops", "model.joblib"])
def test_a_planted_pickle_never_runs(model_copy, marker, fmt, name):
    # No format (once read as joblib), joblib (never vouched for) or skops (the bytes are a pickle): all refused.
    plant(model_copy, pickle.dumps(Payload(str(marker)), protocol=4), fmt, name)
    expected = {
        None: "model.format is missing",
        "joblib": "it is a pickle, which runs whatever code it holds as it loads, and .*trust.json does not vouch",
        "skops": "declared as skops but its bytes are a joblib file",
    }[fmt]
    with pytest.raises(ModelError, match=expected):
        load_model(str(model_copy))


def test_a_trust_json_inside_model_is_not_read(model_copy, marker):
    blob = pickle.dumps(Payload(str(marker)), protocol=4)
    plant(model_copy, blob, "joblib", "model.joblib")
    forged = trust.Trust(pickles={hashlib.sha256(blob).hexdigest(): "me"}).to_json()
    (model_copy / trust.FILE_NAME).write_text(json.dumps(forged), encoding="utf-8")
    with pytest.raises(ModelError, match="does not vouch for it"):
        load_model(str(model_copy))


def eval_transformer(marker):
    return FunctionTransformer(functools.partial(eval, "__import__('os').mkdir(%r)" % str(marker)))


def test_skops_types_schema_json_lists_are_not_trusted(model_copy, marker):
    import skops.io as sio

    blob = sio.dumps(eval_transformer(marker))
    plant(model_copy, blob, "skops")
    schema = json.loads((model_copy / "schema.json").read_text(encoding="utf-8"))
    schema["model"]["trustedTypes"] = ["builtins.eval", "functools.partial"]  # what the review's planted file said
    (model_copy / "schema.json").write_text(json.dumps(schema), encoding="utf-8")
    with pytest.raises(ModelError, match="builtins.eval, which run code.*refused, even if trusted"):
        load_model(str(model_copy))


def test_types_that_run_code_are_refused_even_when_trust_json_lists_them(model_copy, marker, tmp_path):
    import skops.io as sio

    plant(model_copy, sio.dumps(eval_transformer(marker)), "skops")
    listed = trust.Trust({"builtins.eval": "me", "functools.partial": "me"})
    with pytest.raises(ModelError, match="the skops file contains builtins.eval, which run code"):
        load_model(str(model_copy), trust=listed)
    # The file itself is refused as soon as it lists one, whatever the model needs.
    path = tmp_path / "trust.json"
    path.write_text(json.dumps(listed.to_json()), encoding="utf-8")
    with pytest.raises(trust.TrustError, match="lists builtins.eval: these run code"):
        trust.read(str(path))


@pytest.mark.parametrize(
    "name",
    [
        "builtins.eval",
        "builtins.exec",
        "builtins.__import__",
        "builtins.compile",
        "os.system",
        "posix.system",
        "subprocess.Popen",
        "importlib.import_module",
        "operator.methodcaller",
        "pickle.loads",
        "joblib.load",
        "numpy.load",
    ],
)
def test_what_runs_code(name):
    assert trust.runs_code(name)


@pytest.mark.parametrize(
    "name", ["sklearn.tree._tree.Tree", "numpy.dtype", "functools.partial", "numpy.clip", "builtins.abs"]
)
def test_what_does_not(name):
    assert not trust.runs_code(name)


def test_vouching_adds_entries_with_who_and_when_and_refuses_what_runs_code(tmp_path):
    path = str(tmp_path / "trust.json")
    assert trust.read(path).skops_types == {}  # absent: nothing beyond skops' defaults
    lines = []
    vouch.vouch(["numpy.dtype"], by="train.py", path=path, log=lines.append)
    vouch.vouch(
        ["numpy.dtype", "sklearn.tree._tree.Tree"], "a" * 64, by="make import of m.pkl", path=path, log=lines.append
    )
    written = trust.read(path)
    assert sorted(written.skops_types) == ["numpy.dtype", "sklearn.tree._tree.Tree"]
    assert written.skops_types["numpy.dtype"].startswith("train.py, ")  # kept as first vouched
    assert written.trusts_pickle("A" * 64) and not written.trusts_pickle("b" * 64)
    assert "vouched for skops type sklearn.tree._tree.Tree, pickle aaaaaaaaaaaa (make import of m.pkl)" in lines[1]
    with pytest.raises(vouch.VouchRefused, match="holds os.system, which run code"):
        vouch.vouch(["os.system"], path=path)
    assert "os.system" not in trust.read(path).skops_types


@pytest.mark.parametrize(
    "text, message",
    [
        ("[]", "must be an object with trustVersion 1"),
        ('{"trustVersion": 1, "pickles": ["x"]}', "pickles must map names"),
        ('{"trustVersion": 1, "pickles": {"ABC": "me"}}', "lowercase hex sha256"),
        ("{", "is not valid JSON"),
    ],
)
def test_a_damaged_trust_json_is_refused_naming_the_file(tmp_path, text, message):
    path = tmp_path / "trust.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(trust.TrustError, match=message):
        trust.read(str(path))


def test_a_model_holding_a_type_that_runs_code_is_not_written(tmp_path, training, marker):
    from tools.errors import DerivationError

    frame, features, _labels, values = training
    model = eval_transformer(marker)
    with pytest.raises(DerivationError, match="holds builtins.eval"):
        support.write_folder(tmp_path / "model", "x", model, features, "y")
    assert not (tmp_path / "model").exists()


def staged_project(root, model_dir):
    """A project folder as its EB bundle holds it: application.py, serving/ (with a settings.py), model/."""
    shutil.copytree(
        os.path.join(SERVICE, "serving"), str(root / "serving"), ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(os.path.join(SERVICE, "tests", "unit", "project_settings.py"), str(root / "serving" / "settings.py"))
    shutil.copytree(str(model_dir), str(root / "model"))
    (root / "application.py").write_text("from serving import create_app\n\napplication = create_app()\n")
    (root / "requirements.txt").write_text("flask\n")


def zipped(root, target):
    with zipfile.ZipFile(str(target), "w") as archive:
        for folder, _dirs, files in os.walk(str(root)):
            for name in files:
                path = os.path.join(folder, name)
                archive.write(path, os.path.relpath(path, str(root)))
    return target


def check_bundle(bundle):
    return subprocess.run(
        [sys.executable, os.path.join(SERVICE, "tools", "check_bundle.py"), str(bundle)],
        capture_output=True,
        text=True,
        cwd=str(bundle.parent),
        env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
    )


def test_the_deploy_check_loads_under_the_same_rules(tmp_path, model_copy, project_trust, marker):
    root = tmp_path / "project"
    staged_project(root, model_copy)
    shutil.copy(str(project_trust), str(root / trust.FILE_NAME))  # the project's trust, as deployed
    good = check_bundle(zipped(root, tmp_path / "good.zip"))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "passed its start-up self-test" in good.stdout
    # The review's attack: a pickle and a schema.json with no format and a matching sha256.
    shutil.rmtree(str(root / "model"))
    shutil.copytree(str(model_copy), str(root / "model"))
    plant(root / "model", pickle.dumps(Payload(str(marker)), protocol=4), None, "model.joblib")
    bundle = zipped(root, tmp_path / "planted.zip")
    bad = check_bundle(bundle)
    assert bad.returncode != 0 and "model.format is missing" in bad.stderr, bad.stdout + bad.stderr
    assert not bundle.exists()  # deleted: nothing can upload it


def test_the_project_file_is_beside_the_package(monkeypatch, tmp_path):
    monkeypatch.setattr(trust, "PROJECT_ROOT", str(tmp_path))
    assert trust.project_file() == str(tmp_path / "trust.json")
