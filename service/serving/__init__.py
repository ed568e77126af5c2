"""The prediction service core, managed by generator-sci-eb: `sci-eb upgrade` keeps it current.

Customise the service in application.py (create_app's hooks), not here: edits here are merged on upgrade, hooks are
never touched. docs/contract.md is what these modules implement.
"""

from . import _moved
from .app import bundle_of, create_app, hooks_of
from .bundle import ModelBundle, ModelError, load_model
from .prediction import build_frame, predict
from .validation import compile_schema, validate_instances

_moved.install()

__all__ = [
    "create_app",
    "bundle_of",
    "hooks_of",
    "load_model",
    "ModelBundle",
    "ModelError",
    "build_frame",
    "predict",
    "compile_schema",
    "validate_instances",
]
