"""tools/importer/source.py: what PATH is, loading it as safely as its format allows, the version that wrote it."""

import os
import zipfile
from types import SimpleNamespace

import numpy as np
import pytest
import sklearn
import skops.io as sio
from importer_fixtures import (
    classifier,
    iris,
    joblib_file,
    mlflow_folder,
    pickle_from_another_sklearn,
    skops_file,
)
from sklearn.tree import DecisionTreeClassifier

from tools.importer import ImportRefused
from tools.importer.source import identify, load_source, sniff_sklearn_version


def options(trust_pickle=False, trust_type=()):
    return SimpleNamespace(trust_pickle=trust_pickle, trust_type=list(trust_type))


def refusal(path):
    with pytest.raises(ImportRefused) as caught:
        identify(str(path))
    return str(caught.value)


def test_a_skops_file_is_skops_whatever_its_name(tmp_path):
    path = skops_file(tmp_path, name="model.bin")
    assert identify(path) == ("skops", path, None)


@pytest.mark.parametrize("compress", [0, 3, ("gzip", 3), ("bz2", 3), ("xz", 3)])
def test_joblib_files_compressed_or_not_are_pickles(tmp_path, compress):
    # A notebook's model.pkl is as often joblib (compressed or not) as pickle: the bytes tell, not the name.
    path = joblib_file(tmp_path, name="model.skops", compress=compress)
    assert identify(path) == ("pickle", path, None)


def test_a_missing_path_is_refused_by_name(tmp_path):
    assert "%s does not exist" % (tmp_path / "nope.skops") in refusal(tmp_path / "nope.skops")


def test_a_zip_that_is_not_skops_says_what_it_holds(tmp_path):
    path = tmp_path / "model.zip"
    with zipfile.ZipFile(str(path), "w") as archive:
        archive.writestr("weights.bin", b"\0")
    message = refusal(path)
    assert "is a zip archive but not a skops file (no schema.json inside; it holds weights.bin)" in message


@pytest.mark.parametrize(
    "name, content, found",
    [
        ("rows.npy", None, "a NumPy array file (.npy)"),
        ("notes.txt", b"hello world\n", "a text file (it starts with 'hello wo')"),
        ("model.onnx", b"\x08\x07\x12\x07skl2onnx", "an ONNX model"),
        ("blob.bin", b"\x00\x01\x02\x03\xff\xfe\xfd\xfc", "a file of unknown format (first bytes 00010203fffefdfc)"),
    ],
)
def test_other_files_are_refused_naming_what_they_are_and_what_is_accepted(tmp_path, name, content, found):
    path = tmp_path / name
    if content is None:
        np.save(str(path), np.zeros(3))
    else:
        path.write_bytes(content)
    message = refusal(path)
    assert message.startswith("%s is %s, not a scikit-learn model." % (path, found))
    assert "Accepted: a skops file, a joblib or pickle file, or an MLflow model folder of the sklearn flavor" in message


def test_an_mlflow_skops_folder_gives_its_model_file_version_and_signature(tmp_path):
    folder = mlflow_folder(tmp_path / "mlflow", sklearn_version="1.5.2")
    kind, path, facts = identify(folder)
    assert (kind, path) == ("skops", os.path.join(folder, "model.skops"))
    assert facts["sklearnVersion"] == "1.5.2"
    assert [c["name"] for c in facts["inputs"]] == list(iris()[0].columns)


def test_an_mlflow_cloudpickle_folder_is_a_pickle_and_its_version_comes_from_requirements(tmp_path):
    folder = mlflow_folder(
        tmp_path / "mlflow",
        serialization="cloudpickle",
        signature=False,
        requirements="mlflow==2.22\nscikit-learn==1.4.2\n",
    )
    kind, path, facts = identify(folder)
    assert (kind, path) == ("pickle", os.path.join(folder, "model.pkl"))
    assert (facts["sklearnVersion"], facts["inputs"]) == ("1.4.2", None)
    assert facts["requirements"] == {"mlflow": "2.22", "scikit-learn": "1.4.2"}
    assert (facts["trustedTypes"], facts["code"], facts["example"]) == ([], None, None)


def test_a_folder_without_mlmodel_lists_what_it_holds(tmp_path):
    (tmp_path / "weights.h5").write_bytes(b"")
    message = refusal(tmp_path)
    assert "is a folder without an MLmodel file (it holds: weights.h5); an MLflow model folder has one" in message


def test_an_mlflow_model_of_another_flavor_names_its_flavors(tmp_path):
    (tmp_path / "MLmodel").write_text("flavors:\n  python_function: {}\n  pytorch: {}\n")
    message = refusal(tmp_path)
    assert "without the sklearn flavor (its flavors: python_function, pytorch)" in message


def test_an_mlflow_folder_whose_model_file_is_missing_names_it(tmp_path):
    folder = mlflow_folder(tmp_path / "mlflow")
    os.remove(os.path.join(folder, "model.skops"))
    assert "names %s as its model, but that file is missing" % os.path.join(folder, "model.skops") in refusal(folder)


def test_a_pickle_is_refused_unless_trusted_and_then_loads_the_same_model(tmp_path):
    path = joblib_file(tmp_path)
    with pytest.raises(ImportRefused) as caught:
        load_source("pickle", path, options())
    assert "runs whatever code it contains" in str(caught.value)
    assert "--trust-pickle" in str(caught.value) and "skops.io.dump" in str(caught.value)
    model, written_by = load_source("pickle", path, options(trust_pickle=True))
    features = iris()[0]
    assert (model.predict(features) == classifier().predict(features)).all()
    assert written_by is None  # this scikit-learn wrote it: nothing to warn about


def test_a_skops_file_with_untrusted_types_is_refused_with_the_flag_for_each(tmp_path):
    features, species = iris()
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(features, species)
    path = skops_file(tmp_path, model=tree)
    with pytest.raises(ImportRefused) as caught:
        load_source("skops", path, options())
    assert str(caught.value).startswith(path + ": the skops file contains types nobody vouched for")
    assert "--trust-type sklearn.tree._tree.Tree" in str(caught.value)
    model, _ = load_source("skops", path, options(trust_type=sio.get_untrusted_types(file=path)))
    assert (model.predict(features) == tree.predict(features)).all()


def test_a_corrupt_pickle_is_refused_with_the_loader_s_error(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(b"\x80\x04\x95garbage")
    with pytest.raises(ImportRefused, match=r"cannot load .*model\.pkl as a joblib/pickle file: \w+"):
        load_source("pickle", str(path), options(trust_pickle=True))


def test_the_version_that_wrote_a_model_is_read_without_loading_it(tmp_path):
    assert sniff_sklearn_version("skops", skops_file(tmp_path)) == sklearn.__version__
    assert sniff_sklearn_version("pickle", joblib_file(tmp_path)) == sklearn.__version__
    # Compressed bytes hide it: the load's own warning tells instead.
    assert sniff_sklearn_version("pickle", joblib_file(tmp_path, name="z.joblib", compress=3)) is None
    assert sniff_sklearn_version("skops", str(tmp_path / "missing.skops")) is None


def test_a_model_from_another_sklearn_is_recognised_before_and_while_loading(tmp_path):
    path, version = pickle_from_another_sklearn(tmp_path)
    assert sniff_sklearn_version("pickle", path) == version
    _model, written_by = load_source("pickle", path, options(trust_pickle=True))
    assert written_by == version
