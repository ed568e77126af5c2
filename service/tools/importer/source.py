"""What PATH is, and the model in it: a skops file, a joblib/pickle file or an MLflow sklearn folder, told apart by
their bytes (not their names: a notebook saves model.pkl as joblib as often as pickle), loaded as safely as the format
allows, and the scikit-learn version that wrote it, read before loading because a model from another version may not
load at all.

Only the standard library at import time: the generator's preflight identifies PATH before any venv exists (loading
imports serving.artifact, and with it skops or joblib, when it happens).
"""

import os
import re
import warnings
import zipfile

from . import ImportRefused
from .mlflow_model import read_folder

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
        facts = read_folder(path)
        return facts["format"], facts["modelFile"], facts
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


def pickle_refusal(path):
    return (
        "%s is a pickle (joblib, pickle or cloudpickle). Loading a pickle runs whatever code it contains, so it is "
        "refused unless you made it or fully trust who did: then add --trust-pickle. Safer: save the model with "
        'skops in your notebook (skops.io.dump(model, "model.skops")) and import that' % path
    )


def load_source(kind, path, args, trusted=None):
    """-> (model, the scikit-learn version that wrote it, or None when it did not say). `trusted`: the skops types
    the preflight settled on beyond skops' defaults (--trust-type, MLflow's list when accepted, the user's code)."""
    from serving import artifact

    with open(path, "rb") as fh:
        blob = fh.read()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if kind == "pickle":
            if not args.trust_pickle:
                raise ImportRefused(pickle_refusal(path))
            try:
                model = artifact.loads(blob, "joblib")
            except Exception as exc:
                raise ImportRefused(
                    "cannot load %s as a joblib/pickle file: %s: %s" % (path, type(exc).__name__, exc)
                ) from exc
        else:
            try:
                model = artifact.loads(blob, "skops", args.trust_type if trusted is None else trusted)
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
