"""tools/importer/libraries.py: where each module a model names comes from, and the version a library is pinned at."""

import os

import pytest

from tools.importer import ImportRefused, libraries, wheels
from tools.importer.inspection import Inspection
from tools.importer.libraries import chosen_version, default_pins, library_pins, place, refuse_unplaced

PINS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "templates", "pins", "libraries-al2023.txt")
REQUIREMENTS = ["# pins", "numpy==2.4.6", "scipy==1.17.1", "scikit-learn==1.9.1 ; python_version >= '3.9'", "-r x.txt"]


def named(*references, **versions):
    return Inspection(set(references), versions)


def refusal(placement, inspection, facts=None, code_found=None, in_project=True):
    with pytest.raises(ImportRefused) as caught:
        refuse_unplaced(placement, inspection, facts, code_found or {}, in_project)
    return str(caught.value)


def test_python_and_the_project_s_own_libraries_need_nothing():
    found = named(
        "builtins.getattr", "collections.OrderedDict", "numpy.dtype", "sklearn.pipeline.Pipeline", "_codecs.encode"
    )
    placement = place(found, {}, {})
    assert (placement.libraries, placement.code, placement.main, placement.unplaced) == ({}, [], [], [])


def test_scikit_learn_s_loss_classes_named_by_their_short_module_are_scikit_learn_s():
    # Pickled by scikit-learn 1.5.2 (MLflow, cloudpickle): its Cython loss classes' __module__ is "_loss".
    found = named("_loss.CyHalfBinomialLoss", "_loss.__pyx_unpickle_CyHalfBinomialLoss")
    placement = place(found, {}, {})
    assert (placement.libraries, placement.unplaced) == ({}, [])


def test_gradient_boosting_libraries_are_placed_with_the_lightest_distribution_that_serves():
    found = named("lightgbm.sklearn.LGBMClassifier", "xgboost.core.Booster", "catboost.core.CatBoostClassifier")
    assert place(found, {}, {}).libraries == {"lightgbm": "lightgbm", "xgboost": "xgboost-cpu", "catboost": "catboost"}


def test_the_user_s_code_the_notebook_s_main_and_unknown_modules_are_told_apart():
    found = named("features.RatioFeatures", "__main__.double", "imblearn.pipeline.Pipeline", "yaml.SafeLoader")
    installed = {"yaml": "PyYAML"}.get
    placement = place(found, {"features": "/nb/features.py"}, {"pyyaml": "6.0.3"}, installed)
    assert placement.code == ["features"]
    assert placement.main == ["__main__.double"]
    assert placement.unplaced == ["imblearn"]
    assert placement.libraries == {}  # PyYAML is installed and pinned: nothing to decide
    assert place(found, {}, {}, installed).libraries == {"yaml": "pyyaml"}  # installed, not pinned: pinned as it is


def test_the_notebook_s_own_definitions_are_refused_with_how_to_move_them_into_a_module():
    found = named("__main__.double")
    message = refusal(place(found, {}, {}), found)
    assert message.startswith("the model refers to __main__.double, defined in the notebook or script that saved it")
    assert "import it with --code my_code.py" in message
    assert "the project's features.py" in message


def test_an_unknown_module_is_named_with_both_fixes_and_the_mlflow_requirements_that_may_provide_it():
    found = named("imblearn.pipeline.Pipeline")
    facts = {"requirements": {"imbalanced-learn": "0.12.0", "mlflow": "3.18.0", "scikit-learn": "1.7.2"}}
    message = refusal(place(found, {}, {}), found, facts)
    assert "the model needs the module imblearn (imblearn.pipeline.Pipeline)" in message
    assert "(the MLflow folder's requirements list imbalanced-learn==0.12.0)" in message
    assert "bring it with --code path/to/imblearn.py" in message
    assert ".venv/bin/pip install <its package>) and import again" in message
    before = refusal(place(found, {}, {}), found, facts, in_project=False)
    assert "generate the project without --model" in before


def test_mlflow_code_paths_are_only_brought_in_when_the_user_says_so():
    found = named("loan_features.RatioFeatures")
    facts = {"code": "/m/code", "requirements": {}}
    message = refusal(place(found, {}, {}), found, facts, {"loan_features": "/m/code/loan_features.py"})
    assert "which the MLflow folder brings in /m/code/loan_features.py" in message
    assert "add --code /m/code" in message


@pytest.mark.parametrize(
    "facts, versions, installed, expected",
    [
        ({"requirements": {"xgboost": "3.1.2"}}, {"xgboost": "3.0.0"}, "3.2.0", ("3.1.2", "requirements.txt")),
        ({"requirements": {"xgboost-cpu": "3.1.1"}}, {}, None, ("3.1.1", "requirements.txt")),
        (None, {"xgboost": "3.0.0"}, "3.2.0", ("3.0.0", "the artifact")),
        (None, {}, "3.1.0", ("3.1.0", "this venv")),
        (None, {}, None, ("9.9.9", "library-pins.txt")),
    ],
)
def test_the_version_the_model_records_wins_then_the_venv_s_then_the_default(facts, versions, installed, expected):
    found = named("xgboost.sklearn.XGBRegressor", **versions)
    version, source = chosen_version("xgboost", "xgboost-cpu", facts, found, installed, {"xgboost-cpu": "9.9.9"})
    assert (version, source.split()[-1] if "requirements" in source else source) == expected


def test_the_default_pins_are_the_generator_s_checked_pin_file():
    pins = default_pins()
    assert pins == default_pins(PINS)
    assert {"lightgbm", "xgboost-cpu", "catboost"} <= set(pins)
    assert "xgboost" not in pins  # the plain wheel pulls CUDA libraries onto x86_64


