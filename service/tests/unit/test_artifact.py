"""serving.artifact: the two formats, and skops' refusal of types nobody vouched for."""

import io
import json
import sys
import zipfile

import pytest
import support
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline

from serving import ModelError, artifact, load_model, trust
from serving.artifact import ArtifactError

CUSTOM = "%s.Doubler" % __name__


class Doubler(TransformerMixin, BaseEstimator):
    """A user's own step: skops stores it, and refuses to construct it unless the type is trusted."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X * 2.0


@pytest.fixture(scope="module")
def custom_model(training):
    frame, features, _labels, values = training
    steps = [("preprocess", support.preprocess(features)), ("double", Doubler()), ("model", Ridge())]
    return Pipeline(steps).fit(frame, values)


@pytest.mark.parametrize("fmt", artifact.FORMATS)
def test_a_model_round_trips_in_each_format(fmt, classifier, training):
    blob, trusted = artifact.dumps(classifier, fmt)
    loaded = artifact.loads(blob, fmt, trusted)
    frame = training[0]
    assert loaded.predict_proba(frame).tolist() == classifier.predict_proba(frame).tolist()
    assert (trusted == []) if fmt == "joblib" else (trusted == sorted(trusted))


def test_skops_lists_the_types_it_would_need_trusted_and_refuses_them_otherwise(custom_model, training):
    blob, trusted = artifact.dumps(custom_model, "skops")
    assert CUSTOM in trusted
    assert artifact.untrusted_types(blob, trusted) == []
    assert artifact.untrusted_types(blob, [t for t in trusted if t != CUSTOM]) == [CUSTOM]
    with pytest.raises(ArtifactError, match="types nobody vouched for: .*%s.*--trust-type %s" % (CUSTOM, CUSTOM)):
        artifact.loads(blob, "skops", [])
    loaded = artifact.loads(blob, "skops", trusted)
    assert loaded.predict(training[0]).tolist() == custom_model.predict(training[0]).tolist()


def test_the_service_constructs_only_the_types_trust_json_lists(tmp_path, custom_model, features, project_trust):
    support.write_folder(tmp_path, "custom", custom_model, features, "price")
    vouched = json.loads(project_trust.read_text(encoding="utf-8"))
    assert vouched["skopsTypes"][CUSTOM].startswith("train.py, ")  # who vouched, and when
    assert load_model(str(tmp_path)).model.steps[1][0] == "double"
    # Trust as the project's file says it, minus the custom type: refused.
    narrowed = trust.Trust({t: n for t, n in vouched["skopsTypes"].items() if t != CUSTOM}, vouched["pickles"])
    with pytest.raises(ModelError, match="cannot load .*model.skops: the skops file contains types nobody vouched"):
        load_model(str(tmp_path), trust=narrowed)


def test_bytes_must_be_the_declared_format(classifier):
    skops_blob, _types = artifact.dumps(classifier, "skops")
    joblib_blob, _types = artifact.dumps(classifier, "joblib")
    assert artifact.sniff(skops_blob) == "skops" and artifact.sniff(joblib_blob) == "joblib"
    assert artifact.sniff(b"PK\x03\x04 not a zip") is None and artifact.sniff(b"{}") is None
    with pytest.raises(ArtifactError, match="declared as skops but its bytes are a joblib file"):
        artifact.loads(joblib_blob, "skops")
    with pytest.raises(ArtifactError, match="declared as joblib but its bytes are a skops file"):
        artifact.loads(skops_blob, "joblib")
    with pytest.raises(ArtifactError, match="neither a skops file nor a joblib pickle"):
        artifact.loads(b"cos\nsystem\n(S'true'\ntR.", "joblib")  # a protocol-0 pickle: never what joblib writes


def test_unknown_formats_are_refused_with_the_known_ones(classifier):
    with pytest.raises(ArtifactError, match="unknown model format 'pickle'; use one of: skops, joblib"):
        artifact.dumps(classifier, "pickle")
    with pytest.raises(ArtifactError, match="unknown model format 'pickle'"):
        artifact.loads(b"\x80", "pickle")


def test_without_skops_installed_the_error_says_what_to_do(monkeypatch, classifier):
    monkeypatch.setitem(sys.modules, "skops.io", None)
    with pytest.raises(ArtifactError, match="skops is not installed.*use joblib"):
        artifact.dumps(classifier, "skops")


@pytest.mark.parametrize("fmt", artifact.FORMATS)
def test_equal_models_give_equal_bytes_so_retraining_keeps_the_version(fmt, training, features):
    """Two fits of the same data with the same seed are two objects (other ids, another moment): the same file."""
    frame, _features, labels, _values = training
    first, second = (support.fit_classifier(frame, features, labels) for _ in range(2))
    assert first is not second
    (blob, trusted), (again, _) = artifact.dumps(first, fmt), artifact.dumps(second, fmt)
    assert blob == again
    loaded = artifact.loads(again, fmt, trusted)
    assert loaded.predict_proba(frame).tolist() == first.predict_proba(frame).tolist()
    other = support.fit_classifier(frame.iloc[:-5], features, labels[:-5])
    assert artifact.dumps(other, fmt)[0] != blob  # another model, another file (and version)


def test_a_reproducible_skops_file_has_canonical_names_and_times(classifier):
    blob, _trusted = artifact.dumps(classifier, "skops")
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        infos = archive.infolist()
        schema = json.loads(archive.read("schema.json"))
    names = [info.filename for info in infos]
    assert names == ["%d.npy" % n for n in range(1, len(names))] + ["schema.json"]
    assert {info.date_time for info in infos} == {artifact.ZIP_EPOCH}
    ids = []

    def collect(node):
        if isinstance(node, dict):
            ids.extend(v for k, v in node.items() if k == "__id__")
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(schema)
    assert max(ids) == len(set(ids))  # 1, 2, 3... in order of first appearance, shared objects sharing theirs


def test_a_skops_file_laid_out_otherwise_is_kept_as_skops_wrote_it(classifier):
    import skops.io as sio

    blob = sio.dumps(classifier)
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as source, zipfile.ZipFile(buffer, "w") as copy:
        for info in source.infolist():
            copy.writestr(info, source.read(info.filename))
        copy.writestr("unnamed.bin", b"not named by schema.json")
    odd = buffer.getvalue()
    assert artifact.reproducible_skops(odd, sorted(sio.get_untrusted_types(data=odd))) == odd
    assert artifact.reproducible_skops(b"not a zip", []) == b"not a zip"
