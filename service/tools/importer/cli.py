"""Bring your own model: replace model/ with a scikit-learn model you trained elsewhere (a notebook, MLflow).

The options and the order of the jobs; tools/import_model.py (the entry point users, the Makefile and the sci-eb
launcher run) documents them. The first line above is --help's description: it must stay import_model.py's first line.
"""

import argparse
import importlib
import os
import shutil
import sys

from serving import artifact, settings
from serving import trust as trust_file
from tools.schema_derivation import DerivationError, request_rows, write_model_folder

from . import PROJECT_ROOT, ImportRefused
from .environment import (
    PYTHON_VERSION,
    WHEEL_ARCH,
    check_versions,
    install_libraries,
    pins_text,
    repin_and_import,
    requirement_lines,
    requirements_dir,
)
from .libraries import library_pins
from .preflight import Context, add_model_arguments, check
from .proof import compared, prove_in_process, reference_answer, serve_and_compare
from .schema import derive_schema_parts, import_schema, read_rows, reference_frame
from .source import load_source
from .swap import carry_over, new_candidate, swap_in_all
from .user_code import CODE_DIR, stage
from .wheels import WheelsUnknown

PROJECT_FORMAT = settings.MODEL_FORMAT
LIMITS = settings.LIMITS
CODE_ENV = "MODEL_CODE_DIR"  # where serving finds the user's code (serving/bundle.py): the staged folder meanwhile


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_arguments(parser)
    parser.add_argument("--format", choices=artifact.FORMATS, default=PROJECT_FORMAT, help="how to re-save it")
    parser.add_argument("--name", help="model name in schema.json (default: the current one, else the project's)")
    parser.add_argument("--model-dir", default=os.environ.get("MODEL_DIR") or settings.default_model_dir())
    parser.add_argument("--port", type=int, help="port for the proof run of the service (default: a free one)")
    return parser.parse_args(argv)


def project_context():
    """The preflight's view from inside the project: skops' own trust list, what this venv has installed."""
    try:
        from skops.io import get_untrusted_types

        def untrusted(path):
            # skops trusts scikit-learn's types by their names in the scikit-learn installed here; one the model names
            # otherwise (another version's, e.g. 1.5's "_loss.CyHalfBinomialLoss") is judged after a re-pin, by
            # the scikit-learn that wrote it. Every other library's type is judged now, before anything is installed.
            return [t for t in get_untrusted_types(file=path) if not _sklearns(t) or _named_here(t)]

    except ImportError:  # the legacy platform's Python 3.6 has no skops: skops files are refused when loaded
        untrusted = None
    return Context(
        root=PROJECT_ROOT,
        runtime=settings.RUNTIME,
        untrusted=untrusted,
        installed=(installed_distribution, installed_version),
        pins_from=requirements_dir(),
    )


def _sklearns(type_name):
    return type_name.split(".", 1)[0] in ("sklearn", "_loss")


def _named_here(type_name):
    """Whether the installed libraries have a type by this dotted name (importing the module, never the artifact)."""
    module, _dot, name = type_name.rpartition(".")
    try:
        return hasattr(importlib.import_module(module), name)
    except Exception:  # ImportError, or a module that fails to import: not named so here
        return False


def installed_distribution(module):
    """The distribution that installed `module` in this venv, or None."""
    try:
        from importlib import metadata

        names = metadata.packages_distributions().get(module)
    except (ImportError, AttributeError):  # Python < 3.10
        return None
    return names[0] if names else None


def _read_bytes(path):
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def _put_back(path, data):
    """The file as it was: `data`, or no file when it had none."""
    if _read_bytes(path) == data:
        return
    if data is None:
        os.remove(path)
        return
    temp = path + ".import-undo"
    with open(temp, "wb") as fh:
        fh.write(data)
    os.replace(temp, path)


def installed_version(distribution):
    try:
        from importlib import metadata

        return metadata.version(distribution)
    except Exception:  # not installed (PackageNotFoundError), or no importlib.metadata (Python < 3.8)
        return None


