"""Fixtures of the unit tests: tiny models fitted once per session, their model/ folders written by
tools.schema_derivation (as train.py writes them), and apps built from them by create_app()."""

import shutil
import sys

import pytest
import support

import serving
from serving import trust


@pytest.fixture(scope="session", autouse=True)
def project_trust(tmp_path_factory):
    """The trust.json the service reads and train/import write: a session's own, never service/trust.json here.
    Every model folder the fixtures write is vouched for in it, as train.py vouches in a project."""
    root = tmp_path_factory.mktemp("project")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(trust, "PROJECT_ROOT", str(root))
        yield root / trust.FILE_NAME


SESSION_PATH = list(sys.path)


@pytest.fixture(autouse=True)
def _import_path():
    """Each test ends with the import path the session began with: loading a model (here, or in a session fixture)
    puts model_code/ on it for good, as in the service (serving/bundle.py), which must not leak into a test that
    checks what an import leaves there."""
    yield
    sys.path[:] = SESSION_PATH


@pytest.fixture(scope="session")
def training():
    """(frame, features, class labels, regression targets)."""
    return support.training_data()


@pytest.fixture(scope="session")
def features(training):
    return training[1]


@pytest.fixture(scope="session")
def classifier(training):
    frame, features, labels, _values = training
    return support.fit_classifier(frame, features, labels)


@pytest.fixture(scope="session")
def regressor(training):
    frame, features, _labels, values = training
    return support.fit_regressor(frame, features, values)


@pytest.fixture(scope="session")
def classifier_dir(tmp_path_factory, classifier, features):
    """A classifier's model/ folder (skops, sklearn runtime). Read-only: damage a copy (model_copy)."""
    directory = tmp_path_factory.mktemp("classifier") / "model"
    support.write_folder(directory, "sizes", classifier, features, "size")
    return directory


@pytest.fixture(scope="session")
def regressor_dir(tmp_path_factory, regressor, features):
    directory = tmp_path_factory.mktemp("regressor") / "model"
    support.write_folder(directory, "prices", regressor, features, "price")
    return directory


@pytest.fixture
def model_copy(tmp_path, classifier_dir):
    """A private copy of the classifier's folder, safe to damage."""
    target = tmp_path / "model"
    shutil.copytree(str(classifier_dir), str(target))
    return target


@pytest.fixture(scope="session")
def classifier_app(classifier_dir):
    return serving.create_app(str(classifier_dir))


@pytest.fixture(scope="session")
def regressor_app(regressor_dir):
    return serving.create_app(str(regressor_dir))


@pytest.fixture
def client(classifier_app):
    return classifier_app.test_client()


@pytest.fixture(scope="session")
def rows(training):
    """rows(count) -> valid request rows (some with null width or colour)."""
    frame, features = training[0], training[1]

    def make(count=1):
        return support.valid_rows(frame, features, count)

    return make
