"""Everything an import can decide before anything is loaded, installed or built: what PATH is, whether it may be
loaded (pickle, skops types, MLflow's recorded trust), the modules it needs and where each comes from (Python, the
project's pins, LightGBM/XGBoost/CatBoost at a version with wheels, the user's --code), whether the runtime can serve
it, and whether there are rows to derive the schema from. A refusal here takes seconds and names every problem with
its fix; only a model that passes goes on to the venv (re-pinned or with libraries added) and the proof.

Standard library only. cli.main() runs check() first, inside a project; the generator runs this module with the
system's python3 before it writes a project (`sci-eb app NAME --model ...`):

    python3 -m tools.importer.preflight PATH [import options] --python 3.11 --arch x86_64 --runtime sklearn
        [--requirements requirements.txt] --json

which prints {"problems": [...], "notes": [...], "libraries": {...}, "code": [...]} and exits 2 when there are
problems. Like cli.py it orders job modules (source, mlflow_model, inspection, libraries, user_code, wheels).
"""

import argparse
import importlib.util
import json
import os
import sys
import zipfile

from . import ImportRefused, libraries, user_code, wheels
from .inspection import inspect, skops_types, skops_untrusted
from .libraries import LIBRARIES, PROJECT_MODULES, STDLIB
from .source import identify, pickle_refusal, sniff_sklearn_version

MLFLOW_TYPES_FLAG = "--trust-mlflow-types"
# The libraries whose estimators the onnx runtime can serve: onnxmltools converts them (tools/onnx_converters.py).
ONNX_CONVERTIBLE_LIBRARIES = ("lightgbm", "xgboost")
# The service's own rules (serving/trust.py: trust.json and the types that run code), read from its file by path:
# importing the serving package would import Flask, and the preflight runs on the standard library alone.
_TRUST_PY = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "serving", "trust.py"
)


