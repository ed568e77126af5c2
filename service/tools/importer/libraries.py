"""Where each module a model names comes from, as data: Python itself, the libraries every project pins, the libraries
with scikit-learn APIs that models bring (LightGBM, XGBoost, CatBoost), the data scientist's own code, or nowhere
known, which is refused with the fix. And the version a library is pinned at: the one the model records (MLflow's
requirements, the artifact's bytes) if it has wheels, else the one installed where the importer runs, else the
default of library-pins.txt (templates/pins/libraries-al2023.txt in the generator, checked by its pins test).

Standard library only: the generator's preflight places modules before any venv exists.
"""

import os
import re
import sys

from . import ImportRefused, wheels

# Modules of the distributions every sklearn-runtime project pins (requirements.txt), by top-level module.
PROJECT_MODULES = {
    "sklearn": "scikit-learn",
    "numpy": "numpy",
    "scipy": "scipy",
    "pandas": "pandas",
    "joblib": "joblib",
    "cloudpickle": "cloudpickle",
    "skops": "skops",
    "threadpoolctl": "threadpoolctl",
    # scikit-learn's Cython loss classes (HistGradientBoosting's, SGD's) say their module is "_loss" in the builds of
    # several releases (1.5 on: scikit-learn#33770 fixed it), so their pickles name _loss.CyHalfBinomialLoss.
    "_loss": "scikit-learn",
}
# Libraries models bring, by top-level module: the distribution pinned for it (first: the lightest that serves, e.g.
# XGBoost without CUDA), then any other distribution that provides the same module (already pinned, it is kept).
LIBRARIES = {
    "lightgbm": ("lightgbm",),
    "xgboost": ("xgboost-cpu", "xgboost"),
    "catboost": ("catboost",),
}
# The distribution names a training environment's requirements may list for each library module.
REQUIREMENT_NAMES = dict((dist, module) for module, dists in LIBRARIES.items() for dist in dists)
# Before Python 3.10 there is no sys.stdlib_module_names: the modules pickles of scikit-learn models name.
_OLD_STDLIB = frozenset(
    "__builtin__ _codecs _collections_abc _operator abc array builtins collections copy_reg copyreg datetime "
    "decimal enum functools itertools math numbers operator re types uuid".split()
)
STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | _OLD_STDLIB
HERE = os.path.dirname(os.path.abspath(__file__))
# In a project, beside this file (templates/files.json copies it there); in the generator, its source.
PINS_FILES = (
    os.path.join(HERE, "library-pins.txt"),
    os.path.join(HERE, "..", "..", "..", "templates", "pins", "libraries-al2023.txt"),
)


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def default_pins(path=None):
    """{canonical name: version} of library-pins.txt; {} where the platform has none (the legacy one)."""
    pins = {}
    path = path or next((p for p in PINS_FILES if os.path.isfile(p)), None)
    if path:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                line = line.split("#", 1)[0].strip()
                if "==" in line:
                    name, version = line.split("==", 1)
                    pins[canonical(name)] = version.strip()
    return pins


class Placement(object):
    """Where each top-level module of an artifact comes from.

    libraries: {module: distribution to pin}; code: modules of the user's code (--code, model_code/);
    main: references to __main__ (a notebook's own definitions, which no service can import); unplaced: modules
    nobody provides."""

    def __init__(self):
        self.libraries, self.code, self.main, self.unplaced = {}, [], [], []


def place(inspection, code_modules, pinned, installed=None):
    """inspection: what the artifact names (inspection.Inspection); code_modules: the modules the user's code
    provides; pinned: {canonical name: version} of requirements.txt; installed(module) -> distribution or None, for
    modules the importing environment has (None: not asked)."""
    placement = Placement()
    for module in inspection.modules:
        if module == "__main__":
            placement.main = inspection.named_from(module)
        elif module in STDLIB or module in PROJECT_MODULES:
            continue
        elif module in code_modules:
            placement.code.append(module)
        elif module in LIBRARIES:
            placement.libraries[module] = LIBRARIES[module][0]
        else:
            dist = installed(module) if installed else None
            if dist and canonical(dist) in pinned:
                continue  # the user pinned it already: nothing to decide
            if dist:
                placement.libraries[module] = canonical(dist)
            else:
                placement.unplaced.append(module)
    return placement


