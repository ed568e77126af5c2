"""The project's own code inside a model: a module of the project that the fitted pipeline calls when it predicts,
from one of two places on the service's import path: beside application.py (features.py, whose derive() train.py
makes the pipeline's first step) or in model_code/ (a notebook's modules, brought by tools/import_model.py --code).

A pickled or skops'd pipeline names such a function by reference (`features.derive`), not by its code: what runs is
whatever the file says when the model is loaded. So the model folder records the code it was written with
(schema.json's model.ownCode: {module: sha256 of its file}, written by tools/schema_derivation.write_model_folder), and
the service refuses to start when a file has changed since: a model always serves with the code it was trained with.
"""

import hashlib
import os

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODE_DIR = "model_code"
CODE_ENV = "MODEL_CODE_DIR"  # set while an import proves a model with its staged model_code/


class OwnCodeError(RuntimeError):
    """The code a model runs is not the code it was written with; the message says what to run."""


def code_dir(root=None):
    """model_code/ of the project (the staged one, MODEL_CODE_DIR, while an import proves a model)."""
    return os.environ.get(CODE_ENV) or os.path.join(root or PROJECT_ROOT, CODE_DIR)


def module_path(name, root=None):
    """The file (name.py) or package folder (name/) of top-level module `name` in the project folder, else in its
    model_code/ (the order the service imports them in: model_code/ comes last on sys.path), or None."""
    root = root or PROJECT_ROOT
    for folder in (root, code_dir(root)):
        single = os.path.join(folder, name + ".py")
        if os.path.isfile(single):
            return single
        package = os.path.join(folder, name)
        if os.path.isfile(os.path.join(package, "__init__.py")):
            return package
    return None


def _code(path):
    # Line endings aside: a checkout with CRLF (git's autocrlf) holds the same code.
    with open(path, "rb") as fh:
        return fh.read().replace(b"\r\n", b"\n")


def digest(path):
    """sha256 of a module's code: the file's bytes, or every .py file of a package (by relative path, in order)."""
    hashed = hashlib.sha256()
    if os.path.isfile(path):
        hashed.update(_code(path))
        return hashed.hexdigest()
    files = []
    for folder, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        files.extend(os.path.join(folder, n) for n in names if n.endswith(".py"))
    for file in sorted(files):
        hashed.update(os.path.relpath(file, path).replace(os.sep, "/").encode("utf-8") + b"\0")
        hashed.update(_code(file) + b"\0")
    return hashed.hexdigest()


def record(modules, root=None):
    """{module: sha256 of its code} for schema.json's model.ownCode."""
    root = root or PROJECT_ROOT
    found = {}
    for name in sorted(modules):
        path = module_path(name, root)
        if path is None:
            raise OwnCodeError(
                "the model runs code of module %r, which is not a module of the project in %s" % (name, root)
            )
        found[name] = digest(path)
    return found


def check(recorded, root=None):
    """Raise OwnCodeError unless every module of `recorded` (schema.json's model.ownCode) is the code it was then."""
    root = root or PROJECT_ROOT
    for name, expected in sorted((recorded or {}).items()):
        path = module_path(name, root)
        if path is None:
            raise OwnCodeError(
                "the model was trained with module %r (%s.py), which is not in %s nor in its %s/: it belongs "
                "beside application.py (features.py) or in %s/ (tools/import_model.py --code), deployed with the model "
                "(check .ebignore), or train (or import) the model again without it"
                % (name, name, root, CODE_DIR, CODE_DIR)
            )
        now = digest(path)
        if now != str(expected).lower():
            raise OwnCodeError(
                "%s has changed since the model was trained with it (sha256 %s then, %s now): run `make train` (or "
                "`make import` again) so that the model serves with the code it was trained with"
                % (os.path.relpath(path, root), str(expected)[:12], now[:12])
            )
