"""The data scientist's own code a model refers to (a transformer class or a function in features.py, MLflow's
code_paths), brought into the project with --code as model_code/: a folder of the user's, never managed or touched
by upgrades, that the service puts on its import path before it loads the model (serving/bundle.py), so the modules
import by the names the model was saved with. It runs whenever the model loads: only --code brings it in.

Standard library only: the generator's preflight checks --code before any venv exists.
"""

import datetime
import os
import re
import shutil

from . import ImportRefused

CODE_DIR = "model_code"
README = "README.md"
# What a generated project's root holds (application.py, serving/, tools/, train.py, tests/): a module of the
# user's code by one of these names would be shadowed by, or shadow, the project's own.
PROJECT_NAMES = frozenset(["application", "serving", "tools", "train", "tests", "model", "docs", "gateway", "data"])
# features.py is the project's own module for derived features (train.py makes its derive() the pipeline's first
# step): a module of that name in model_code/ would be shadowed by it, so code of that name goes into features.py.
FEATURES = "features"
FEATURES_CLASH = (
    "the project's features.py, where derived features live: put your derive() there (the README's recipe) or "
    "rename your module"
)
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def modules_of(paths):
    """--code PATH...: {top-level module: source path}. A .py file is a module; a folder with __init__.py a package;
    any other folder (MLflow's code/, a src/ folder) gives the modules and packages directly inside it."""
    found = {}
    for given in paths:
        path = os.path.abspath(given)
        if not os.path.exists(path):
            raise ImportRefused("--code %s does not exist; give your module's .py file or its folder" % given)
        if os.path.isfile(path):
            if not path.endswith(".py"):
                raise ImportRefused("--code %s is not a .py file or a folder of Python modules" % given)
            _add(found, os.path.basename(path)[:-3], path)
        elif os.path.isfile(os.path.join(path, "__init__.py")):
            _add(found, os.path.basename(path), path)
        else:
            inside = modules_in(path)
            if not inside:
                raise ImportRefused("--code %s holds no Python module (.py file) or package" % given)
            for module, source in inside.items():
                _add(found, module, source)
    return found


def _add(found, module, path):
    if not _MODULE.match(module):
        raise ImportRefused("--code %s: %r is not a name Python can import" % (path, module))
    if module in found and found[module] != path:
        raise ImportRefused("--code gives two modules named %s: %s and %s" % (module, found[module], path))
    found[module] = path


def modules_in(folder):
    """{module: path} of the .py files and packages directly in `folder` (none if it is not a folder)."""
    found = {}
    if not folder or not os.path.isdir(folder):
        return found
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name.endswith(".py") and os.path.isfile(path) and _MODULE.match(name[:-3]):
            found[name[:-3]] = path
        elif os.path.isfile(os.path.join(path, "__init__.py")) and _MODULE.match(name):
            found[name] = path
    return found


def check_names(modules, taken):
    """Refuse user modules whose names the project or its libraries already use (`taken`: {name: what it is})."""
    clashes = ["%s (%s)" % (m, taken[m]) for m in sorted(modules) if m in taken]
    if clashes:
        raise ImportRefused(
            "--code would bring module(s) named like what the service already imports: %s. Rename your module "
            "(and the import in the notebook), fit and save the model again" % ", ".join(clashes)
        )


def project_names(root):
    """{top-level name: what it is} of a project's own modules and packages (not model_code/)."""
    taken = dict((n, "part of this project") for n in PROJECT_NAMES)
    if root and os.path.isdir(root):
        for name in os.listdir(root):
            path = os.path.join(root, name)
            if name.endswith(".py") and os.path.isfile(path):
                taken[name[:-3]] = "%s in this project" % name
            elif os.path.isfile(os.path.join(path, "__init__.py")) and name != CODE_DIR:
                taken[name] = "the package %s/ in this project" % name
    taken[FEATURES] = FEATURES_CLASH
    return taken


def own_modules(root):
    """{module: path} of the user's own modules beside application.py (features.py, and any module they added), which
    the service imports as it imports model_code/'s: a model may use them without --code. Their trust is not implied:
    a skops type of theirs still needs --trust-type (or the pickle --trust-pickle), as train.py's TRUSTED_CODE."""
    found = modules_in(root) if root else {}
    return dict((m, p) for m, p in found.items() if m not in PROJECT_NAMES and m != CODE_DIR)


def stage(modules, folder):
    """Copy the modules into `folder` (the new model_code/) with a README.md that lists them."""
    lines = []
    for module, source in sorted(modules.items()):
        target = os.path.join(folder, os.path.basename(source))
        if os.path.isdir(source):
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target)
        lines.append("- `%s` (module `%s`), from %s" % (os.path.basename(source), module, source))
    with open(os.path.join(folder, README), "w", encoding="utf-8") as fh:
        fh.write(
            "# Your code the model uses\n\n"
            "The model in `model/` refers to these modules of yours. The service puts this folder on its import path\n"
            "before it loads the model, so they import by the names the model was saved with. `make import` (with\n"
            "`--code`) copied them here on %s:\n\n%s\n\n"
            "They are yours: edit, test and commit them; `sci-eb upgrade` never touches this folder, and EB gets it\n"
            "in the bundle. Loading the model runs this code: it is here because `--code` brought it.\n"
            % (datetime.date.today().isoformat(), "\n".join(lines))
        )
