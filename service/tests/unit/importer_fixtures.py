"""Small models and files for the importer's unit tests: iris-sized, fitted in milliseconds, saved the ways a
notebook saves them (skops, joblib, an MLflow folder laid out by hand, as mlflow.sklearn.save_model lays it out)."""

import functools
import json
import os
import pickle
import re

import joblib
import sklearn
import skops.io as sio
from sklearn.datasets import load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

IRIS_COLUMNS = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]


@functools.lru_cache(maxsize=None)
def iris():
    """-> (features with the generated project's column names, species names)."""
    data = load_iris(as_frame=True)
    features = data.data.copy()
    features.columns = IRIS_COLUMNS
    return features, data.target.map(dict(enumerate(data.target_names))).astype(str)


@functools.lru_cache(maxsize=None)
def classifier():
    """A fitted Pipeline that knows its column names (feature_names_in_). Shared: tests must not refit it."""
    features, species = iris()
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(features, species)


@functools.lru_cache(maxsize=None)
def unnamed_classifier():
    """The same, fitted on a bare array as older code does: no feature_names_in_, only n_features_in_."""
    features, species = iris()
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(features.to_numpy(), species)


@functools.lru_cache(maxsize=None)
def regressor():
    """Petal width from the other three columns."""
    features, _species = iris()
    return LinearRegression().fit(features[IRIS_COLUMNS[:3]], features["petal_width_cm"])


def sample_csv(folder, name="sample.csv", every=10, target=True):
    """Every `every`-th iris row as a CSV, with the species column when `target`."""
    features, species = iris()
    rows = features.iloc[::every].copy()
    if target:
        rows["species"] = species.iloc[::every]
    path = os.path.join(str(folder), name)
    rows.to_csv(path, index=False)
    return path


def skops_file(folder, model=None, name="model.skops"):
    path = os.path.join(str(folder), name)
    sio.dump(classifier() if model is None else model, path)
    return path


def joblib_file(folder, model=None, name="model.joblib", compress=0):
    path = os.path.join(str(folder), name)
    joblib.dump(classifier() if model is None else model, path, compress=compress)
    return path


def pickle_from_another_sklearn(folder, name="old.pkl"):
    """-> (path, version): a pickle whose estimators say another scikit-learn wrote them, as a model from an older
    notebook does. The version string keeps its length, so the pickle stays valid."""
    blob = pickle.dumps(classifier())
    current = sklearn.__version__.encode("ascii")
    other = ("1.0." + "9" * len(current))[: len(current)]
    blob = re.sub(rb"(_sklearn_version.{1,12}?)" + re.escape(current), lambda m: m.group(1) + other.encode(), blob)
    path = os.path.join(str(folder), name)
    with open(path, "wb") as fh:
        fh.write(blob)
    return path, other


def mlflow_folder(folder, serialization="skops", sklearn_version=None, signature=True, requirements=None):
    """An MLflow sklearn model folder: MLmodel, the model file it names, and optionally requirements.txt."""
    os.makedirs(str(folder), exist_ok=True)
    model_file = "model.skops" if serialization == "skops" else "model.pkl"
    if serialization == "skops":
        skops_file(folder, name=model_file)
    else:
        with open(os.path.join(str(folder), model_file), "wb") as fh:
            pickle.dump(classifier(), fh)
    flavor = {"pickled_model": model_file, "serialization_format": serialization}
    if sklearn_version:
        flavor["sklearn_version"] = sklearn_version
    meta = {"flavors": {"python_function": {"loader_module": "mlflow.sklearn"}, "sklearn": flavor}}
    if signature:
        # MLflow writes the signature's inputs as a JSON string inside the YAML.
        meta["signature"] = {"inputs": json.dumps([{"name": c, "type": "double"} for c in IRIS_COLUMNS])}
    with open(os.path.join(str(folder), "MLmodel"), "w", encoding="utf-8") as fh:
        json.dump(meta, fh)  # JSON is YAML
    if requirements is not None:
        with open(os.path.join(str(folder), "requirements.txt"), "w", encoding="utf-8") as fh:
            fh.write(requirements)
    return str(folder)
