"""Bring your own model: replace model/ with a scikit-learn model you trained elsewhere (a notebook, MLflow).

    .venv/bin/python tools/import_model.py PATH --sample CSV [--target COLUMN] [--trust-pickle] [--trust-type T]
    make import MODEL=PATH SAMPLE=CSV [TARGET=COLUMN] [IMPORT_FLAGS="--trust-pickle"]
    sci-eb model import PATH --sample CSV ...                 (the same, from the generator's launcher)

PATH is a scikit-learn estimator or Pipeline saved with skops, joblib or pickle, or an MLflow model folder of the
sklearn flavor. The sample (a CSV of rows the model accepts; the target column may be in it) supplies the feature
types, categories, nullability and observed ranges of schema.json, and the rows the import proves the model on; it is
not copied into model/. Nothing changes until the new model is proven: re-saved as this project's format with its
sha256, loaded back the way the service loads it, its predictions on the sample equal the original's in process and
over HTTP from the service started with the Procfile's command; only then is model/ swapped for the new folder.
On the onnx runtime (serving/settings.py) the model is also converted to model.onnx and proven on the sample (the same
labels, probabilities within 1e-5) before anything is written; a step skl2onnx cannot convert is refused by name.

A model written by another scikit-learn than requirements.txt pins: its version (with numpy/scipy/pandas/joblib that
have binary wheels for the EB Python and architecture, resolved by pip) replaces those pins in requirements.txt and
requirements-dev.txt, the venv is rebuilt from them as `make venv` does, and the import runs again in it; the new pins
stay only if it is proven, else the old requirement files and venv are put back (--keep-pins: refuse and print them).

Exit codes: 0 imported; 2 refused or not proven (the message says why and what to do; the project is unchanged).
Managed by generator-sci-eb: `sci-eb upgrade` keeps it current.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
import zipfile

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT_ROOT)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402

from serving import artifact, settings  # noqa: E402
from serving.bundle import ModelError, load_model  # noqa: E402
from serving.prediction import predict  # noqa: E402
from tools.schema_derivation import (  # noqa: E402
    DerivationError,
    describe_features,
    estimator_name,
    request_rows,
    target_schema,
    task_of,
    utc_now,
    write_model_folder,
)

PROJECT_FORMAT = settings.MODEL_FORMAT
PYTHON_VERSION = settings.PYTHON_VERSION
OTHER_PYTHONS = settings.OTHER_PYTHONS
WHEEL_ARCH = settings.WHEEL_ARCH
MODEL_NAME = settings.MODEL_NAME
LIMITS = settings.LIMITS
COMPRESSED_JOBLIB = (
    b"\x78\x01",
    b"\x78\x5e",
    b"\x78\x9c",
    b"\x78\xda",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"\x04\x22M\x18",
)
PROBABILITY_TOLERANCE = 1e-9  # the same model on the same rows: any larger difference means it is not the same model
# On the onnx runtime the service answers from model.onnx, which computes in float32: it is held to the tolerance the
# conversion was proven to (serving/onnx_conversion.py: labels equal, 1e-5 absolute / relative for regression).
RUNTIME = settings.RUNTIME


class ImportRefused(Exception):
    """What the user must change; main() prints it and exits 2 with the project unchanged."""


# --- what PATH is --------------------------------------------------------------------------------------------------


def identify(path):
    """-> (kind, artifact file, MLflow facts or None). kind: skops or pickle. Anything else is refused, named."""
    if not os.path.exists(path):
        raise ImportRefused("%s does not exist; give the path of your saved model" % path)
    if os.path.isdir(path):
        return _identify_mlflow(path)
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(path) as archive:
            if "schema.json" in archive.namelist():
                return "skops", path, None
            listed = ", ".join(archive.namelist()[:5])
        raise ImportRefused(
            "%s is a zip archive but not a skops file (no schema.json inside; it holds %s)" % (path, listed)
        )
    if head.startswith(b"\x80") or head.startswith(COMPRESSED_JOBLIB):
        return "pickle", path, None
    if head.startswith(b"\x93NUMPY"):
        found = "a NumPy array file (.npy)"
    elif path.lower().endswith(".onnx"):
        found = "an ONNX model"
    elif all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        found = "a text file (it starts with %r)" % head.decode("ascii")
    else:
        found = "a file of unknown format (first bytes %s)" % head.hex()
    raise ImportRefused(
        "%s is %s, not a scikit-learn model. Accepted: a skops file, a joblib or pickle file, or an "
        "MLflow model folder of the sklearn flavor" % (path, found)
    )


def _identify_mlflow(folder):
    mlmodel = os.path.join(folder, "MLmodel")
    if not os.path.isfile(mlmodel):
        raise ImportRefused(
            "%s is a folder without an MLmodel file (it holds: %s); an MLflow model folder has one"
            % (folder, ", ".join(sorted(os.listdir(folder))[:8]) or "nothing")
        )
    try:
        import yaml
    except ImportError:
        raise ImportRefused(
            "reading an MLflow MLmodel file needs PyYAML: run `make venv` (requirements-dev.txt)"
        ) from None
    with open(mlmodel, encoding="utf-8") as fh:
        meta = yaml.safe_load(fh) or {}
    flavors = meta.get("flavors") or {}
    flavor = flavors.get("sklearn")
    if not flavor:
        raise ImportRefused(
            "%s is an MLflow model without the sklearn flavor (its flavors: %s); only scikit-learn "
            "models can be served here" % (folder, ", ".join(sorted(flavors)) or "none")
        )
    fmt = flavor.get("serialization_format", "cloudpickle")
    model_file = os.path.join(folder, flavor.get("pickled_model", "model.pkl"))
    if not os.path.isfile(model_file):
        raise ImportRefused("%s names %s as its model, but that file is missing" % (mlmodel, model_file))
    facts = {"sklearnVersion": flavor.get("sklearn_version") or _required_sklearn(folder), "inputs": None}
    signature = meta.get("signature") or {}
    if signature.get("inputs"):
        inputs = json.loads(signature["inputs"]) if isinstance(signature["inputs"], str) else signature["inputs"]
        facts["inputs"] = [c for c in inputs if c.get("name")] or None
    return ("skops" if fmt == "skops" else "pickle"), model_file, facts


def _required_sklearn(folder):
    """scikit-learn==X from the MLflow folder's requirements.txt (or conda.yaml's pip list)."""
    for name in ("requirements.txt", "conda.yaml"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    text = line.strip().lstrip("- ").strip()
                    if text.lower().startswith("scikit-learn==") or text.lower().startswith("scikit_learn=="):
                        return text.split("==", 1)[1].strip()
    return None


# --- loading it, as safely as its format allows ---------------------------------------------------------------------


def load_source(kind, path, args):
    """-> (model, the scikit-learn version that wrote it, or None when it did not say)."""
    with open(path, "rb") as fh:
        blob = fh.read()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if kind == "pickle":
            if not args.trust_pickle:
                raise ImportRefused(
                    "%s is a pickle (joblib, pickle or cloudpickle). Loading a pickle runs whatever code it contains, "
                    "so it is refused unless you made it or fully trust who did: then add --trust-pickle. Safer: save "
                    'the model with skops in your notebook (skops.io.dump(model, "model.skops")) and import that' % path
                )
            try:
                model = artifact.loads(blob, "joblib")
            except Exception as exc:
                raise ImportRefused(
                    "cannot load %s as a joblib/pickle file: %s: %s" % (path, type(exc).__name__, exc)
                ) from exc
        else:
            try:
                model = artifact.loads(blob, "skops", args.trust_type)
            except artifact.ArtifactError as exc:
                raise ImportRefused("%s: %s" % (path, exc)) from exc
            except Exception as exc:
                raise ImportRefused("cannot load %s as a skops file: %s: %s" % (path, type(exc).__name__, exc)) from exc
    written_by = None
    for w in caught:
        if type(w.message).__name__ == "InconsistentVersionWarning":
            written_by = getattr(w.message, "original_sklearn_version", None)
    return model, written_by


def wheel_set(version, python):
    """scikit-learn==version with numpy/scipy/pandas/joblib that pip resolves to binary wheels for the EB instances
    (manylinux for glibc 2.34, this project's architecture) and `python`: {name: version}, or None when none exist."""
    numpy_abi = []
    parts = tuple(int(p) for p in version.split(".")[:3] if p.isdigit())
    if parts < (1, 4, 2):  # wheels before 1.4.2 are built against numpy 1.x: numpy 2 cannot import them
        numpy_abi = ["numpy<2", "pandas<2.2.2", "scipy<1.13"]
    report = tempfile.mktemp(suffix=".json")
    platforms = [
        a
        for tag in ("manylinux_2_34", "manylinux_2_28", "manylinux_2_17", "manylinux2014")
        for a in ("--platform", "%s_%s" % (tag, WHEEL_ARCH))
    ]
    command = (
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--python-version",
            python,
            "--implementation",
            "cp",
            "--target",
            tempfile.mkdtemp(prefix="wheels-"),
            "--report",
            report,
        ]
        + platforms
        + ["scikit-learn==" + version, "numpy", "scipy", "pandas", "joblib", "threadpoolctl"]
        + numpy_abi
    )
    try:
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
        if done.returncode != 0:
            return None
        with open(report, encoding="utf-8") as fh:
            installed = json.load(fh)["install"]
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    finally:
        if os.path.exists(report):
            os.remove(report)
    wanted = ("scikit-learn", "numpy", "scipy", "pandas", "joblib", "threadpoolctl")
    return dict(
        (i["metadata"]["name"].lower(), i["metadata"]["version"])
        for i in installed
        if i["metadata"]["name"].lower() in wanted
    )


