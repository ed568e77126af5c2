"""What may run when the model loads, as the project's owner decided it: trust.json in the project folder, beside
model/ and never inside it, so nothing a model folder carries can widen what the service runs.

trust.json is the user's file (the generator never writes or upgrades it). It is written only by commands the user
runs: train.py (through tools.schema_derivation.write_model_folder, vouching for what it trained itself) and
`make import` (whose --trust-pickle and --trust-type flags vouch for a model made elsewhere); commit it with model/.
It holds two lists, each entry with who vouched for it and when:

  skopsTypes  types a skops artifact may construct beyond skops' own defaults (numpy.dtype, a tree's Tree...);
  pickles     the sha256 of each joblib (pickle) artifact someone vouched for: loading a pickle runs its code, so only
              these exact files load, never "any pickle".

Types that run code, touch files or start processes when called (eval, exec, os, subprocess, __import__...) are
refused even when listed: no model needs them, and a listed one can only come from a mistake or an attack.
"""

import json
import os
import re

FILE_NAME = "trust.json"
TRUST_VERSION = 1
# The project folder: the one above this package (where application.py, model/ and trust.json live).
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

# Modules whose every member can run code, reach the file system, the network or other processes, or load more code.
DANGEROUS_MODULES = (
    "__builtin__",
    "_io",
    "_pickle",
    "_posixsubprocess",
    "_thread",
    "asyncio",
    "cloudpickle",
    "code",
    "codecs",
    "codeop",
    "ctypes",
    "dill",
    "ftplib",
    "glob",
    "http",
    "importlib",
    "io",
    "joblib",
    "marshal",
    "multiprocessing",
    "nt",
    "os",
    "pathlib",
    "pickle",
    "posix",
    "pty",
    "runpy",
    "shelve",
    "shutil",
    "signal",
    "smtplib",
    "socket",
    "subprocess",
    "sys",
    "tempfile",
    "threading",
    "urllib",
    "webbrowser",
    "zipimport",
)
# Single callables elsewhere that do the same (a partial of any of these is refused through them: skops lists the
# partial's function as a type of its own).
DANGEROUS_NAMES = frozenset(
    [
        "builtins.__import__",
        "builtins.breakpoint",
        "builtins.compile",
        "builtins.delattr",
        "builtins.eval",
        "builtins.exec",
        "builtins.exit",
        "builtins.getattr",
        "builtins.globals",
        "builtins.help",
        "builtins.input",
        "builtins.locals",
        "builtins.open",
        "builtins.quit",
        "builtins.setattr",
        "builtins.vars",
        "functools.reduce",
        "numpy.fromfile",
        "numpy.genfromtxt",
        "numpy.load",
        "numpy.loadtxt",
        "numpy.save",
        "numpy.savetxt",
        "operator.attrgetter",
        "operator.call",
        "operator.methodcaller",
        "pandas.eval",
        "pandas.read_pickle",
        "types.CodeType",
        "types.FunctionType",
        "types.LambdaType",
        "types.MethodType",
        "types.ModuleType",
    ]
)


class TrustError(ValueError):
    """trust.json cannot be used; the message names the file and what to do."""


def project_file():
    """The trust.json the service reads: in the project folder, never in model/ (MODEL_DIR does not move it)."""
    return os.path.join(PROJECT_ROOT, FILE_NAME)


def runs_code(type_name):
    """Whether constructing or calling this type can run code, reach files, processes or the network."""
    name = str(type_name)
    if name in DANGEROUS_NAMES:
        return True
    module = name.split(".", 1)[0]
    return module in DANGEROUS_MODULES


class Trust(object):
    """The decisions of one trust.json: skops types and pickle digests, each mapped to who vouched for it."""

    def __init__(self, skops_types=None, pickles=None, path=None):
        self.skops_types = dict(skops_types or {})
        self.pickles = dict(pickles or {})
        self.path = path

    def trusts_pickle(self, sha256):
        return str(sha256).lower() in self.pickles

    def to_json(self):
        return {
            "trustVersion": TRUST_VERSION,
            "skopsTypes": dict(sorted(self.skops_types.items())),
            "pickles": dict(sorted(self.pickles.items())),
        }


def read(path=None):
    """The project's trust.json as a Trust; an absent file trusts nothing beyond skops' defaults.

    Raises TrustError for a file that is not the format above, and for one that lists a type that runs code.
    """
    path = path or project_file()
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        return Trust(path=path)
    except OSError as exc:
        raise TrustError("cannot read %s: %s" % (path, exc.strerror or exc)) from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TrustError("%s is not valid JSON: %s" % (path, exc)) from exc
    if not isinstance(data, dict) or data.get("trustVersion") != TRUST_VERSION:
        raise TrustError("%s must be an object with trustVersion %d" % (path, TRUST_VERSION))
    lists = {}
    for key in ("skopsTypes", "pickles"):
        entries = data.get(key, {})
        if not isinstance(entries, dict) or not all(isinstance(k, str) for k in entries):
            raise TrustError("%s: %s must map names to who vouched for them" % (path, key))
        lists[key] = {k: str(v) for k, v in entries.items()}
    bad = sorted(k for k in lists["pickles"] if not _SHA256.match(k))
    if bad:
        raise TrustError("%s: pickles must be keyed by lowercase hex sha256 digests, not %s" % (path, ", ".join(bad)))
    dangerous = sorted(t for t in lists["skopsTypes"] if runs_code(t))
    if dangerous:
        raise TrustError(
            "%s lists %s: these run code, files, processes or the network when a model loads or predicts, so they are "
            "refused even though listed. Remove them from skopsTypes, and do not deploy a model that needs them"
            % (path, ", ".join(dangerous))
        )
    return Trust(lists["skopsTypes"], lists["pickles"], path)
