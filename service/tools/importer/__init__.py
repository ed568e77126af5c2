"""The model importer behind tools/import_model.py (whose docstring is the user's guide), one job per module:

    source        what PATH is (skops, pickle, an MLflow folder), loading it as safely as its format allows, and the
                  scikit-learn version that wrote it
    mlflow_model  an MLflow folder as MLflow writes it: MLmodel, its requirements, recorded trust, code/, the example
    inspection    the classes, functions and library versions an artifact names, read from its bytes, never loaded
    libraries     where each of those modules comes from (Python, the project's pins, LightGBM/XGBoost/CatBoost, the
                  user's code) and the version a library is pinned at, with binary wheels
    user_code     the user's own modules (--code), brought into model_code/
    environment   the pins that follow the model's scikit-learn and libraries: requirements.txt re-pinned with the venv
                  rebuilt for them, or libraries installed into the venv as it is
    schema        the sample (or an MLflow input example), the model's input columns and the schema.json describing them
    proof         the original model's answers on the sample, and the re-saved one's: in process and served over HTTP
    swap          the new model/ (and model_code/) beside the old, the user's files carried over, then swapped in
    wheels        what pip would install from binary wheels on the EB instances (shared by libraries and environment)
    preflight     everything decided before loading or installing anything, in seconds (the generator runs it too)
    cli           the options and the order of the jobs

Imports point one way: cli -> preflight -> the job modules -> this package (ImportRefused, PROJECT_ROOT) -> tools'
shared modules -> serving. Besides the two that order the others (cli, preflight), a job module imports none but
wheels and mlflow_model (source reads an MLflow folder with it; schema its example), so each can be read and tested
alone. preflight and what it imports use the standard library only: the generator runs them with the system's python3
before any venv exists.
"""

import os

# The project the importer changes: the folder tools/ is in (its Procfile, requirement files and venv), wherever
# the importer is started from.
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class ImportRefused(Exception):
    """What the user must change; main() prints it and exits 2 with the project unchanged."""
