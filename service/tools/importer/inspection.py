"""What an artifact names, read from its bytes without loading it: the classes and functions a pickle or a skops file
refers to (so the modules, libraries and code loading it would import), and the library versions recorded in it.

Nothing here unpickles or constructs anything: a pickle's opcodes are walked with pickletools, a skops file's
schema.json is read as JSON. Standard library only, so the generator runs it with the system's python3 before any
venv exists (preflight.py).
"""

import bz2
import gzip
import json
import lzma
import pickletools
import re
import zipfile
import zlib

_STRINGS = ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING")
_GETS = ("GET", "BINGET", "LONG_BINGET")
_PUTS = ("PUT", "BINPUT", "LONG_BINPUT")
# Where a pickle stream cannot be walked to its end (joblib writes array bytes between pickle frames, a damaged
# file), its references are read from the bytes: GLOBAL's text form, and STACK_GLOBAL after two literal strings.
_GLOBAL_TEXT = re.compile(rb"c([A-Za-z_][\w.]*)\n([A-Za-z_][\w.]*)\n")
_STACK_GLOBAL = re.compile(
    rb"\x8c([\x01-\xff])([A-Za-z_][\w.]*)(?:\x94|q.|r....)?\x8c([\x01-\xff])([A-Za-z_][\w.<>]*)(?:\x94|q.|r....)?\x93",
    re.DOTALL,
)

# Library versions some artifacts carry in their bytes (LightGBM's model text records only its format, v4).
_RECORDED_VERSIONS = (
    # XGBoost's Booster: its UBJSON or JSON model says which release wrote it.
    (
        "xgboost",
        re.compile(rb"version\[#L\x00{7}\x03i(.)i(.)i(.)", re.DOTALL),
        lambda m: "%d.%d.%d" % tuple(ord(g) for g in m.groups()),
    ),
    (
        "xgboost",
        re.compile(rb'"version"\s*:\s*\[\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\]'),
        lambda m: ".".join(g.decode("ascii") for g in m.groups()),
    ),
    # CatBoost's model blob embeds its build information.
    ("catboost", re.compile(rb"Release (\d+\.\d+(?:\.\d+)*)\. commit_hash"), lambda m: m.group(1).decode("ascii")),
)


class Inspection(object):
    """references: sorted 'module.name' strings; modules: their top-level modules; versions: {module: version}."""

    def __init__(self, references, versions):
        self.references = sorted(references)
        self.modules = sorted(set(r.split(".", 1)[0] for r in references))
        self.versions = versions

    def named_from(self, module):
        return [r for r in self.references if r.split(".", 1)[0] == module]


def inspect(kind, path):
    """-> Inspection of a skops or pickle (joblib, cloudpickle) file, or None when its bytes cannot be read here
    (an lz4-compressed joblib file: loading it decides)."""
    if kind == "skops":
        return _inspect_skops(path)
    with open(path, "rb") as fh:
        data = decompressed(fh.read())
    if data is None:
        return None
    return Inspection(pickle_references(data), recorded_versions([data]))


def decompressed(blob):
    """A joblib file's pickle stream: joblib.dump(..., compress=) wraps it in zlib, gzip, bz2 or xz (lz4: None)."""
    try:
        if blob.startswith(b"\x1f\x8b"):
            return gzip.decompress(blob)
        if blob.startswith(b"BZh"):
            return bz2.decompress(blob)
        if blob.startswith(b"\xfd7zXZ"):
            return lzma.decompress(blob)
        if blob[:1] == b"\x78" and blob[1:2] in (b"\x01", b"\x5e", b"\x9c", b"\xda"):
            return zlib.decompress(blob)
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
        return None
    if blob.startswith(b"\x04\x22M\x18"):
        return None
    return blob


