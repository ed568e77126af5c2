"""The project's own code inside a model: a module of the project (features.py, whose derive() train.py makes the
pipeline's first step) that the fitted pipeline calls when it predicts.

A pickled or skops'd pipeline names such a function by reference (`features.derive`), not by its code: what runs is
whatever the file says when the model is loaded. So the model folder records the code it was written with
(schema.json's model.ownCode: {module: sha256 of its file}, written by tools/schema_derivation.write_model_folder), and
the service refuses to start when a file has changed since: a model always serves with the code it was trained with.
"""

import hashlib
import os

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class OwnCodeError(RuntimeError):
    """The code a model runs is not the code it was written with; the message says what to run."""


def module_path(name, root=None):
    """The file (name.py) or package folder (name/) of top-level module `name` in the project folder, or None."""
    root = root or PROJECT_ROOT
    single = os.path.join(root, name + ".py")
    if os.path.isfile(single):
        return single
    package = os.path.join(root, name)
    return package if os.path.isfile(os.path.join(package, "__init__.py")) else None


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
                "the model was trained with module %r (%s.py), which is not in %s: it belongs beside application.py, "
                "deployed with the model (check .ebignore), or train the model again without it" % (name, name, root)
            )
        now = digest(path)
        if now != str(expected).lower():
            raise OwnCodeError(
                "%s has changed since the model was trained with it (sha256 %s then, %s now): run `make train` (or "
                "`make import` again) so that the model serves with the code it was trained with"
                % (os.path.relpath(path, root), str(expected)[:12], now[:12])
            )
