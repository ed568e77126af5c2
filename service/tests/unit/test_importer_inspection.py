"""tools/importer/inspection.py: what a pickle or a skops file names, read without loading (or importing) anything."""

import bz2
import gzip
import lzma
import pickle
import sys
import types
import zlib

import pytest
from importer_fixtures import classifier, iris, joblib_file, skops_file

from tools.importer.inspection import decompressed, inspect, pickle_references, recorded_versions


class FakeModules(object):
    """Modules a real library would provide, made up for one test: classes pickle can name without the library."""

    def __init__(self, **modules):
        self.modules = modules

    def __enter__(self):
        made = {}
        self.added = []
        # A real module of that name (lightgbm.sklearn, when LightGBM is installed and imported) is put back after.
        self.replaced = dict((dotted, sys.modules[dotted]) for dotted in self.modules if dotted in sys.modules)
        for dotted in self.modules:
            parts = dotted.split(".")
            for depth in range(1, len(parts) + 1):
                name = ".".join(parts[:depth])
                if name not in sys.modules:
                    sys.modules[name] = types.ModuleType(name)
                    self.added.append(name)
        for dotted, names in self.modules.items():
            module = types.ModuleType(dotted)
            for name in names:
                cls = type(name, (object,), {"__module__": dotted})
                cls.__qualname__ = name
                setattr(module, name, cls)
                made[name] = cls
            sys.modules[dotted] = module
        return made

    def __exit__(self, *exc):
        for name in self.added:
            del sys.modules[name]
        sys.modules.update(self.replaced)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_a_pickle_names_every_class_even_through_the_memo(protocol):
    # Two classes of one module: from protocol 4 on, the second names its module through the memo (BINGET).
    with FakeModules(**{"lightgbm.sklearn": ["LGBMClassifier"], "lightgbm.basic": ["Booster", "Dataset"]}) as made:
        blob = pickle.dumps(
            {"model": made["LGBMClassifier"](), "parts": [made["Booster"](), made["Dataset"]()]}, protocol=protocol
        )
    found = pickle_references(blob)
    assert {"lightgbm.sklearn.LGBMClassifier", "lightgbm.basic.Booster", "lightgbm.basic.Dataset"} <= found


def test_nothing_is_unpickled_or_imported_to_read_the_names():
    with FakeModules(**{"never_installed": ["Thing"]}) as made:
        blob = pickle.dumps(made["Thing"](), protocol=4)
    assert "never_installed" not in sys.modules
    assert pickle_references(blob) == {"never_installed.Thing"}


@pytest.mark.parametrize("compress", [0, 3, ("gzip", 3), ("bz2", 3), ("xz", 3)])
def test_joblib_files_compressed_or_not_name_their_pipeline(tmp_path, compress):
    found = inspect("pickle", joblib_file(tmp_path, compress=compress))
    assert "sklearn.pipeline.Pipeline" in found.references
    assert "sklearn.linear_model._logistic.LogisticRegression" in found.references
    assert {"sklearn", "numpy"} <= set(found.modules)
    assert found.versions == {}


def test_a_stream_that_cannot_be_walked_to_its_end_is_read_from_its_bytes():
    with FakeModules(**{"xgboost.sklearn": ["XGBRegressor"]}) as made:
        blob = pickle.dumps(made["XGBRegressor"](), protocol=2) + b"\xff\xfe not a pickle any more"
    # Cut the STOP off and damage what follows: genops fails, the text GLOBAL is still found.
    assert "xgboost.sklearn.XGBRegressor" in pickle_references(blob[: blob.rindex(b".")] + b"\x00\xff")


def test_an_lz4_joblib_file_cannot_be_read_here_and_says_so_with_none(tmp_path):
    path = tmp_path / "model.joblib"
    path.write_bytes(b"\x04\x22M\x18" + b"\x00" * 20)
    assert inspect("pickle", str(path)) is None