def refuse_unplaced(placement, inspection, facts, code_found, in_project=True):
    """ImportRefused naming what no service could import, with the fix for each kind; nothing when all is placed."""
    problems = []
    if placement.main:
        problems.append(
            "the model refers to %s, defined in the notebook or script that saved it (__main__): no other program "
            "can import that. Derived features belong in the project's features.py (its derive(), which the "
            "notebook imports and the project's own code runs as it is); anything else, move it into a module of its "
            "own (e.g. my_code.py), import it from there in the notebook, fit and save the model again, and import it "
            "with --code my_code.py" % ", ".join(placement.main)
        )
    for module in placement.unplaced:
        names = ", ".join(inspection.named_from(module)[:4])
        if module in code_found:
            problems.append(
                "the model uses %s from your own code, which the MLflow folder brings in %s: loading the model runs "
                "it, so it is only brought in when you say so: add --code %s"
                % (names, code_found[module], facts["code"])
            )
            continue
        listed = [
            "%s==%s" % (name, version)
            for name, version in sorted((facts or {}).get("requirements", {}).items())
            if name not in REQUIREMENT_NAMES and name not in PROJECT_MODULES.values() and name != "mlflow"
        ]
        hint = (" (the MLflow folder's requirements list %s)" % ", ".join(listed)) if listed else ""
        if in_project:
            fix = (
                "if it is a library, install it in the project's venv (.venv/bin/pip install <its package>) and "
                "import again: the importer pins the version installed there in requirements.txt"
            )
        else:
            fix = (
                "if it is a library, generate the project without --model, install it in the project's venv "
                "(.venv/bin/pip install <its package>) and run `make import` there: the importer pins it"
            )
        problems.append(
            "the model needs the module %s (%s), which is neither a library this project knows (%s) nor your "
            "code%s. If it is your own module, bring it with --code path/to/%s.py (or its package folder); %s"
            % (module, names, ", ".join(sorted(LIBRARIES)), hint, module, fix)
        )
    if problems:
        raise ImportRefused("; and ".join(problems))


def chosen_version(module, dist, facts, inspection, installed_version=None, defaults=None):
    """-> (version, where it comes from) for a library to pin: recorded by the model, else installed here, else the
    default pins. (None, None) when nothing says."""
    requirements = (facts or {}).get("requirements", {})
    for name in LIBRARIES.get(module, (dist,)):
        if name in requirements:
            return requirements[name], "the MLflow folder's requirements.txt"
    if module in inspection.versions:
        return inspection.versions[module], "the artifact"
    if installed_version:
        return installed_version, "this venv"
    defaults = default_pins() if defaults is None else defaults
    if canonical(dist) in defaults:
        return defaults[canonical(dist)], "library-pins.txt"
    return None, None


def library_pins(wanted, requirement_lines, python, arch, allow_mismatch, notes):
    """wanted: {module: (distribution, version, where the version is from)}; requirement_lines: requirements.txt.
    -> (additions {distribution: version} with what they pull in, changes {pinned name: version}) so that the
    model's libraries install from binary wheels for `python` on `arch` beside the project's pins (what they pull
    in at library-pins.txt's versions where those fit). A version the model records wins, over a pin too, if it has
    wheels; else ImportRefused says which version has them (with --allow-version-mismatch that one is taken, noted
    in `notes`). A pin of the user's stands against a version that is only installed or a default. Raises
    wheels.WheelsUnknown when pip cannot tell."""
    if not wanted:
        return {}, {}
    defaults = default_pins()
    lines = pin_lines(requirement_lines)
    present = dict((canonical(line.split("==", 1)[0]), i) for i, line in enumerate(lines))
    asked, changes = {}, {}
    for module, (dist, version, source) in sorted(wanted.items()):
        pinned = [n for n in (dist,) + LIBRARIES.get(module, ()) if canonical(n) in present]
        name = pinned[0] if pinned else dist
        if pinned:
            current = lines[present[canonical(name)]].split("==", 1)[1].split(";", 1)[0].strip()
            if current == version or source in ("this venv", "library-pins.txt"):
                continue
        version = _with_wheels(lines, present, name, version, source, python, arch, defaults, allow_mismatch, notes)
        if pinned:
            changes[name] = version
            lines[present[canonical(name)]] = "%s==%s" % (name, version)
        else:
            asked[name] = version
    if not asked:
        return {}, changes
    resolved = _resolve(lines + ["%s==%s" % kv for kv in sorted(asked.items())], python, arch, defaults, present)
    if resolved is None:
        raise ImportRefused(
            "%s cannot be installed together from binary wheels for Python %s (%s) with this project's pins"
            % (", ".join("%s==%s" % kv for kv in sorted(asked.items())), python, arch)
        )
    return _closure(asked, resolved, python, arch, present), changes


