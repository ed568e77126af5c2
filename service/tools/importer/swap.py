"""The new model/ is built as a folder beside the old one (same filesystem, so each move is a rename) and only swapped
in once proven: at every moment model/ is either the old folder, whole, or the new one. The user's code (model_code/,
from --code) is staged and swapped in the same way, together with model/.
"""

import os
import shutil
import tempfile

from serving import artifact


def new_candidate(model_dir, prefix=".model-import-"):
    """An empty folder beside model_dir for the new model (or code), readable by the service."""
    candidate = tempfile.mkdtemp(prefix=prefix, dir=os.path.dirname(model_dir))
    os.chmod(candidate, 0o755)  # mkdtemp makes 0700; on EB the web server's user must be able to read model/
    return candidate


def carry_over(old_dir, candidate):
    """Files of the user's beside the old model (notes, a README) move with the folder; old artifacts do not."""
    if not os.path.isdir(old_dir):
        return
    skip = set(artifact.ARTIFACT_NAMES.values()) | {"schema.json", "model.onnx"}
    for name in os.listdir(old_dir):
        if name not in skip and not name.startswith(".") and os.path.isfile(os.path.join(old_dir, name)):
            shutil.copy2(os.path.join(old_dir, name), os.path.join(candidate, name))


def swap_in(candidate, model_dir):
    """model/ -> aside, candidate -> model/, aside removed: a failure in between puts the old folder back."""
    aside = None
    if os.path.exists(model_dir):
        aside = tempfile.mkdtemp(prefix=".model-old-", dir=os.path.dirname(model_dir))
        os.rmdir(aside)
        os.rename(model_dir, aside)
    try:
        os.rename(candidate, model_dir)
    except BaseException:
        if aside:
            os.rename(aside, model_dir)
        raise
    if aside:
        shutil.rmtree(aside, ignore_errors=True)


def swap_in_all(pairs):
    """swap_in for each (candidate, folder), all or none: a failure puts back the folders already swapped."""
    done = []
    try:
        for candidate, folder in pairs:
            aside = None
            if os.path.exists(folder):
                aside = tempfile.mkdtemp(prefix="." + os.path.basename(folder) + "-old-", dir=os.path.dirname(folder))
                os.rmdir(aside)
                os.rename(folder, aside)
            try:
                os.rename(candidate, folder)
            except BaseException:
                if aside:
                    os.rename(aside, folder)
                raise
            done.append((candidate, folder, aside))
    except BaseException:
        for candidate, folder, aside in reversed(done):
            os.rename(folder, candidate)
            if aside:
                os.rename(aside, folder)
        raise
    for _candidate, _folder, aside in done:
        if aside:
            shutil.rmtree(aside, ignore_errors=True)