@pytest.mark.parametrize(
    "wrap",
    [gzip.compress, bz2.compress, lzma.compress, zlib.compress],
    ids=["gzip", "bz2", "xz", "zlib"],
)
def test_each_joblib_compression_is_undone(wrap):
    blob = pickle.dumps([1, 2])
    assert decompressed(wrap(blob)) == blob


def test_a_skops_file_names_its_types_and_functions_from_schema_json(tmp_path):
    from importer_fixtures import iris
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    features, species = iris()
    model = make_pipeline(FunctionTransformer(abs), classifier()).fit(features, species)
    found = inspect("skops", skops_file(tmp_path, model))
    assert "sklearn.preprocessing._function_transformer.FunctionTransformer" in found.references
    assert "builtins.abs" in found.references
    assert "sklearn" in found.modules


def test_the_versions_xgboost_and_catboost_record_in_their_bytes_are_read():
    ubjson = b"...L\x00\x00\x00\x00\x00\x00\x00\x07version[#L\x00\x00\x00\x00\x00\x00\x00\x03i\x03i\x01i\x02}..."
    json_model = b'{"learner": {}, "version": [2, 1, 4]}'
    catboost = b"\x00 Svn info: Release 1.2.8. commit_hash:2f3bd0 \x00"
    assert recorded_versions([ubjson]) == {"xgboost": "3.1.2"}
    assert recorded_versions([json_model]) == {"xgboost": "2.1.4"}
    assert recorded_versions([b"nothing", catboost]) == {"catboost": "1.2.8"}
    assert recorded_versions([b"lightgbm tree\nversion=v4\n"]) == {}


def test_the_same_model_names_the_same_estimators_in_either_format(tmp_path):
    estimators = {
        "sklearn.pipeline.Pipeline",
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.linear_model._logistic.LogisticRegression",
    }
    assert estimators <= set(inspect("skops", skops_file(tmp_path)).references)
    assert estimators <= set(inspect("pickle", joblib_file(tmp_path)).references)


def test_skops_untrusted_types_are_read_as_skops_itself_decides_them(tmp_path):
    # The generator's preflight has no skops: it must ask for every type skops will refuse, loader by loader. The same
    # type can be trusted in one place and not another (an OrderedDict as a dict is skops' default; as a defaultdict's
    # default_factory, as LightGBM's best_score holds it, it is not); a tree's Tree and a dtype never are.
    import collections
    import functools
    import operator

    import lightgbm
    import numpy as np
    import scipy.sparse
    import skops.io as sio
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.tree import DecisionTreeClassifier

    from tools.importer.inspection import skops_untrusted

    features, species = iris()
    shared = {"a": 1}
    models = {
        "lgbm": lightgbm.LGBMClassifier(n_estimators=3, verbose=-1).fit(features, species),
        "tree": DecisionTreeClassifier(max_depth=2, random_state=0).fit(features, species),
        "hgb": HistGradientBoostingClassifier(max_iter=2).fit(features, species),
        "pipeline": classifier(),
        "objects": {
            "ordered": collections.OrderedDict(a=1),
            "factory": collections.defaultdict(collections.OrderedDict),
            "values": (1, 2.5, "x", True, None, b"b", bytearray(b"c"), {1, 2}, slice(1, 2), [shared, shared]),
            "types": [int, float, np.float32, collections.OrderedDict],
            "numpy": [np.dtype("float32"), np.clip, np.add, np.float64(1.5), np.ma.masked_array([1, 2], mask=[0, 1])],
            "random": [np.random.RandomState(0), np.random.default_rng(0)],
            "calls": [functools.partial(np.add, 1), operator.add],
            "sparse": scipy.sparse.csr_matrix(np.eye(2)),
        },
    }
    for name, model in models.items():
        path = skops_file(tmp_path, model, name=name + ".skops")
        assert skops_untrusted(path) == (sorted(sio.get_untrusted_types(file=path)), []), name
    assert "collections.OrderedDict" in skops_untrusted(str(tmp_path / "lgbm.skops"))[0]