def pickle_references(data):
    """Every (module, name) a pickle imports, as 'module.name', from its GLOBAL, INST and STACK_GLOBAL opcodes. The
    strings STACK_GLOBAL takes are followed through the memo, as the unpickler would, but nothing is constructed."""
    found, memo, recent = set(), {}, []
    position = 0
    try:
        for op, arg, position in pickletools.genops(data):
            name = op.name
            if name in ("GLOBAL", "INST"):
                module, qualname = arg.split(" ", 1)
                found.add("%s.%s" % (module, qualname))
                recent.append(None)
            elif name == "STACK_GLOBAL":
                if len(recent) >= 2 and isinstance(recent[-2], str) and isinstance(recent[-1], str):
                    found.add("%s.%s" % (recent[-2], recent[-1]))
                recent.append(None)
            elif name in _STRINGS:
                recent.append(arg if isinstance(arg, str) else None)
            elif name == "MEMOIZE":
                memo[len(memo)] = recent[-1] if recent else None
            elif name in _PUTS:
                memo[arg] = recent[-1] if recent else None
            elif name in _GETS:
                recent.append(memo.get(arg))
            elif name == "STOP":
                # joblib writes a pickle per array after the main one (and raw array bytes between frames): read on.
                rest = data[position + 1 :]
                if rest:
                    found.update(_references_in_bytes(rest))
                break
            elif name != "FRAME":
                recent.append(None)
    except ValueError:
        found.update(_references_in_bytes(data[position:]))
    return found


def _references_in_bytes(data):
    found = set()
    for match in _GLOBAL_TEXT.finditer(data):
        found.add("%s.%s" % (match.group(1).decode("ascii"), match.group(2).decode("ascii")))
    for match in _STACK_GLOBAL.finditer(data):
        if ord(match.group(1)) == len(match.group(2)) and ord(match.group(3)) == len(match.group(4)):
            found.add("%s.%s" % (match.group(2).decode("ascii"), match.group(4).decode("ascii")))
    return found


def _inspect_skops(path):
    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json").decode("utf-8"))
        blobs = [archive.read(n) for n in archive.namelist() if n != "schema.json"]
    found = set()
    _walk_skops(schema, found)
    return Inspection(found, recorded_versions(blobs))


def _walk_skops(node, found):
    """skops' schema names each object's type (__module__, __class__) and each function (module_path, function)."""
    if isinstance(node, dict):
        if isinstance(node.get("__module__"), str) and isinstance(node.get("__class__"), str):
            found.add("%s.%s" % (node["__module__"], node["__class__"]))
        if isinstance(node.get("module_path"), str) and isinstance(node.get("function"), str):
            found.add("%s.%s" % (node["module_path"], node["function"]))
        for value in node.values():
            _walk_skops(value, found)
    elif isinstance(node, list):
        for value in node:
            _walk_skops(value, found)


def recorded_versions(blobs):
    """{top-level module: the library version its artifact records} for the libraries that record one."""
    versions = {}
    for blob in blobs:
        for module, pattern, version in _RECORDED_VERSIONS:
            if module not in versions:
                match = pattern.search(blob)
                if match:
                    versions[module] = version(match)
    return versions


# What skops trusts without being told, loader by loader (skops 0.16: skops/io/_general.py, _numpy.py, _scipy.py,
# _sklearn.py): skops judges each object by the loader schema.json names for it, so one type can be trusted in one
# place and not in another. collections.OrderedDict is trusted as a dict's own type (DictNode) but not as a value, a
# defaultdict's default_factory (TypeNode); a tree's sklearn.tree._tree.Tree (TreeNode) and numpy.dtype (DTypeNode)
# never are. The sets skops computes from numpy, scipy and scikit-learn (their scalar types, ufuncs, estimators) are
# written out or told by module here, where none of them can be imported.
_PRIMITIVES = ("builtins.int", "builtins.float", "builtins.str", "builtins.bool")
_CONTAINERS = ("builtins.list", "builtins.set", "builtins.map", "builtins.tuple")
# numpy's scalar types (np.sctypeDict's), under numpy 2's names and numpy 1's.
_NUMPY_SCALARS = frozenset(
    "numpy." + n
    for n in (
        "bool bool_ bytes_ clongdouble complex128 complex64 datetime64 float16 float32 float64 int16 int32 int64 int8 "
        "int_ intc longdouble longlong object_ str_ timedelta64 uint uint16 uint32 uint64 uint8 uintc ulonglong void"
    ).split()
)
_NUMPY_UFUNCS = frozenset(
    "numpy." + n
    for n in (
        "absolute add arccos arccosh arcsin arcsinh arctan arctan2 arctanh bitwise_and bitwise_count bitwise_or "
        "bitwise_xor cbrt ceil conjugate copysign cos cosh deg2rad degrees divide divmod equal exp exp2 expm1 fabs "
        "float_power floor floor_divide fmax fmin fmod frexp gcd greater greater_equal heaviside hypot invert isfinite "
        "isinf isnan isnat lcm ldexp left_shift less less_equal log log10 log1p log2 logaddexp logaddexp2 logical_and "
        "logical_not logical_or logical_xor matmul matvec maximum minimum modf multiply negative nextafter not_equal "
        "positive power rad2deg radians reciprocal remainder right_shift rint sign signbit sin sinh spacing sqrt "
        "square subtract tan tanh trunc vecdot vecmat"
    ).split()
)
_SPARSE_BASES = ("spmatrix", "sparray")
# scikit-learn objects skops refuses by default although they are scikit-learn's (skops' _trusted_types.py).
_SKLEARN_NOT_DEFAULT = frozenset(["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"])


