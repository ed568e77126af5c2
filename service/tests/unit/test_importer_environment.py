"""tools/importer/environment.py: the pins that follow the model's scikit-learn, and what re-pinning touches."""

import os
import sys
from types import SimpleNamespace

import pytest
import sklearn

from tools.importer import ImportRefused, environment
from tools.importer.environment import (
    check_versions,
    pins_text,
    repin_and_import,
    repinned,
    staged_requirements,
    version_advice,
)

OLD = "1.5.2"
PINS = {"scikit-learn": OLD, "numpy": "2.1.3", "scipy": "1.14.1", "pandas": "2.2.3", "joblib": "1.4.2"}
REQUIREMENTS = (
    "# build order: numpy before scipy before scikit-learn\n"
    "numpy==2.3.5\n"
    "scipy==1.16.3\n"
    "scikit-learn==1.9.1 ; python_version >= '3.9'  # the model's library\n"
    "skops==0.13.0\n"
    "pandas==2.3.3\n"
)


def options(allow_version_mismatch=False, keep_pins=False):
    return SimpleNamespace(allow_version_mismatch=allow_version_mismatch, keep_pins=keep_pins)


def test_repinning_changes_only_the_versions_and_keeps_order_markers_and_comments():
    text, changed = repinned(REQUIREMENTS, PINS)
    assert text == (
        "# build order: numpy before scipy before scikit-learn\n"
        "numpy==2.1.3\n"
        "scipy==1.14.1\n"
        "scikit-learn==1.5.2 ; python_version >= '3.9'  # the model's library\n"
        "skops==0.13.0\n"
        "pandas==2.2.3\n"
    )
    assert changed == [
        ("numpy", "2.3.5", "2.1.3"),
        ("scipy", "1.16.3", "1.14.1"),
        ("scikit-learn", "1.9.1", OLD),
        ("pandas", "2.3.3", "2.2.3"),
    ]


def test_repinning_matches_names_as_pip_does_and_keeps_line_endings():
    text, changed = repinned("Scikit_Learn === 1.9.1\r\njoblib==1.4.2\r\n", PINS)
    assert text == "Scikit_Learn === 1.5.2\r\njoblib==1.4.2\r\n"
    assert changed == [("Scikit_Learn", "1.9.1", OLD)]  # joblib already had the wanted version


def test_the_advice_with_pins_names_them_the_python_and_how_to_let_the_importer_apply_them():
    advice = version_advice(OLD, PINS)
    assert "Pins with binary wheels for Python 3.11 (x86_64) that follow the artifact: " + pins_text(PINS) in advice
    assert "Import without --keep-pins" in advice and "make venv" in advice


def test_without_wheels_for_this_python_the_advice_names_a_python_that_has_them(monkeypatch):
    monkeypatch.setattr(environment, "wheel_set", lambda version, python: PINS if python == "3.13" else None)
    assert "it has for Python 3.13: generate the project with --python-version 3.13" in version_advice("0.24.2", None)
    monkeypatch.setattr(environment, "wheel_set", lambda version, python: None)
    advice = version_advice("0.24.2", None)
    assert "scikit-learn 0.24.2 has no binary wheels for any Python this platform offers (3.11, 3.12" in advice
    assert advice.endswith("re-save the model with this project's scikit-learn")


def test_a_model_from_this_sklearn_or_of_unknown_version_needs_no_new_pins():
    assert check_versions(sklearn.__version__, options()) is None
    assert check_versions(None, options()) is None


def test_allow_version_mismatch_imports_anyway_with_a_warning(capsys):
    assert check_versions(OLD, options(allow_version_mismatch=True)) is None
    out = capsys.readouterr().out
    assert (
        "warning: the model was written by scikit-learn %s, but this project runs scikit-learn %s"
        % (
            OLD,
            sklearn.__version__,
        )
        in out
    )
    assert "the proof decides" in out


def test_another_sklearn_re_pins_unless_keep_pins_which_refuses_with_the_pins(monkeypatch):
    monkeypatch.setattr(environment, "wheel_set", lambda version, python: dict(PINS) if version == OLD else None)
    assert check_versions(OLD, options()) == PINS
    with pytest.raises(ImportRefused) as caught:
        check_versions(OLD, options(keep_pins=True))
    message = str(caught.value)
    assert message.startswith("the model was written by scikit-learn %s, but this project runs" % OLD)
    assert pins_text(PINS) in message
    assert "--allow-version-mismatch" in message


