"""What PATH is, and the model in it: a skops file, a joblib/pickle file or an MLflow sklearn folder, told apart by
their bytes (not their names: a notebook saves model.pkl as joblib as often as pickle), loaded as safely as the format
allows, and the scikit-learn version that wrote it, read before loading because a model from another version may not
load at all.
"""

import json
import os
import re
import warnings
import zipfile

from serving import artifact

from . import ImportRefused

# joblib.dump(..., compress=...) writes a zlib, gzip, bz2, xz or lz4 stream around the pickle.
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
        import yaml  # from requirements-dev.txt; only an MLflow folder needs it, a model file does not
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
        # scikit-learn warns, rather than fails, when it loads an estimator another version pickled.
        if type(w.message).__name__ == "InconsistentVersionWarning":
            written_by = getattr(w.message, "original_sklearn_version", None)
    return model, written_by


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