def trust_rules():
    """serving/trust.py as a module of its own (it imports only the standard library)."""
    spec = importlib.util.spec_from_file_location("_sci_eb_trust_rules", _TRUST_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CommaList(argparse.Action):
    """A repeatable option whose values may also be comma-separated (`--trust-type a.B,c.D --trust-type e.F`), as
    `sci-eb app` takes them: each name is added on its own, never the joined text as one name."""

    def __call__(self, parser, namespace, values, option_string=None):
        names = [v.strip() for v in values.split(",") if v.strip()]
        if not names:
            parser.error("%s needs a value: %s, or several separated by commas" % (option_string, self.metavar))
        setattr(namespace, self.dest, list(getattr(namespace, self.dest, None) or []) + names)


def add_model_arguments(parser):
    """The options that say what to import and what to trust (shared with cli.parse_args)."""
    parser.add_argument("path", help="a skops/joblib/pickle file, or an MLflow sklearn model folder")
    parser.add_argument(
        "--sample",
        help="CSV of rows the model accepts (required, except for an MLflow folder with a signature and an input "
        "example; given anyway, its rows give the ranges and are the proof rows)",
    )
    parser.add_argument("--target", help="the column the model predicts (its name in the API; dropped from the sample)")
    parser.add_argument("--trust-pickle", action="store_true", help="allow loading a pickle: it runs code")
    parser.add_argument(
        "--trust-type",
        action=CommaList,
        default=[],
        metavar="MODULE.CLASS",
        help="a type in a skops file you have reviewed and trust (repeatable, or comma-separated)",
    )
    parser.add_argument(
        MLFLOW_TYPES_FLAG,
        action="store_true",
        help="trust the skops types an MLflow folder lists as trusted (skops_trusted_types, shown when refused)",
    )
    parser.add_argument(
        "--code",
        action="append",
        default=[],
        metavar="PATH",
        help="your own module (.py), package or folder of modules the model uses (MLflow: the folder's code/); "
        "copied into model_code/, which the service imports: it runs when the model loads (repeatable)",
    )
    parser.add_argument(
        "--feature-type",
        action="append",
        default=[],
        metavar="NAME=TYPE",
        help="the type of an input column, over what the model and the sample say: number, integer, category, text, "
        "boolean, date or datetime (repeatable, or comma-separated)",
    )
    parser.add_argument(
        "--allow-version-mismatch",
        action="store_true",
        help="import a model written by another scikit-learn (or a library version without wheels: the default "
        "pins instead) and let the proof decide",
    )
    parser.add_argument(
        "--keep-pins",
        action="store_true",
        help="never rewrite requirements.txt: refuse a model that needs other pins or libraries, with those pins",
    )


class Preflight(object):
    """What check() decided. trusted: the skops types loading may construct beyond skops' defaults; code: {module:
    source} to bring into model_code/ (from --code); code_modules: every user module the model may import (those, or
    model_code/'s when no --code is given); project_modules: the project's own modules beside application.py
    (features.py), which a model may use too, trusted only by --trust-type or --trust-pickle; libraries: {module:
    (distribution, version, where the version is from)}."""

    def __init__(self, kind, path, facts, inspection):
        self.kind, self.path, self.facts, self.inspection = kind, path, facts, inspection
        self.trusted, self.code, self.code_modules, self.libraries, self.notes = [], {}, {}, {}, []
        self.project_modules = {}
        self.written_by = None


class Context(object):
    """Where the check runs. root: the project (None before it exists); untrusted(path): skops' own list of a file's
    untrusted types (None: skops is not installed, and inspection.skops_untrusted reads them as skops would); installed:
    (module -> distribution or None, distribution -> version or None) of the importing environment, or None."""

    def __init__(self, root=None, runtime="sklearn", untrusted=None, installed=None, in_project=True, pins_from=None):
        self.root, self.runtime, self.untrusted, self.installed, self.in_project = (
            root,
            runtime,
            untrusted,
            installed,
            in_project,
        )
        # The folder whose requirements.txt says what is pinned (a re-pin's staged files, in its re-run).
        self.pins_from = pins_from or root


def check(args, context):
    """-> Preflight, or ImportRefused listing every problem found (each with its fix)."""
    kind, path, facts = identify(os.path.abspath(args.path))
    try:
        inspection = inspect(kind, path)
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
        raise ImportRefused("cannot read %s as a %s file: %s: %s" % (path, kind, type(exc).__name__, exc)) from exc
    found = Preflight(kind, path, facts, inspection)
    found.written_by = (facts or {}).get("sklearnVersion") or sniff_sklearn_version(kind, path)
    problems = []
    _code(found, args, context, problems)
    if found.inspection is not None:
        _placement(found, context, problems)
    _trust(found, args, context, problems)
    own = dict(found.project_modules, **found.code_modules)
    if context.runtime == "onnx" and (found.libraries or own and found.inspection is not None):
        # LightGBM and XGBoost have converters (onnxmltools, tools/onnx_converters.py): the library loads and converts
        # the model at build time and model.onnx serves it; the proof still decides. Anything else would have to run.
        libs = sorted(m for m in found.libraries if m not in ONNX_CONVERTIBLE_LIBRARIES)
        code = sorted(m for m in own if found.inspection is not None and m in found.inspection.modules)
        reasons = []
        if libs:
            reasons.append(
                "%s cannot run there, and this project converts only scikit-learn's, LightGBM's and XGBoost's "
                "estimators to ONNX" % ", ".join(libs)
            )
        if code:
            reasons.append(
                "the model runs your own Python code (%s), which cannot be converted to ONNX: converters translate "
                "known estimators and transformers, not arbitrary Python" % ", ".join(code)
            )
        if reasons:
            problems.append(
                "this project serves with the onnx runtime, which runs model.onnx alone: %s. Serve it on the sklearn "
                "runtime: `sci-eb upgrade --set runtime=sklearn`, then import again" % "; ".join(reasons)
            )
    if not args.sample and not (facts and facts.get("example")):
        problems.append(
            "--sample CSV is required: a CSV of rows the model accepts (the target column may be in it) supplies the "
            "feature types, categories and ranges of schema.json, and the rows the import proves the model on (an "
            "MLflow folder saved with a signature and an input_example needs none)"
        )
    elif args.sample and not os.path.isfile(args.sample):
        problems.append("--sample: %s does not exist" % args.sample)
    if problems:
        raise Problems(problems)
    return found


class Problems(ImportRefused):
    """Every problem check() found, each with its fix (problems: the list)."""

    def __init__(self, problems):
        many = "%d problems, each with its fix:\n- %s" % (len(problems), "\n- ".join(problems))
        ImportRefused.__init__(self, problems[0] if len(problems) == 1 else many)
        self.problems = list(problems)


def _code(found, args, context, problems):
    try:
        given = user_code.modules_of(args.code)
        taken = user_code.project_names(context.root)
        for module in list(PROJECT_MODULES) + list(LIBRARIES):
            taken[module] = "a library"
        for module in given:
            if module in STDLIB:
                taken[module] = "Python's standard library"
        user_code.check_names(given, taken)
    except ImportRefused as exc:
        problems.append(str(exc))
        given = {}
    found.code = given
    existing = user_code.modules_in(os.path.join(context.root, user_code.CODE_DIR)) if context.root else {}
    found.code_modules = given or existing
    # The project's own modules (features.py): importable as they are, recorded with the model like model_code/'s.
    found.project_modules = user_code.own_modules(context.root)


def _placement(found, context, problems):
    pinned = _pinned(context.pins_from, context.runtime)
    installed = context.installed[0] if context.installed else None
    placement = libraries.place(found.inspection, dict(found.project_modules, **found.code_modules), pinned, installed)
    mlflow_code = user_code.modules_in((found.facts or {}).get("code"))
    try:
        libraries.refuse_unplaced(
            placement, found.inspection, found.facts, dict((m, mlflow_code[m]) for m in mlflow_code), context.in_project
        )
    except ImportRefused as exc:
        problems.append(str(exc))
    version_of = context.installed[1] if context.installed else (lambda dist: None)
    defaults = libraries.default_pins()
    for module, dist in sorted(placement.libraries.items()):
        installed_version = None
        for name in LIBRARIES.get(module, (dist,)):
            installed_version = installed_version or version_of(name)
        version, source = libraries.chosen_version(
            module, dist, found.facts, found.inspection, installed_version, defaults
        )
        if version is None:
            problems.append(
                "the model needs %s, and nothing says which version: pin it in requirements.txt (%s==<version>), "
                "run `make venv`, and import again" % (dist, dist)
            )
        else:
            found.libraries[module] = (dist, version, source)


def _trust(found, args, context, problems):
    facts = found.facts or {}
    if found.kind == "pickle" and not args.trust_pickle:
        problems.append(pickle_refusal(found.path))
    recorded = facts.get("trustedTypes") or []
    mlflow_flag = getattr(args, "trust_mlflow_types", False)
    if mlflow_flag and not recorded:
        found.notes.append("%s: the model lists no skops_trusted_types, so it adds no trust" % MLFLOW_TYPES_FLAG)
    if found.kind != "skops":
        return
    references = found.inspection.references if found.inspection else skops_types(found.kind, found.path)
    # Types that run code are refused whoever vouches for them (--trust-type, MLflow's list, --code): the service
    # would refuse them at start-up (serving/trust.py), so the import stops here, with no flag that lets them in.
    dangerous = sorted(set(t for t in references if trust_rules().runs_code(t)))
    if dangerous:
        problems.append(
            "the skops file contains %s, which run code, files, processes or the network when the model loads or "
            "predicts: refused even if trusted (no flag accepts them), and the service would refuse them too. "
            "Rebuild the model without them" % ", ".join(dangerous)
        )
        return
    # The user's own code is trusted by --code (it runs when the model loads); its types with it.
    own = [t for t in references if t.split(".", 1)[0] in found.code_modules]
    trusted = sorted(set(list(args.trust_type) + (recorded if mlflow_flag else []) + own))
    found.trusted = trusted
    if context.untrusted is not None:
        try:
            candidates = context.untrusted(found.path)
        except Exception as exc:  # skops' own reading of a file it cannot parse: the reason is the message
            problems.append("skops cannot read %s: %s: %s" % (found.path, type(exc).__name__, exc))
            return
    else:
        # Without skops (the generator, before the venv): skops' defaults as inspection models them, loader by loader,
        # so this lists what the import will ask for (collections.OrderedDict as a defaultdict's default_factory,
        # numpy.dtype, a tree's Tree). A loader it does not know: only its types no default can cover.
        candidates, unknown = skops_untrusted(found.path)
        candidates = sorted(
            set(candidates) | set(t for t in unknown if t.split(".", 1)[0] not in STDLIB | set(PROJECT_MODULES))
        )
    # Modules nobody provides are refused by placement, with --code as the fix: not asked about type by type here.
    placed = set(STDLIB) | set(PROJECT_MODULES) | set(found.libraries) | set(found.code_modules)
    placed |= set(found.project_modules)
    left = [t for t in candidates if t not in trusted and t.split(".", 1)[0] in placed]
    if not left:
        return
    message = "the skops file contains types nobody vouched for: %s." % ", ".join(left)
    listed = [t for t in left if t in recorded]
    if listed and not mlflow_flag:
        message += (
            " The MLflow folder lists %s as trusted when the model was saved (skops_trusted_types): if you trust "
            "who saved it, add %s to accept %s at once." % (", ".join(listed), MLFLOW_TYPES_FLAG, _them(listed))
        )
    rest = [t for t in left if t not in listed] if listed and not mlflow_flag else left
    if rest:
        message += " If you trust them, import the model again with %s" % " ".join("--trust-type " + t for t in rest)
    problems.append(message.rstrip("."))


def _them(names):
    return "it" if len(names) == 1 else "all %d" % len(names)


def _pinned(root, runtime="sklearn"):
    """{canonical name: version} of the project's requirements.txt ({} before the project exists), and on the onnx
    runtime of requirements-dev.txt too: there scikit-learn and a model's libraries are build-time pins."""
    if not root:
        return {}
    pins = requirement_pins(os.path.join(root, "requirements.txt"))
    if runtime == "onnx" and os.path.isfile(os.path.join(root, "requirements-dev.txt")):
        pins.update(requirement_pins(os.path.join(root, "requirements-dev.txt")))
    return pins


def requirement_pins(path):
    pins = {}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                text = line.split("#", 1)[0].split(";", 1)[0].strip()
                if "==" in text and not text.startswith("-"):
                    name, version = text.split("==", 1)
                    pins[libraries.canonical(name.split("[", 1)[0].strip())] = version.strip()
    return pins


def main(argv=None):
    parser = argparse.ArgumentParser(description="Decide what can be decided about a model before any venv exists")
    add_model_arguments(parser)
    parser.add_argument("--python", required=True, help="the project's Python (wheels are checked for it)")
    parser.add_argument("--arch", required=True, help="the wheel architecture: x86_64 or aarch64")
    parser.add_argument("--runtime", default="sklearn", choices=("sklearn", "onnx"))
    parser.add_argument("--requirements", help="the requirements.txt the project will have")
    parser.add_argument("--sklearn", help="the scikit-learn version those requirements pin")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = {"problems": [], "notes": [], "libraries": {}, "code": [], "sklearnVersion": None}
    try:
        found = check(args, Context(root=None, runtime=args.runtime, in_project=False))
        result["sklearnVersion"] = found.written_by
        same_sklearn = not found.written_by or not args.sklearn or found.written_by == args.sklearn
        if args.requirements and same_sklearn:
            # With another scikit-learn the project is re-pinned first; its libraries are resolved then, inside it.
            with open(args.requirements, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
            try:
                additions, changes = libraries.library_pins(
                    found.libraries, lines, args.python, args.arch, args.allow_version_mismatch, found.notes
                )
                result["libraries"] = dict(additions, **changes)
            except wheels.WheelsUnknown as exc:
                found.notes.append("note: could not ask pip which wheels exist (%s); the import will" % exc)
        else:
            result["libraries"] = dict((d, v) for d, v, _s in found.libraries.values())
        result["notes"] = found.notes
        result["code"] = sorted(found.code)
    except ImportRefused as exc:
        result["problems"] = getattr(exc, "problems", None) or [str(exc)]
    if args.json:
        print(json.dumps(result))
    else:
        for line in result["notes"]:
            print(line)
        for line in result["problems"]:
            print("error: %s" % line.strip(), file=sys.stderr)
    return 2 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
