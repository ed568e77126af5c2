"""Your tests' fixtures. (The contract suite in tests/contract/ brings its own; it is managed by generator-sci-eb.)

The tests run against the trained model in model/ (or MODEL_DIR): `make train` first.
"""

import json
import os
import sys

import pytest

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if PROJECT_ROOT not in sys.path:
    sys.path.insert(0, PROJECT_ROOT)
MODEL_DIR = os.environ.get("MODEL_DIR") or os.path.join(PROJECT_ROOT, "model")

if not os.path.isfile(os.path.join(MODEL_DIR, "schema.json")):
    raise pytest.UsageError("%s/schema.json not found: run `make train` before the tests" % MODEL_DIR)


@pytest.fixture(scope="session")
def project_root():
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def model_dir():
    return MODEL_DIR


@pytest.fixture(scope="session")
def schema(model_dir):
    with open(os.path.join(model_dir, "schema.json"), encoding="utf-8") as fh:
        return json.load(fh)
