"""The model importer behind tools/import_model.py (whose docstring is the user's guide), one job per module:

    source       what PATH is (skops, pickle, an MLflow folder), loading it as safely as its format allows, and the
                 scikit-learn version that wrote it
    environment  the pins that follow that version, and requirements.txt re-pinned with the venv rebuilt for them
    schema       the sample, the model's input columns and the schema.json that describes them
    proof        the original model's answers on the sample, and the re-saved one's: in process and served over HTTP
    swap         the new model/ folder beside the old one, the user's files carried over, then swapped in
    cli          the options and the order of the jobs: the one module that imports the others

Imports point one way: cli -> the job modules -> this package (ImportRefused, PROJECT_ROOT) -> tools' shared
modules -> serving. No job module imports another, so each can be read and tested alone.
"""

import os

# The project the importer changes: the folder tools/ is in (its Procfile, requirement files and venv), wherever
# the importer is started from.
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class ImportRefused(Exception):
    """What the user must change; main() prints it and exits 2 with the project unchanged."""