class FakeIndex(object):
    """wheels.resolve as PyPI answers it here: `have` lists what exists; a library pulls in `pulls`."""

    def __init__(self, have, pulls=None):
        self.have, self.pulls, self.asked, self.constraints = have, pulls or {}, [], []

    def __call__(self, lines, python, arch, constraints=None, no_deps=False, timeout=300):
        self.asked.append(list(lines))
        self.constraints.append(list(constraints or []))
        resolved = {}
        for line in lines:
            name, version = line.split(";")[0].strip().split("==")
            name = libraries.canonical(name)
            if (name, version) not in self.have:
                return None
            resolved[name] = version
            resolved.update(self.pulls.get(name, {}))
        return resolved


def test_a_library_is_added_with_what_it_pulls_in_that_the_project_does_not_pin(monkeypatch):
    index = FakeIndex(
        {("numpy", "2.4.6"), ("scipy", "1.17.1"), ("scikit-learn", "1.9.1"), ("catboost", "1.2.8")},
        {"catboost": {"numpy": "2.4.6", "matplotlib": "3.11.2", "graphviz": "0.21"}},
    )
    monkeypatch.setattr(wheels, "resolve", index)
    wanted = {"catboost": ("catboost", "1.2.8", "the artifact")}
    additions, changes = library_pins(wanted, REQUIREMENTS, "3.11", "x86_64", False, [])
    assert additions == {"catboost": "1.2.8", "matplotlib": "3.11.2", "graphviz": "0.21"}
    assert changes == {}


def test_what_the_dev_requirements_test_tools_pull_in_is_no_library_of_the_model_s(monkeypatch):
    # On the onnx runtime the lines are requirements-dev.txt's too: pytest and hypothesis pull in distributions it
    # leaves unpinned, which the whole set resolves to; only the library and what it needs are the model's.
    have = {("numpy", "2.4.6"), ("scipy", "1.17.1"), ("scikit-learn", "1.9.1"), ("xgboost-cpu", "3.2.0")}
    have |= {("pytest", "9.2.0"), ("hypothesis", "6.170.17")}
    pulls = {
        "pytest": {"iniconfig": "2.3.1", "pluggy": "1.7.0", "pygments": "2.21.0", "packaging": "26.4"},
        "hypothesis": {"sortedcontainers": "2.4.0"},
        "xgboost-cpu": {"numpy": "2.4.6", "scipy": "1.17.1", "packaging": "26.4"},
    }
    index = FakeIndex(have, pulls)
    monkeypatch.setattr(wheels, "resolve", index)
    dev = REQUIREMENTS + ["hypothesis==6.170.17", "pytest==9.2.0"]
    wanted = {"xgboost": ("xgboost-cpu", "3.2.0", "library-pins.txt")}
    additions, changes = library_pins(wanted, dev, "3.11", "x86_64", False, [])
    # packaging: pytest pulls it in too, but it is the library's own dependency and nothing pins it
    assert (additions, changes) == ({"xgboost-cpu": "3.2.0", "packaging": "26.4"}, {})
    # the library alone, at the versions the whole set resolved to
    assert index.asked[-1] == ["xgboost-cpu==3.2.0"]
    assert "iniconfig==2.3.1" in index.constraints[-1] and "pytest==9.2.0" in index.constraints[-1]


def test_a_recorded_version_without_wheels_is_refused_with_the_one_that_has_them(monkeypatch):
    index = FakeIndex({("numpy", "2.4.6"), ("scipy", "1.17.1"), ("scikit-learn", "1.9.1"), ("lightgbm", "4.7.0")})
    monkeypatch.setattr(wheels, "resolve", index)
    monkeypatch.setattr(libraries, "default_pins", lambda path=None: {"lightgbm": "4.7.0"})
    wanted = {"lightgbm": ("lightgbm", "3.3.5", "the MLflow folder's requirements.txt")}
    with pytest.raises(ImportRefused) as caught:
        library_pins(wanted, REQUIREMENTS, "3.12", "aarch64", False, [])
    assert str(caught.value) == (
        "lightgbm 3.3.5 (from the MLflow folder's requirements.txt) has no binary wheels for Python 3.12 (aarch64) "
        "alongside this project's pins; lightgbm 4.7.0 has them: save the model again with lightgbm==4.7.0 "
        "installed, or add --allow-version-mismatch to pin 4.7.0 and let the proof decide"
    )
    notes = []
    assert library_pins(wanted, REQUIREMENTS, "3.12", "aarch64", True, notes) == ({"lightgbm": "4.7.0"}, {})
    assert notes[0].startswith("warning: lightgbm 3.3.5 (from the MLflow folder's requirements.txt) has no binary")


def test_a_pin_of_the_user_s_stands_unless_the_model_records_another_version(monkeypatch):
    have = {
        ("numpy", "2.4.6"),
        ("scipy", "1.17.1"),
        ("scikit-learn", "1.9.1"),
        ("xgboost", "3.0.0"),
        ("xgboost", "3.1.2"),
    }
    monkeypatch.setattr(wheels, "resolve", FakeIndex(have))
    pinned = REQUIREMENTS + ["xgboost==3.0.0"]
    default = {"xgboost": ("xgboost-cpu", "3.2.0", "library-pins.txt")}
    assert library_pins(default, pinned, "3.11", "x86_64", False, []) == ({}, {})
    recorded = {"xgboost": ("xgboost-cpu", "3.1.2", "the artifact")}
    assert library_pins(recorded, pinned, "3.11", "x86_64", False, []) == ({}, {"xgboost": "3.1.2"})
    same = {"xgboost": ("xgboost-cpu", "3.0.0", "the artifact")}
    assert library_pins(same, pinned, "3.11", "x86_64", False, []) == ({}, {})
