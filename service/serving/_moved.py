"""Build-time modules that lived in this package until generator-sci-eb 0.3.0, found where they live now.

A train.py (or tests/test_train.py) written before 0.3.0 is the user's and is never rewritten by upgrades; it imports
`serving.schema_derivation` and `serving.onnx_conversion`, which moved to tools/ so that the EB bundle carries no
build-time code. This finder answers those two names with the tools modules themselves (one module object under
both names), so such a file keeps working on the developer's machine. Nothing in the service imports them: on EB,
where tools/ is not shipped, they are simply absent.
"""

import importlib
import importlib.abc
import importlib.util
import sys

MOVED = {
    "serving.schema_derivation": "tools.schema_derivation",
    "serving.onnx_conversion": "tools.onnx_conversion",
}


class _Alias(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        """The target module ran when it was imported; there is nothing more to run."""


class MovedModules(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, _Alias(MOVED[fullname]))


def install():
    if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(MovedModules())