def test_staging_re_pins_both_requirement_files_in_memory_only(tmp_path):
    (tmp_path / "requirements.txt").write_text(REQUIREMENTS)
    (tmp_path / "requirements-dev.txt").write_text("-r requirements.txt\npytest==8.3.4\nnumpy==2.3.5\n")
    staged, changes = staged_requirements(str(tmp_path), OLD, PINS)
    assert staged["requirements-dev.txt"] == "-r requirements.txt\npytest==8.3.4\nnumpy==2.1.3\n"
    assert ("requirements.txt", "scikit-learn", "1.9.1", OLD) in changes
    assert ("requirements-dev.txt", "numpy", "2.3.5", "2.1.3") in changes
    assert (tmp_path / "requirements.txt").read_text() == REQUIREMENTS  # nothing written until the import is proven


def test_requirements_without_a_scikit_learn_pin_are_refused_with_what_to_add(tmp_path):
    (tmp_path / "requirements.txt").write_text("numpy==2.3.5\nscikit-learn>=1.0\n")
    with pytest.raises(ImportRefused) as caught:
        staged_requirements(str(tmp_path), OLD, PINS)
    assert "requirements.txt has no scikit-learn==... line to re-pin: add scikit-learn==1.5.2" in str(caught.value)
    assert "to requirements.txt, run `make venv`" in str(caught.value)


def test_on_onnx_scikit_learn_is_re_pinned_in_requirements_dev_where_it_is_pinned(tmp_path):
    # The onnx runtime serves without scikit-learn: requirements.txt pins numpy and onnxruntime, requirements-dev.txt
    # (what `make venv` installs) pins scikit-learn and the rest of the build-time stack.
    (tmp_path / "requirements.txt").write_text("numpy==2.3.5\nonnxruntime==1.32.0\n")
    (tmp_path / "requirements-dev.txt").write_text(
        "-r requirements.txt\nscipy==1.16.3\nscikit-learn==1.9.1\nskl2onnx==1.20.0\npandas==2.3.3\n"
    )
    staged, changes = staged_requirements(str(tmp_path), OLD, PINS)
    assert ("requirements-dev.txt", "scikit-learn", "1.9.1", OLD) in changes
    assert ("requirements.txt", "numpy", "2.3.5", "2.1.3") in changes
    assert staged["requirements-dev.txt"].count("scikit-learn==") == 1
    assert "scikit-learn" not in staged["requirements.txt"]


def test_without_any_scikit_learn_pin_the_advice_names_the_file_make_venv_installs(tmp_path):
    (tmp_path / "requirements.txt").write_text("numpy==2.3.5\n")
    (tmp_path / "requirements-dev.txt").write_text("-r requirements.txt\nscikit-learn>=1.0\n")
    with pytest.raises(ImportRefused) as caught:
        staged_requirements(str(tmp_path), OLD, PINS)
    message = str(caught.value)
    assert "requirements-dev.txt and requirements.txt have no scikit-learn==... line" in message
    assert "add scikit-learn==1.5.2 (with %s) to requirements-dev.txt, run `make venv`" % pins_text(PINS) in message


def test_re_pinning_outside_a_venv_is_refused_and_touches_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "base_prefix", sys.prefix)
    monkeypatch.setattr(environment, "PROJECT_ROOT", str(tmp_path))
    with pytest.raises(ImportRefused) as caught:
        repin_and_import(OLD, PINS, ["model.skops"])
    assert "which is not a venv it can rebuild" in str(caught.value)
    assert "add --keep-pins to only be told the pins" in str(caught.value)
    assert os.listdir(str(tmp_path)) == []


def test_the_rebuilt_venv_re_runs_the_entry_point_users_run():
    assert environment.IMPORTER == os.path.join(environment.PROJECT_ROOT, "tools", "import_model.py")
    assert os.path.isfile(environment.IMPORTER)


def test_libraries_are_appended_under_one_comment_in_the_file_s_own_line_endings():
    added = environment.with_libraries("numpy==2.4.6\r\nscipy==1.17.1", {"lightgbm": "4.7.0", "graphviz": "0.21"})
    assert added == (
        "numpy==2.4.6\r\nscipy==1.17.1\r\n" + environment.LIBRARIES_HEADER + "\r\ngraphviz==0.21\r\nlightgbm==4.7.0\r\n"
    )
    assert environment.with_libraries("numpy==2.4.6\n", {}) == "numpy==2.4.6\n"
    again = environment.with_libraries(added, {"xgboost-cpu": "3.2.0"})  # a later import: the same comment, once
    assert again == added + "xgboost-cpu==3.2.0\r\n"


