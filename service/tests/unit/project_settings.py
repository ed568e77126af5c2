"""serving/settings.py as `sci-eb app demo --yes` renders it (service/conftest.py checks the names match)."""

import os

HEALTH_CHECK_PATH = "/health"
RUNTIME = "sklearn"
MODEL_FORMAT = "skops"
MODEL_NAME = "demo"
PYTHON_VERSION = "3.11"
OTHER_PYTHONS = ["3.12", "3.13", "3.14"]
WHEEL_ARCH = "x86_64"
LIMITS = {"maxRows": 1000, "maxBodyBytes": 1048576}


def default_model_dir():
    return os.environ.get("MODEL_DIR") or os.path.join(os.getcwd(), "model")


def default_code_dir():
    return os.path.join(os.getcwd(), "model_code")
