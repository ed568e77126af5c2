"""A LightGBM or XGBoost classifier of a typical size for the runtime benchmark (case 5), as a notebook makes one:

    <venv with the library>/bin/python bench/library_model.py lightgbm|xgboost SCHEMA.json MODEL.joblib SAMPLE.csv \
        [ROUNDS]

Fitted on the project's iris features (names from its schema.json), the 150 rows jittered into 3000 so that the
trees grow as they do on real data (iris itself is separated by a few shallow splits), 300 boosting rounds (900
trees, one per class and round); the model is written with joblib and 200 rows of features (no target) as the
import sample that proves it. The labels are the class indices: XGBoost wants 0..n-1, and the same for both keeps
the two services' answers alike. ROUNDS (default 300) is for the bench's smoke run, which fits a few: the same code,
a model that means nothing.
"""

import json
import sys

import joblib
import numpy as np
import pandas as pd
from sklearn.datasets import load_iris

ROUNDS = 300


def main(library, schema_path, model_path, sample_path, rounds=ROUNDS):
    rounds = int(rounds)
    with open(schema_path, encoding="utf-8") as fh:
        names = [f["name"] for f in json.load(fh)["features"]]
    iris = load_iris()
    rng = np.random.RandomState(0)
    copies = 20
    X = np.repeat(iris.data, copies, axis=0) + rng.normal(0, 0.25, (len(iris.data) * copies, iris.data.shape[1]))
    y = np.repeat(iris.target, copies)
    frame = pd.DataFrame(X.round(2), columns=names)
    if library == "lightgbm":
        import lightgbm

        model = lightgbm.LGBMClassifier(n_estimators=rounds, verbose=-1, random_state=0)
    else:
        import xgboost

        model = xgboost.XGBClassifier(n_estimators=rounds, max_depth=6, random_state=0)
    model.fit(frame, y)
    joblib.dump(model, model_path)
    frame.sample(200, random_state=1).to_csv(sample_path, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:6])
