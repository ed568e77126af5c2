"""tools/importer/swap.py: model/ is the old folder, whole, or the new one; the user's files move with it."""

import os
import stat

import pytest

from tools.importer.swap import carry_over, new_candidate, swap_in


def folder(path, files):
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text)
    return str(path)


def contents(path):
    return dict((name, open(os.path.join(path, name)).read()) for name in sorted(os.listdir(path)))


def test_the_new_folder_replaces_model_and_nothing_is_left_beside_it(tmp_path):
    model = folder(tmp_path / "model", {"model.skops": "old", "schema.json": "{old}"})
    candidate = folder(tmp_path / ".model-import-1", {"model.skops": "new", "schema.json": "{new}"})
    swap_in(candidate, model)
    assert contents(model) == {"model.skops": "new", "schema.json": "{new}"}
    assert os.listdir(str(tmp_path)) == ["model"]


def test_a_project_without_model_gets_one(tmp_path):
    candidate = folder(tmp_path / ".model-import-1", {"schema.json": "{new}"})
    swap_in(candidate, str(tmp_path / "model"))
    assert os.listdir(str(tmp_path)) == ["model"]


def test_a_failed_swap_puts_the_old_model_back_whole(tmp_path):
    model = folder(tmp_path / "model", {"model.skops": "old", "schema.json": "{old}"})
    with pytest.raises(OSError):
        swap_in(str(tmp_path / "vanished"), model)  # the rename of the candidate fails after model/ moved aside
    assert contents(model) == {"model.skops": "old", "schema.json": "{old}"}
    assert os.listdir(str(tmp_path)) == ["model"]


def test_the_user_s_files_move_with_the_model_but_old_artifacts_do_not(tmp_path):
    old = folder(
        tmp_path / "model",
        {
            "model.joblib": "old",
            "model.skops": "old",
            "model.onnx": "old",
            "schema.json": "{old}",
            "NOTES.md": "why this model",
            ".DS_Store": "",
        },
    )
    (tmp_path / "model" / "runs").mkdir()
    candidate = folder(tmp_path / "candidate", {"model.skops": "new", "schema.json": "{new}"})
    carry_over(old, candidate)
    assert contents(candidate) == {"NOTES.md": "why this model", "model.skops": "new", "schema.json": "{new}"}
    assert "NOTES.md" in os.listdir(old)  # copied, not moved: a refused import leaves model/ as it was


def test_carrying_over_from_no_model_is_nothing(tmp_path):
    candidate = folder(tmp_path / "candidate", {})
    carry_over(str(tmp_path / "model"), candidate)
    assert os.listdir(candidate) == []


def test_the_candidate_is_hidden_beside_model_and_readable_by_the_web_server(tmp_path):
    candidate = new_candidate(str(tmp_path / "model"))
    assert os.path.dirname(candidate) == str(tmp_path)  # same filesystem: the swap is a rename
    assert os.path.basename(candidate).startswith(".model-import-")
    assert stat.S_IMODE(os.stat(candidate).st_mode) == 0o755