def pins_text(pins):
    return " ".join("%s==%s" % kv for kv in sorted(pins.items()))


def version_advice(written_by, pins):
    """What would let this project run the model's own scikit-learn when the import does not re-pin by itself."""
    if pins:
        return (
            "Pins with binary wheels for Python %s (%s) that follow the artifact: %s. Import without --keep-pins "
            "and the importer writes them to requirements.txt and rebuilds the venv (or put them there yourself, "
            "run `make venv`, and import again)" % (PYTHON_VERSION, WHEEL_ARCH, pins_text(pins))
        )
    others = [p for p in OTHER_PYTHONS if wheel_set(written_by, p)]
    if others:
        return (
            "scikit-learn %s has no binary wheels for Python %s (%s); it has for Python %s: generate the project "
            "with --python-version %s, or re-save the model with this project's scikit-learn"
            % (written_by, PYTHON_VERSION, WHEEL_ARCH, ", ".join(others), others[0])
        )
    return (
        "scikit-learn %s has no binary wheels for any Python this platform offers (%s, %s): re-save the model with "
        "this project's scikit-learn" % (written_by, ", ".join([PYTHON_VERSION] + OTHER_PYTHONS), WHEEL_ARCH)
    )


_PICKLED_VERSION = re.compile(rb"_sklearn_version.{1,12}?(\d+\.\d+(?:\.\d+)?(?:\.post\d+|rc\d+)?)", re.DOTALL)
# skops stores the string as JSON inside JSON: "content": "\"1.5.2\""
_SKOPS_VERSION = re.compile(r'"_sklearn_version":\s*\{[^{}]*?"content":\s*"\\?"?(\d[^"\\]*)', re.DOTALL)


