"""Bring your own model: replace model/ with a scikit-learn model you trained elsewhere (a notebook, MLflow).

    .venv/bin/python tools/import_model.py PATH [--sample CSV] [--target COLUMN] [--trust-pickle] [--trust-type T,...]
                                           [--trust-mlflow-types] [--code PATH] [--feature-type NAME=TYPE]
    make import MODEL=PATH SAMPLE=CSV [TARGET=COLUMN] [IMPORT_FLAGS="--trust-pickle --code my_code.py"]
    sci-eb model import PATH --sample CSV ...                 (the same, from the generator's launcher)

PATH is a scikit-learn estimator or Pipeline (LightGBM, XGBoost and CatBoost estimators included, alone or as steps)
saved with skops, joblib or pickle, or an MLflow model folder of the sklearn flavor. Feature types come from
--feature-type NAME=TYPE (number, integer, category, text, boolean, date, datetime), then the MLflow signature, then
the model's own preprocessing (the columns a text vectorizer reads are text, those an encoder reads categories with the
encoder's categories), then the sample's dtypes; a column of strings none of them types is refused by name, with the
type its values suggest. The sample (a CSV of rows the model accepts; the target column may be in it) supplies
nullability and observed ranges, and the rows the import proves the model on; it is not copied into model/. An MLflow
folder saved with a signature and an input example needs no sample: the example's rows, typed by the signature, stand
in for it. Classifiers (with or without predict_proba), regressors, clustering models (KMeans...) and outlier detectors
(IsolationForest...) are imported; docs/contract.md has the answer of each.

First, in seconds and before anything is loaded or installed, everything the bytes decide: the format; trust (a
pickle needs --trust-pickle; a skops type beyond skops' defaults needs --trust-type, or --trust-mlflow-types for the
ones an MLflow folder lists as trusted); the modules the model names (read without loading it) and where each comes
from: Python, this project's pins, LightGBM/XGBoost/CatBoost (pinned at the version the model records, else the one
this venv has, else library-pins.txt's, with binary wheels for the EB Python and architecture, XGBoost as xgboost-cpu),
or your own code, which only --code brings in (a .py file, a package, or a folder of modules such as MLflow's code/):
it is copied into model_code/, which the service puts on its import path, and runs whenever the model loads. Every
problem is listed with its fix. Then nothing changes until the new model is proven: re-saved as this project's format
with its sha256, loaded back the way the service loads it, its predictions on the sample equal the original's in
process and over HTTP from the service started with the Procfile's command; only then are model/ (and model_code/)
swapped for the new folders. On the onnx runtime (serving/settings.py) the model is also converted to model.onnx and
proven on the sample (the same labels, probabilities within 1e-5) before anything is written; a step neither skl2onnx
nor onnxmltools (LightGBM, XGBoost) can convert is refused by name (CatBoost and your own code need the sklearn
runtime), and so is a TfidfVectorizer/CountVectorizer whose vocabulary has words of non-ASCII letters, which
onnxruntime's tokenizer cannot match (docs/runtime.md, "Text"). There LightGBM and XGBoost are build-time libraries,
pinned in requirements-dev.txt, and so is scikit-learn.

The environment follows the model. A model written by another scikit-learn than requirements.txt pins: its version
(with numpy/scipy/pandas/joblib that have binary wheels for the EB Python and architecture, resolved by pip) replaces
those pins in requirements.txt and requirements-dev.txt, the libraries it needs are added, the venv is rebuilt from
them as `make venv` does, and the import runs again in it; the new pins stay only if it is proven, else the old
requirement files and venv are put back. Libraries alone are installed into the venv as it is, pinned in
requirements.txt (requirements-dev.txt on the onnx runtime) once the model is proven, and uninstalled again if it is
not. --keep-pins: refuse and print them.

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
