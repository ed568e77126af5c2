"""Bring your own model: replace model/ with a scikit-learn model you trained elsewhere (a notebook, MLflow).

    .venv/bin/python tools/import_model.py PATH --sample CSV [--target COLUMN] [--trust-pickle] [--trust-type T]
                                           [--feature-type NAME=TYPE]
    make import MODEL=PATH SAMPLE=CSV [TARGET=COLUMN] [IMPORT_FLAGS="--trust-pickle"]
    sci-eb model import PATH --sample CSV ...                 (the same, from the generator's launcher)

PATH is a scikit-learn estimator or Pipeline saved with skops, joblib or pickle, or an MLflow model folder of the
sklearn flavor. Feature types come from --feature-type NAME=TYPE (number, integer, category, text, boolean, date,
datetime), then the MLflow signature, then the model's own preprocessing (the columns a text vectorizer reads are text,
those an encoder reads categories with the encoder's categories), then the sample's dtypes; a column of strings none
of them types is refused by name, with the type its values suggest. The sample (a CSV of rows the model accepts; the
target column may be in it) supplies nullability and observed ranges, and the rows the import proves the model on; it
is not copied into model/. Classifiers, regressors, clustering models (KMeans...) and outlier detectors
(IsolationForest...) are imported; docs/contract.md has the answer of each. Nothing changes until the new model is
proven: re-saved as this project's format with its sha256, loaded back the way the service loads it, its answers on
the sample equal the original's in process and over HTTP from the service started with the Procfile's command; only
then is model/ swapped for the new folder.
On the onnx runtime (serving/settings.py) the model is also converted to model.onnx and proven on the sample (the same
labels, probabilities within 1e-5) before anything is written; a step skl2onnx cannot convert is refused by name.

A model written by another scikit-learn than requirements.txt pins: its version (with numpy/scipy/pandas/joblib that
have binary wheels for the EB Python and architecture, resolved by pip) replaces those pins in requirements.txt and
requirements-dev.txt, the venv is rebuilt from them as `make venv` does, and the import runs again in it; the new pins
stay only if it is proven, else the old requirement files and venv are put back (--keep-pins: refuse and print them).

Exit codes: 0 imported; 2 refused or not proven (the message says why and what to do; the project is unchanged).
The work is done by tools/importer/, one module per job (its __init__.py lists them).
Managed by generator-sci-eb: `sci-eb upgrade` keeps it current.
"""

import os
import sys

# Run as a script (make import, `sci-eb model import`, and again in a venv rebuilt for the model's scikit-learn): the
# project root must be importable for tools and serving, whatever the working directory.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.importer.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