def plan_libraries(found, pins, args):
    """-> (additions, changes) of requirements.txt for the model's libraries, against its pins as they will be."""
    try:
        return library_pins(
            found.libraries,
            requirement_lines(pins),
            PYTHON_VERSION,
            WHEEL_ARCH,
            args.allow_version_mismatch,
            found.notes,
        )
    except WheelsUnknown as exc:
        raise ImportRefused(
            "the model needs %s, and pip cannot say which versions have wheels (%s): check the network, or pin them "
            "in requirements.txt yourself, run `make venv`, and import again"
            % (", ".join("%s==%s" % (d, v) for d, v, _s in found.libraries.values()), exc)
        ) from exc


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    model_dir = os.path.abspath(args.model_dir)
    code_dir = os.path.join(PROJECT_ROOT, CODE_DIR)
    candidate = code_candidate = installed = None
    path_added, additions = None, {}
    # write_model_folder vouches in trust.json before the proof (the proof's service reads it): an import that does
    # not swap its model in takes its vouching back, so "nothing was changed" holds for trust.json too.
    trust_before = _read_bytes(trust_file.project_file())
    try:
        # Everything that needs no loading and no venv first: a refusal takes seconds.
        found = check(args, project_context())
        for note in found.notes:
            print(note)
        kind, path, facts = found.kind, found.path, found.facts
        written_by = found.written_by
        # Checked before loading (a model from another scikit-learn may not load at all), and again after.
        pins = check_versions(written_by, args)
        additions, changes = plan_libraries(found, pins, args)
        if pins or changes:
            return repin_and_import(written_by, dict(pins or {}, **changes), argv, additions)
        if additions:
            if args.keep_pins:
                raise ImportRefused(
                    "the model needs %s, which requirements.txt does not pin (--keep-pins). Import without --keep-pins "
                    "and the importer adds them to requirements.txt and installs them in the venv (or pin them "
                    "yourself, run `make venv`, and import again)" % pins_text(additions)
                )
            installed = install_libraries(additions)
        if found.code:
            code_candidate = new_candidate(code_dir, prefix=".model-code-import-")
            stage(found.code, code_candidate)
            os.environ[CODE_ENV] = code_candidate
            print(
                "your code (%s) comes into %s/: it runs whenever the model loads, because --code brought it"
                % (", ".join(sorted(found.code)), CODE_DIR)
            )
        # The model's own modules import as they did where it was saved (the service does the same, serving/bundle.py).
        path_added = os.environ.get(CODE_ENV) or code_dir
        sys.path.append(path_added)
        model, loaded_by = load_source(kind, path, args, found.trusted)
        if loaded_by and loaded_by != written_by:
            pins = check_versions(loaded_by, args)
            if pins:
                raise _Repin(loaded_by, pins)
        written_by = loaded_by or written_by
        sample, plain, rows_are = read_rows(args, facts)
        task, frame, features, target = derive_schema_parts(
            model, facts, sample, args, from_example=rows_are != "sample rows"
        )
        expected = reference_answer(model, reference_frame(plain, features), task)
        make_schema = import_schema(model, task, features, target, args, model_dir, kind, facts, written_by)
        candidate = new_candidate(model_dir)
        try:
            # On the onnx runtime this converts the model and proves it on the sample before writing anything.
            schema = write_model_folder(
                candidate, model, args.format, make_schema, proof_frame=frame, proof_rows=rows_are
            )
        except DerivationError as exc:
            raise ImportRefused(str(exc)) from exc
        rows = request_rows(frame, features)
        prove_in_process(candidate, rows, expected, LIMITS["maxRows"])
        served_diff = serve_and_compare(candidate, rows, expected, LIMITS["maxRows"], args.port)
        carry_over(model_dir, candidate)
        swaps = [(candidate, model_dir)] + ([(code_candidate, code_dir)] if code_candidate else [])
        swap_in_all(swaps)
        candidate = code_candidate = None
        if installed:
            installed.commit()
            installed = None
    except _Repin as repin:
        _undo(installed)
        _put_back(trust_file.project_file(), trust_before)
        installed = None
        _forget(candidate, code_candidate)
        candidate = code_candidate = None
        return repin_and_import(repin.version, repin.pins, argv, additions)
    except ImportRefused as exc:
        _undo(installed)
        _put_back(trust_file.project_file(), trust_before)
        print("error: %s. Nothing was changed." % str(exc).rstrip("\n"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _undo(installed)
        _put_back(trust_file.project_file(), trust_before)
        print("interrupted. Nothing was changed.", file=sys.stderr)
        return 130
    finally:
        _forget(candidate, code_candidate)
        os.environ.pop(CODE_ENV, None)
        if path_added in sys.path:
            sys.path.remove(path_added)
    print(
        "proved on %d %s: in process and served by the Procfile's command, the same %s as the original "
        "(largest difference %g)" % (len(rows), rows_are, compared(expected), served_diff)
    )
    print(
        "imported %s as %s (%s, %s, version %s)"
        % (
            args.path,
            os.path.join(model_dir, schema["model"]["artifact"]),
            task,
            schema["model"]["estimator"],
            schema["model"]["version"],
        )
    )
    return 0


class _Repin(Exception):
    """Loading told another scikit-learn version than the bytes did: start over in a re-pinned venv."""

    def __init__(self, version, pins):
        Exception.__init__(self, version)
        self.version, self.pins = version, pins


def _undo(installed):
    if installed:
        installed.rollback()


def _forget(*folders):
    for folder in folders:
        if folder and os.path.exists(folder):
            shutil.rmtree(folder, ignore_errors=True)