def sniff_sklearn_version(kind, path):
    """The version every estimator stamps into its state (__getstate__'s _sklearn_version), read from the bytes
    without loading them: a model from another version may not even load, and then the advice matters most."""
    try:
        if kind == "skops":
            with zipfile.ZipFile(path) as archive:
                found = _SKOPS_VERSION.search(archive.read("schema.json").decode("utf-8", "replace"))
        else:
            with open(path, "rb") as fh:
                found = _PICKLED_VERSION.search(fh.read())  # uncompressed pickles only; else the load tells
    except (OSError, zipfile.BadZipFile, KeyError):
        return None
    return found.group(1).decode("ascii") if found and isinstance(found.group(1), bytes) else (found and found.group(1))


def check_versions(written_by, args):
    """A model is only safe with the scikit-learn that wrote it. -> the pins that follow the artifact when the project
    should be re-pinned to them (see repin_and_import), else None (same version, or --allow-version-mismatch)."""
    if not written_by or written_by == sklearn.__version__:
        return None
    if args.allow_version_mismatch:
        print(
            "warning: the model was written by scikit-learn %s, but this project runs scikit-learn %s; importing "
            "it anyway (--allow-version-mismatch): the proof decides" % (written_by, sklearn.__version__)
        )
        return None
    pins = wheel_set(written_by, PYTHON_VERSION)
    if pins and not args.keep_pins:
        return pins
    raise ImportRefused(
        "the model was written by scikit-learn %s, but this project runs scikit-learn %s "
        "(requirements.txt). scikit-learn does not promise that a model loads or predicts the same "
        "under another version. %s. Or save the model again from an environment with "
        "scikit-learn==%s (refit it there). To import it anyway and let the proof decide, add "
        "--allow-version-mismatch"
        % (written_by, sklearn.__version__, version_advice(written_by, pins), sklearn.__version__)
    )