def _closure(asked, resolved, python, arch, present):
    """-> {distribution: version} of what the `asked` libraries need that the requirement lines do not pin: the asked
    ones and their own dependencies, at the versions of `resolved` (the whole set, which has proven they install
    together). Not everything `resolved` holds: on the onnx runtime the lines are requirements-dev.txt's too, whose
    test tools (pytest, hypothesis) pull in distributions it leaves unpinned (iniconfig, pluggy, pygments,
    sortedcontainers); they are no library of the model's. The asked ones are resolved again alone, with the whole
    set's versions as constraints (a constraint pins a version without installing it)."""
    lines = ["%s==%s" % kv for kv in sorted(asked.items())]
    constraints = ["%s==%s" % kv for kv in sorted(resolved.items()) if kv[0] not in set(canonical(n) for n in asked)]
    needed = wheels.resolve(lines, python, arch, constraints=constraints)
    if needed is None:  # cannot happen when the whole set resolved; the libraries alone are still theirs
        needed = dict((canonical(n), v) for n, v in asked.items())
    wanted = set(canonical(n) for n in asked)
    return dict(
        (name, version)
        for name, version in resolved.items()
        if name not in present and (name in needed or name in wanted)
    )


def _with_wheels(lines, present, dist, version, source, python, arch, defaults, allow_mismatch, notes):
    """`version` if dist==version installs from wheels beside `lines`, else the default one (allowed) or a refusal."""
    others = [line for i, line in enumerate(lines) if i != present.get(canonical(dist))]
    if _resolve(others + ["%s==%s" % (dist, version)], python, arch, defaults, present) is not None:
        return version
    default = defaults.get(canonical(dist))
    works = bool(default) and default != version
    works = works and _resolve(others + ["%s==%s" % (dist, default)], python, arch, defaults, present) is not None
    if works and allow_mismatch:
        notes.append(
            "warning: %s %s (from %s) has no binary wheels for Python %s (%s) with this project's pins; pinning %s %s "
            "instead (--allow-version-mismatch): the proof decides"
            % (dist, version, source, python, arch, dist, default)
        )
        return default
    if works:
        fix = (
            "%s %s has them: save the model again with %s==%s installed, or add --allow-version-mismatch to pin %s "
            "and let the proof decide" % (dist, default, dist, default, default)
        )
    else:
        fix = "pin a version of %s that has them in requirements.txt, run `make venv`, and import again" % dist
    raise ImportRefused(
        "%s %s (from %s) has no binary wheels for Python %s (%s) alongside this project's pins; %s"
        % (dist, version, source, python, arch, fix)
    )


def _resolve(lines, python, arch, defaults, present):
    """pip's answer with library-pins.txt as constraints for what the libraries pull in, else without them."""
    asked = set(canonical(line.split("==", 1)[0]) for line in lines)
    constraints = ["%s==%s" % kv for kv in sorted(defaults.items()) if kv[0] not in asked and kv[0] not in present]
    resolved = wheels.resolve(lines, python, arch, constraints=constraints)
    if resolved is None and constraints:
        resolved = wheels.resolve(lines, python, arch)
    return resolved


def pin_lines(text_lines):
    """The `name==version` requirement lines (markers kept, comments and pip options dropped)."""
    kept = []
    for line in text_lines:
        text = line.split(" #", 1)[0].strip()
        if text and not text.startswith("#") and not text.startswith("-") and "==" in text:
            kept.append(text)
    return kept
