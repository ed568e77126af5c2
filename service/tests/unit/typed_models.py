"""Models a data scientist fits on typed columns, for the importer's tests of feature types and model kinds: a review
text read by a TfidfVectorizer, a membership flag, a date turned into days by their own function, a grade one-hot
encoded; a clustering model and a classifier without probabilities. Their module is importable by the service the
import starts, so a pickle of them loads there."""

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC

WORDS = ["great", "bad", "fine", "awful", "love", "hate", "ok", "slow", "fast", "cheap"]


def days_since_2020(frame):
    """Dates as numbers, as a notebook does it: needs datetime64 (strings fail on the subtraction)."""
    return (frame - pd.Timestamp("2020-01-01")) / pd.Timedelta(days=1)


def typed_data(rows=120, seed=11):
    """(features as the notebook had them, integer labels 0/1)."""
    rng = np.random.RandomState(seed)
    review = [" ".join(rng.choice(WORDS, rng.randint(2, 7))) for _ in range(rows)]
    frame = pd.DataFrame(
        {
            "review": review,
            "member": rng.rand(rows) > 0.4,
            "joined": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.randint(0, 2000, rows), unit="D"),
            "grade": rng.randint(1, 5, rows),
            "spend": rng.gamma(2.0, 30.0, rows).round(2),
        }
    )
    liked = frame["review"].str.contains("great|love|fast").to_numpy()
    labels = (liked ^ (frame["grade"].to_numpy() > 3)).astype(int)
    return frame, pd.Series(labels, name="churned")


def typed_classifier(frame, labels, estimator=None):
    prep = ColumnTransformer(
        [
            ("text", TfidfVectorizer(), "review"),
            ("grade", OneHotEncoder(handle_unknown="ignore"), ["grade"]),
            ("joined", FunctionTransformer(days_since_2020), ["joined"]),
            ("rest", "passthrough", ["member", "spend"]),
        ]
    )
    return Pipeline(
        [("prep", prep), ("scale", StandardScaler(with_mean=False)), ("model", estimator or LogisticRegression())]
    ).fit(frame, labels)


def linear_svc(frame, labels):
    return typed_classifier(frame, labels, LinearSVC())


def clusters(frame):
    numbers = frame[["spend", "grade"]]
    return Pipeline([("scale", StandardScaler()), ("model", KMeans(n_clusters=3, n_init=3, random_state=0))]).fit(
        numbers
    )