# --- the environment follows the artifact -----------------------------------------------------------------------

REQUIREMENT_FILES = ("requirements.txt", "requirements-dev.txt")
_PIN_LINE = re.compile(r"^(\s*)([A-Za-z0-9][A-Za-z0-9._-]*)(\s*===?\s*)([^\s;#]+)(.*)$", re.DOTALL)


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def repinned(text, pins):
    """-> (text with the version of each line that pins one of `pins` replaced, [(name, old, new)]). Every other line,
    comment, extra and marker stays as it was, in its place: the build order does not change."""
    wanted = dict((canonical(k), v) for k, v in pins.items())
    lines, changed = [], []
    for line in text.splitlines(True):
        found = _PIN_LINE.match(line)
        if found and canonical(found.group(2)) in wanted:
            new = wanted[canonical(found.group(2))]
            if found.group(4) != new:
                changed.append((found.group(2), found.group(4), new))
                line = found.group(1) + found.group(2) + found.group(3) + new + found.group(5)
        lines.append(line)
    return "".join(lines), changed


def base_python():
    """The interpreter the venv was made from (what `make venv` runs as $(PYTHON) -m venv)."""
    candidate = getattr(sys, "_base_executable", None)
    return candidate if candidate and os.path.isfile(candidate) else os.path.realpath(sys.executable)


def run_step(command, log=None):
    """The exit code of `command`; when this process is interrupted, the step is interrupted too and waited for
    (a terminal's Ctrl-C reaches both; a SIGINT to this process alone must not leave pip writing into the venv that
    is about to be removed, or the import's own service running)."""
    step = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT if log else None)
    try:
        return step.wait()
    except BaseException:
        if step.poll() is None:
            step.send_signal(signal.SIGINT)
            try:
                step.wait(timeout=60)
            except subprocess.TimeoutExpired:
                step.kill()
                step.wait()
        raise