def test_staging_libraries_alone_needs_no_scikit_learn_pin_and_writes_nothing(tmp_path):
    (tmp_path / "requirements.txt").write_text("numpy==2.4.6\n")
    staged, changes = staged_requirements(str(tmp_path), None, {}, {"xgboost-cpu": "3.1.2"})
    assert staged["requirements.txt"].endswith("\nxgboost-cpu==3.1.2\n")
    assert changes == [("requirements.txt", "xgboost-cpu", "(none)", "3.1.2")]
    assert (tmp_path / "requirements.txt").read_text() == "numpy==2.4.6\n"


def test_libraries_installed_for_an_import_are_pinned_once_proven_or_uninstalled(monkeypatch, tmp_path, capsys):
    (tmp_path / "requirements.txt").write_text("numpy==2.4.6\n")
    monkeypatch.setattr(environment, "PROJECT_ROOT", str(tmp_path))
    ran = []
    monkeypatch.setattr(environment, "run_step", lambda command, log=None: ran.append(command) or 0)
    installed = environment.Installed({"lightgbm": "4.7.0"}, ["lightgbm"])
    installed.rollback()
    assert ran[-1][-3:] == ["-q", "-y", "lightgbm"] and "uninstall" in ran[-1]
    assert (tmp_path / "requirements.txt").read_text() == "numpy==2.4.6\n"
    installed.commit()
    assert (tmp_path / "requirements.txt").read_text().endswith(environment.LIBRARIES_HEADER + "\nlightgbm==4.7.0\n")
    assert "requirements.txt now also pins lightgbm==4.7.0" in capsys.readouterr().out
    environment.Installed({"lightgbm": "4.7.0"}, []).rollback()  # nothing new: nothing to uninstall
    assert len(ran) == 1


def test_installing_outside_a_venv_is_refused_and_installs_nothing(monkeypatch):
    monkeypatch.setattr(sys, "base_prefix", sys.prefix)
    monkeypatch.setattr(environment, "run_step", lambda *a: pytest.fail("ran pip"))
    with pytest.raises(ImportRefused) as caught:
        environment.install_libraries({"catboost": "1.2.10"})
    assert "the model needs catboost==1.2.10, but the importer runs in" in str(caught.value)


def test_the_re_run_reads_the_staged_requirements_as_the_project_s(monkeypatch, tmp_path):
    (tmp_path / "requirements.txt").write_text("scikit-learn==1.7.2\nlightgbm==4.7.0\n")
    monkeypatch.setenv(environment.STAGED_REQUIREMENTS, str(tmp_path))
    assert environment.requirements_dir() == str(tmp_path)
    assert environment.requirement_lines({"scikit-learn": "1.5.2"}) == ["scikit-learn==1.5.2", "lightgbm==4.7.0"]


def test_on_onnx_a_model_s_libraries_are_build_time_pins_in_requirements_dev(monkeypatch, tmp_path, capsys):
    # EB serves model.onnx alone: LightGBM only loads and converts the model, in the developer's venv.
    monkeypatch.setattr(environment.settings, "RUNTIME", "onnx")
    (tmp_path / "requirements.txt").write_text("numpy==2.4.6\nonnxruntime==1.32.0\n")
    (tmp_path / "requirements-dev.txt").write_text("-r requirements.txt\nscipy==1.17.1\nscikit-learn==1.9.1\n")
    monkeypatch.setattr(environment, "PROJECT_ROOT", str(tmp_path))
    staged, changes = staged_requirements(str(tmp_path), None, {}, {"lightgbm": "4.7.0"})
    assert staged["requirements-dev.txt"].endswith(environment.LIBRARIES_HEADER + "\nlightgbm==4.7.0\n")
    assert staged["requirements.txt"] == "numpy==2.4.6\nonnxruntime==1.32.0\n"
    assert changes == [("requirements-dev.txt", "lightgbm", "(none)", "4.7.0")]
    # the libraries are resolved against the build-time stack too (scipy is pinned there, not in requirements.txt)
    assert "scipy==1.17.1" in environment.requirement_lines()
    monkeypatch.setattr(environment, "run_step", lambda command, log=None: 0)
    environment.Installed({"lightgbm": "4.7.0"}, ["lightgbm"]).commit()
    assert (tmp_path / "requirements-dev.txt").read_text().endswith("\nlightgbm==4.7.0\n")
    assert (tmp_path / "requirements.txt").read_text() == "numpy==2.4.6\nonnxruntime==1.32.0\n"
    assert "requirements-dev.txt now also pins lightgbm==4.7.0" in capsys.readouterr().out