def _sklearn(name):
    return name.startswith("sklearn.") or name.startswith("_loss.")  # _loss: some releases' Cython losses


_SKOPS_DEFAULTS = {
    "JsonNode": lambda name: True,  # plain JSON: skops never asks about it
    "DictNode": lambda name: name in ("builtins.dict", "collections.OrderedDict"),
    "DefaultDictNode": lambda name: name == "collections.defaultdict",
    "ListNode": lambda name: name == "builtins.list",
    "SetNode": lambda name: name == "builtins.set",
    "TupleNode": lambda name: name == "builtins.tuple",
    "SliceNode": lambda name: name == "builtins.slice",
    "BytesNode": lambda name: name == "builtins.bytes",
    "BytearrayNode": lambda name: name == "builtins.bytearray",
    "TypeNode": lambda name: name in _PRIMITIVES or name in _CONTAINERS or name in _NUMPY_SCALARS,
    "FunctionNode": lambda name: name in _NUMPY_UFUNCS or name.startswith("scipy.special."),
    "NdArrayNode": lambda name: name == "numpy.ndarray" or name in _NUMPY_SCALARS,
    "MaskedArrayNode": lambda name: name.startswith("numpy.ma."),
    "RandomStateNode": lambda name: name == "numpy.random.mtrand.RandomState",
    "RandomGeneratorNode": lambda name: name == "numpy.random._generator.Generator",
    # Only the base classes: a csr_matrix itself needs --trust-type, as skops asks.
    "SparseMatrixNode": lambda name: name.startswith("scipy.sparse.") and name.rsplit(".", 1)[1] in _SPARSE_BASES,
    "ObjectNode": lambda name: _sklearn(name) and name not in _SKLEARN_NOT_DEFAULT,
    "LossNode": _sklearn,
    "_DictWithDeprecatedKeysNode": lambda name: name.endswith("._DictWithDeprecatedKeys"),
    # These trust nothing by default: what they name always needs --trust-type.
    "CachedNode": lambda name: False,
    "PartialNode": lambda name: False,
    "MethodNode": lambda name: False,
    "OperatorFuncNode": lambda name: False,
    "ConstructorFromReduceNode": lambda name: False,
    "DTypeNode": lambda name: False,
    "ReduceNode": lambda name: False,
    "TreeNode": lambda name: False,
    "QuantileForestNode": lambda name: False,
}


def skops_untrusted(path):
    """-> (types skops would refuse without --trust-type, types under loaders this module does not know), read from a
    skops file's schema.json as skops' get_untrusted_types reads it, without skops. The second list is for the
    caller to judge (a newer skops' loader)."""
    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json").decode("utf-8"))
    untrusted, unknown = set(), set()
    _audit_skops(schema, untrusted, unknown)
    return sorted(untrusted), sorted(unknown - untrusted)


def _audit_skops(node, untrusted, unknown):
    if isinstance(node, dict):
        loader, module, name = node.get("__loader__"), node.get("__module__"), node.get("__class__")
        if isinstance(loader, str) and isinstance(module, str) and isinstance(name, str):
            full = "%s.%s" % (module, name)
            rule = _SKOPS_DEFAULTS.get(loader)
            if rule is None:
                unknown.add(full)
            elif not rule(full):
                untrusted.add(full)
            content = node.get("content")
            if loader == "MethodNode" and isinstance(content, dict) and isinstance(content.get("func"), str):
                untrusted.add("%s.%s" % (full, content["func"]))  # the bound method itself, always asked about
            if loader == "JsonNode":
                return
        for value in node.values():
            _audit_skops(value, untrusted, unknown)
    elif isinstance(node, list):
        for value in node:
            _audit_skops(value, untrusted, unknown)


def skops_types(kind, path):
    """Every type a skops file names (what skops' get_untrusted_types chooses from), or [] for other files."""
    if kind != "skops":
        return []
    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json").decode("utf-8"))
    found = set()
    _walk_skops(schema, found)
    return sorted(found)