def repin_and_import(written_by, pins, argv):
    """requirements.txt (and requirements-dev.txt) re-pinned to `pins`, the venv built again from them as `make venv`
    does, and the whole import (load, derive, prove in process and over HTTP, swap model/) run again in that venv. Only
    when it succeeds do the new requirement files replace the old ones; on any failure or interruption the old venv
    (with its .installed marker) is put back and the requirement files were never touched."""
    venv = sys.prefix
    if os.path.realpath(sys.prefix) == os.path.realpath(sys.base_prefix):
        raise ImportRefused(
            "the model was written by scikit-learn %s and the project must follow it (%s), but the "
            "importer runs in %s, which is not a venv it can rebuild: run it from the project's venv "
            "(make import), or add --keep-pins to only be told the pins" % (written_by, pins_text(pins), venv)
        )
    staged, changes = {}, []
    for name in REQUIREMENT_FILES:
        path = os.path.join(PROJECT_ROOT, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8", newline="") as fh:
                text, changed = repinned(fh.read(), pins)
            staged[name] = text
            changes.extend((name,) + c for c in changed)
    if not [c for c in changes if c[0] == "requirements.txt" and canonical(c[1]) == "scikit-learn"]:
        raise ImportRefused(
            "the model was written by scikit-learn %s, but requirements.txt has no scikit-learn==... "
            "line to re-pin: add scikit-learn==%s (with %s) to it, run `make venv`, and import again"
            % (written_by, written_by, pins_text(pins))
        )
    print(
        "the model was written by scikit-learn %s; this project ran %s. Re-pinning to a set with binary wheels for "
        "Python %s (%s): %s"
        % (
            written_by,
            sklearn.__version__,
            PYTHON_VERSION,
            WHEEL_ARCH,
            ", ".join("%s %s -> %s (%s)" % (n, o, v, f) for f, n, o, v in changes),
        )
    )
    sys.stdout.flush()
    staging = tempfile.mkdtemp(prefix=".requirements-import-", dir=PROJECT_ROOT)
    aside = tempfile.mkdtemp(prefix=os.path.basename(venv) + ".before-import-", dir=os.path.dirname(venv))
    os.rmdir(aside)
    python = base_python()
    moved = committed = False
    log = tempfile.TemporaryFile()
    try:
        for name, text in staged.items():
            with open(os.path.join(staging, name), "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        install_from = os.path.join(
            staging, "requirements-dev.txt" if "requirements-dev.txt" in staged else "requirements.txt"
        )
        os.rename(venv, aside)
        moved = True
        print(
            "rebuilding %s from the new pins (%s -m venv, pip install -r %s), as make venv does; the old venv is "
            "kept until the import is proven" % (venv, python, os.path.basename(install_from))
        )
        sys.stdout.flush()
        for step in (
            [python, "-m", "venv", venv],
            [
                os.path.join(venv, "bin", "python"),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-r",
                install_from,
            ],
        ):
            if run_step(step, log) != 0:
                log.seek(0)
                raise ImportRefused(
                    "building the venv from the new pins failed (%s):\n%s"
                    % (" ".join(step[:4]), log.read().decode("utf-8", "replace")[-3000:])
                )
        done = run_step([os.path.join(venv, "bin", "python"), os.path.abspath(__file__)] + list(argv) + ["--keep-pins"])
        if done != 0:
            raise ImportRefused(
                "the import in the venv rebuilt for scikit-learn %s did not succeed (above)" % written_by
            )
        for name in sorted(set(c[0] for c in changes)):  # a file without a changed pin keeps even its mtime
            os.replace(os.path.join(staging, name), os.path.join(PROJECT_ROOT, name))
        committed = True
        with open(os.path.join(venv, ".installed"), "w"):  # make's marker, newer than the requirement files
            pass
    except BaseException:
        if moved and not committed:
            shutil.rmtree(venv, ignore_errors=True)
            if os.path.exists(venv):
                shutil.rmtree(venv)
            os.rename(aside, venv)
            moved = False
            print("%s and %s are as they were before the import" % (", ".join(staged), venv), file=sys.stderr)
        raise
    finally:
        log.close()
        shutil.rmtree(staging, ignore_errors=True)
        if moved:
            shutil.rmtree(aside, ignore_errors=True)
    print(
        "requirements.txt now pins scikit-learn==%s (%s), and %s was rebuilt from it: commit requirements.txt with "
        "model/" % (written_by, pins_text(pins), venv)
    )
    return 0


# --- the schema, derived -----------------------------------------------------------------------------------------


def read_sample(path):
    if not path:
        raise ImportRefused(
            "--sample CSV is required: a CSV of rows the model accepts (the target column may be "
            "in it) supplies the feature types, categories and ranges of schema.json, and the rows the "
            "import proves the model on"
        )
    if not os.path.isfile(path):
        raise ImportRefused("--sample: %s does not exist" % path)
    try:
        try:
            return pd.read_csv(path, dtype_backend="numpy_nullable")
        except TypeError:  # pandas < 2.0
            return pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ImportRefused("--sample: cannot read %s as CSV: %s" % (path, exc)) from exc


def read_plain(path):
    """The sample with pandas' default dtypes (float64 and NaN for gappy numbers, object for strings)."""
    return pd.read_csv(path)


def feature_names(model, facts, sample, target):
    """From the model itself, else the MLflow signature, else the sample's header (minus the target)."""
    if hasattr(model, "feature_names_in_"):
        names, source = [str(n) for n in model.feature_names_in_], "the model's feature_names_in_"
    elif facts and facts.get("inputs"):
        names, source = [str(c["name"]) for c in facts["inputs"]], "the MLflow signature"
    else:
        names, source = [str(c) for c in sample.columns if c != target], "the sample's header"
    if target and target in names:
        raise ImportRefused(
            "--target %s is one of the model's inputs (from %s); name the column it predicts" % (target, source)
        )
    missing = [n for n in names if n not in sample.columns]
    if missing:
        raise ImportRefused(
            "the sample lacks the model's input column(s) %s (names from %s); give a --sample that "
            "has them" % (", ".join(missing), source)
        )
    expected = getattr(model, "n_features_in_", None)
    if expected is not None and expected != len(names):
        hint = " name the target with --target, or drop the sample's extra columns" if source.endswith("header") else ""
        raise ImportRefused(
            "the model takes %d input columns but %s gives %d (%s);%s"
            % (expected, source, len(names), ", ".join(names), hint)
        )
    extra = [str(c) for c in sample.columns if c not in names and c != target]
    if extra:
        print("note: sample column(s) not used by the model, ignored: %s" % ", ".join(extra))
    return names


def derive_schema_parts(model, facts, sample, args):
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except Exception as exc:
        raise ImportRefused("the model is not fitted (%s); fit it before saving" % exc) from exc
    try:
        task = task_of(model)
    except DerivationError as exc:
        raise ImportRefused(str(exc)) from exc
    if args.target and args.target not in sample.columns:
        print("note: --target %s is not a column of the sample; it only names the prediction" % args.target)
    names = feature_names(model, facts, sample, args.target)
    try:
        frame, features = describe_features(sample[names], log=lambda _m: None)
    except DerivationError as exc:
        raise ImportRefused("--sample: %s" % exc) from exc
    empty = [n for n in names if n not in [f["name"] for f in features]]
    if empty:
        raise ImportRefused(
            "--sample: column(s) %s have no values; the sample needs values for every input" % ", ".join(empty)
        )
    target = target_schema(model, args.target or "prediction", task)
    return task, frame, features, target


# --- proof ------------------------------------------------------------------------------------------------------


def reference_answer(model, frame, task):
    """What the original model, in this process, says about the sample as plain pandas reads it (what a notebook
    would pass it): the service's answers must equal these."""
    try:
        if task == "classification":
            proba = np.asarray(model.predict_proba(frame), dtype=np.float64)
            return {"predictions": [str(p) for p in model.predict(frame)], "probabilities": proba.tolist()}
        return {"predictions": np.asarray(model.predict(frame), dtype=np.float64).ravel().tolist()}
    except Exception as exc:
        raise ImportRefused(
            "the model cannot predict the sample rows (as pandas.read_csv reads them): %s: %s"
            % (type(exc).__name__, exc)
        ) from exc


FRAME_HINT = (
    " (the service hands the model a DataFrame of float64 numbers, strings for categories and NaN for every "
    "missing value; a model that answers differently for those than for the sample as pandas reads it needs "
    "a before_predict hook in application.py that converts them)"
)


def compare(where, expected, got):
    if list(got["predictions"]) != list(expected["predictions"]) and "probabilities" in expected:
        bad = [i for i, (a, b) in enumerate(zip(expected["predictions"], got["predictions"])) if a != b]
        raise ImportRefused(
            "%s: predictions differ from the original model's on sample row(s) %s%s"
            % (where, ", ".join(str(i) for i in bad[:10]), FRAME_HINT)
        )
    if RUNTIME == "onnx":
        from serving.onnx_conversion import TOLERANCE, largest_difference

        diff, tolerance = largest_difference(expected, got)[1], TOLERANCE
    elif "probabilities" in expected:
        diff = float(np.max(np.abs(np.asarray(got["probabilities"]) - np.asarray(expected["probabilities"]))))
        tolerance = PROBABILITY_TOLERANCE
    else:
        diff = float(
            np.max(
                np.abs(np.asarray(got["predictions"], dtype=float) - np.asarray(expected["predictions"], dtype=float))
            )
        )
        tolerance = PROBABILITY_TOLERANCE
    if not diff <= tolerance:
        raise ImportRefused(
            "%s: the outputs differ from the original model's by up to %g%s" % (where, diff, FRAME_HINT)
        )
    return diff


def chunks(rows, size):
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def web_command(port):
    """The Procfile's web command with its port replaced (the legacy platform has no Procfile: Flask's server)."""
    from tools import procfile

    if not os.path.isfile(os.path.join(PROJECT_ROOT, procfile.PROCFILE)):
        return ["flask", "run", "--host", "127.0.0.1", "--port", str(port)]  # FLASK_APP is set by the caller
    try:
        return procfile.rebind(procfile.web_command(PROJECT_ROOT), "127.0.0.1:%d" % port)
    except procfile.ProcfileError as exc:
        raise ImportRefused(str(exc)) from None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_and_compare(candidate, rows, expected, max_rows, port):
    """Start the service on `candidate` with the Procfile's command, ask it for the sample, stop it."""
    port = port or free_port()
    env = dict(os.environ, MODEL_DIR=candidate, FLASK_APP="application")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    log = tempfile.TemporaryFile()
    server = subprocess.Popen(
        web_command(port), cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = "http://127.0.0.1:%d" % port
    try:
        deadline = time.time() + 120
        while True:
            if server.poll() is not None:
                log.seek(0)
                tail = log.read().decode("utf-8", "replace")[-3000:]
                raise ImportRefused(
                    "the service did not start on the new model (exit %s):\n%s" % (server.returncode, tail)
                )
            try:
                urllib.request.urlopen(base + settings.HEALTH_CHECK_PATH, timeout=5).read()
                break
            except (urllib.error.URLError, OSError):
                if time.time() > deadline:
                    raise ImportRefused(
                        "the service did not answer %s within 120 s" % settings.HEALTH_CHECK_PATH
                    ) from None
                time.sleep(0.25)
        got = {"predictions": [], "probabilities": []}
        for part in chunks(rows, max_rows):
            request = urllib.request.Request(
                base + "/v1/predict",
                data=json.dumps({"instances": part}).encode("utf-8"),
                headers={"Content-Type": "application/json"},
            )
            try:
                body = json.loads(urllib.request.urlopen(request, timeout=60).read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                raise ImportRefused(
                    "the service refused the sample rows (HTTP %d): %s"
                    % (exc.code, exc.read().decode("utf-8", "replace")[:2000])
                ) from exc
            got["predictions"].extend(body["predictions"])
            got["probabilities"].extend(body.get("probabilities", []))
        if "probabilities" not in expected:
            del got["probabilities"]
        return compare("the service (%s on port %d)" % (" ".join(web_command(port)[:1]), port), expected, got)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log.close()


# --- the swap ---------------------------------------------------------------------------------------------------


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


def carry_over(old_dir, candidate):
    """Files of the user's beside the old model (notes, a README) move with the folder; old artifacts do not."""
    if not os.path.isdir(old_dir):
        return
    skip = set(artifact.ARTIFACT_NAMES.values()) | {"schema.json", "model.onnx"}
    for name in os.listdir(old_dir):
        if name not in skip and not name.startswith(".") and os.path.isfile(os.path.join(old_dir, name)):
            shutil.copy2(os.path.join(old_dir, name), os.path.join(candidate, name))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="a skops/joblib/pickle file, or an MLflow sklearn model folder")
    parser.add_argument("--sample", help="CSV of rows the model accepts (required)")
    parser.add_argument("--target", help="the column the model predicts (its name in the API; dropped from the sample)")
    parser.add_argument("--trust-pickle", action="store_true", help="allow loading a pickle: it runs code")
    parser.add_argument(
        "--trust-type",
        action="append",
        default=[],
        metavar="MODULE.CLASS",
        help="a type in a skops file you have reviewed and trust (repeatable)",
    )
    parser.add_argument(
        "--allow-version-mismatch",
        action="store_true",
        help="import a model written by another scikit-learn version (the proof still decides)",
    )
    parser.add_argument(
        "--keep-pins",
        action="store_true",
        help="never rewrite requirements.txt: refuse a model from another scikit-learn, with the pins "
        "that would follow it",
    )
    parser.add_argument("--format", choices=artifact.FORMATS, default=PROJECT_FORMAT, help="how to re-save it")
    parser.add_argument("--name", help="model name in schema.json (default: the current one, else the project's)")
    parser.add_argument("--model-dir", default=os.environ.get("MODEL_DIR") or settings.default_model_dir())
    parser.add_argument("--port", type=int, help="port for the proof run of the service (default: a free one)")
    return parser.parse_args(argv)


def current_name(model_dir):
    try:
        with open(os.path.join(model_dir, "schema.json"), encoding="utf-8") as fh:
            return json.load(fh)["model"]["name"]
    except (OSError, ValueError, KeyError):
        return MODEL_NAME


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    model_dir = os.path.abspath(args.model_dir)
    candidate = None
    try:
        kind, path, facts = identify(os.path.abspath(args.path))
        sample = read_sample(args.sample)
        # Checked before loading (a model from another scikit-learn may not load at all), and again after.
        written_by = (facts or {}).get("sklearnVersion") or sniff_sklearn_version(kind, path)
        pins = check_versions(written_by, args)
        if pins:
            return repin_and_import(written_by, pins, argv)
        model, loaded_by = load_source(kind, path, args)
        written_by = loaded_by or written_by
        pins = check_versions(written_by, args)
        if pins:
            return repin_and_import(written_by, pins, argv)
        task, frame, features, target = derive_schema_parts(model, facts, sample, args)
        expected = reference_answer(model, read_plain(args.sample)[[f["name"] for f in features]], task)

        def make_schema(fields):
            described = {"name": args.name or current_name(model_dir), "task": task, "estimator": estimator_name(model)}
            described.update(fields)
            described.update(
                {
                    "source": "import",
                    "importedFrom": os.path.basename(os.path.normpath(args.path)),
                    "importedAs": kind if facts is None else "mlflow-" + kind,
                    "trainedAt": utc_now(),
                    "sklearnVersion": sklearn.__version__,
                    "writtenBySklearn": written_by or sklearn.__version__,
                    "metrics": {},
                }
            )
            return {
                "schemaVersion": 1,
                "model": described,
                "features": features,
                "target": target,
                "limits": dict(LIMITS),
            }

        parent = os.path.dirname(model_dir)
        candidate = tempfile.mkdtemp(prefix=".model-import-", dir=parent)
        os.chmod(candidate, 0o755)  # mkdtemp makes 0700; on EB the web server's user must be able to read model/
        try:
            # On the onnx runtime this converts the model and proves it on the sample before writing anything.
            schema = write_model_folder(
                candidate, model, args.format, make_schema, proof_frame=frame, proof_rows="sample rows"
            )
        except DerivationError as exc:
            raise ImportRefused(str(exc)) from exc
        if args.format == "skops" and schema["model"]["trustedTypes"]:
            print(
                "note: schema.json trusts these types beyond skops' defaults (the service loads only those): %s"
                % ", ".join(schema["model"]["trustedTypes"])
            )
        try:
            bundle = load_model(candidate)
        except ModelError as exc:
            raise ImportRefused("the re-saved model does not load as the service loads it: %s" % exc) from exc
        rows = request_rows(frame, features)
        answers = [predict(bundle, part) for part in chunks(rows, LIMITS["maxRows"])]
        in_process = {"predictions": [p for a in answers for p in a["predictions"]]}
        if "probabilities" in expected:
            in_process["probabilities"] = [p for a in answers for p in a.get("probabilities", [])]
        compare("the re-saved model, loaded as the service loads it", expected, in_process)
        served_diff = serve_and_compare(candidate, rows, expected, LIMITS["maxRows"], args.port)
        carry_over(model_dir, candidate)
        swap_in(candidate, model_dir)
        candidate = None
    except ImportRefused as exc:
        print("error: %s. Nothing was changed." % exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted. Nothing was changed.", file=sys.stderr)
        return 130
    finally:
        if candidate and os.path.exists(candidate):
            shutil.rmtree(candidate, ignore_errors=True)
    print(
        "proved on %d sample rows: in process and served by the Procfile's command, the same %s as the original "
        "(largest difference %g)"
        % (len(rows), "predictions and probabilities" if task == "classification" else "predictions", served_diff)
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


if __name__ == "__main__":
    sys.exit(main())
