"""Text features on the onnx runtime (tools/onnx_text.py): TfidfVectorizer and CountVectorizer in a ColumnTransformer
convert and answer as scikit-learn does on held-out rows with words never seen in training, lowercased with a locale
every AL2023 instance has; a vocabulary the converted tokenizer could not match is refused, naming its words."""

import os

import numpy as np
import onnx
import pandas as pd
import pytest
import support
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from serving import load_model, settings
from serving.prediction import build_frame, predict
from tools.onnx_conversion import ConversionError
from tools.onnx_text import LOCALE
from tools.schema_derivation import describe_features

GOOD = ["great value, works well", "Love it: GREAT quality", "works as described", "excellent and sturdy product"]
BAD = ["terrible, broke after a day", "awful. Do not buy", "bad quality and it broke", "cheap and flimsy"]
# Held out: words never seen in training (zebra, ukulele, 42), capitals, punctuation, an empty review.
UNSEEN = [
    "GREAT zebra ukulele",
    "broke, broke, BROKE!",
    "works? 42 times over",
    "",
    "never seen these words",
    "flimsy but excellent",
]


@pytest.fixture(autouse=True)
def onnx_project(monkeypatch):
    monkeypatch.setattr(settings, "RUNTIME", "onnx")


def reviews(texts, rng):
    return pd.DataFrame(
        {
            "review": texts,
            "stars": rng.integers(1, 6, len(texts)).astype(float),
            "channel": rng.choice(["web", "store"], len(texts)),
        }
    )


def served(tmp_path, model, train, held_out, target="sentiment"):
    # types={}: schemaVersion 2's inference (text among the types), as train.py and the importer describe features
    _frame, features = describe_features(train, log=lambda *a: None, types={}, model=model)
    proof, _same = describe_features(held_out, log=lambda *a: None, types={}, model=model)
    schema = support.write_folder(tmp_path, "m", model, features, target, runtime="onnx", proof_frame=proof)
    return load_model(str(tmp_path)), schema, support.valid_rows(proof, features)


@pytest.mark.parametrize("vectorizer", [TfidfVectorizer, CountVectorizer])
@pytest.mark.parametrize("task", ["classifier", "regressor"])
def test_text_vectorizers_convert_and_answer_as_scikit_learn_on_unseen_words(tmp_path, vectorizer, task):
    rng = np.random.default_rng(0)
    train = reviews((GOOD + BAD) * 10, rng)
    held_out = reviews(UNSEEN + GOOD[:2] + BAD[:2], rng)
    labels = (["good"] * len(GOOD) + ["bad"] * len(BAD)) * 10
    target = labels if task == "classifier" else [1.0 if label == "good" else 0.0 for label in labels]
    model = make_pipeline(
        ColumnTransformer(
            [
                ("text", vectorizer(), "review"),
                ("channel", OneHotEncoder(handle_unknown="ignore"), ["channel"]),
                ("stars", "passthrough", ["stars"]),
            ]
        ),
        LogisticRegression(max_iter=1000) if task == "classifier" else Ridge(),
    ).fit(train, target)
    bundle, schema, rows = served(tmp_path, model, train, held_out)
    assert [f["type"] for f in schema["features"]] == ["text", "number", "category"]
    parity = schema["model"]["onnx"]["parity"]
    assert parity["rows"] == len(held_out) and parity["largestDifference"] <= parity["tolerance"]
    # Served as the service serves it, row by row against the pipeline itself
    answer = predict(bundle, rows)
    frame = build_frame(bundle, rows)
    if task == "classifier":
        assert answer["predictions"] == model.predict(frame).tolist()
        assert np.abs(np.array(answer["probabilities"]) - model.predict_proba(frame)).max() <= 1e-5
    else:
        expected = model.predict(frame)
        assert (np.abs(np.array(answer["predictions"]) - expected) / np.maximum(np.abs(expected), 1)).max() <= 1e-5
    # The graph names its locale: onnxruntime's default (en_US.UTF-8) is missing from minimal Linux images
    graph = onnx.load(os.path.join(str(tmp_path), "model.onnx")).graph
    normalizers = [n for n in graph.node if n.op_type == "StringNormalizer"]
    assert normalizers, "a lowercasing vectorizer converts with a StringNormalizer"
    for node in normalizers:
        assert {a.name: a.s.decode() for a in node.attribute}.get("locale") == LOCALE


def refusal(tmp_path, vectorizer, texts, labels):
    """The onnx runtime's refusal of a text model fitted on `texts` with `vectorizer`: its message, nothing written."""
    train = reviews(texts, np.random.default_rng(1))[["review"]]
    model = make_pipeline(ColumnTransformer([("text", vectorizer, "review")]), LogisticRegression(max_iter=1000)).fit(
        train, labels
    )
    with pytest.raises(ConversionError) as caught:
        served(tmp_path, model, train, train)
    assert list(tmp_path.iterdir()) == []
    message = str(caught.value)
    assert "step columntransformer/text (TfidfVectorizer)" in message and "stay on --runtime sklearn" in message
    return message


def test_a_vocabulary_the_converted_tokenizer_cannot_match_is_refused_naming_the_words(tmp_path):
    texts = ["un café délicieux", "straße gesperrt", "great coffee", "bad coffee"] * 10
    message = refusal(tmp_path, TfidfVectorizer(), texts, ["good", "bad", "good", "bad"] * 10)
    assert "ASCII letters only" in message and "café, délicieux, straße" in message


def test_word_pairs_are_refused_since_the_graph_forms_them_otherwise(tmp_path):
    # A tester's bigram model passed the proof on its sample, then differed by up to 0.21 on text with one-letter
    # words, which scikit-learn drops before it pairs the words around them (tools/onnx_text.py).
    labels = (["good"] * 4 + ["bad"] * 4) * 5
    message = refusal(tmp_path, TfidfVectorizer(ngram_range=(1, 2)), (GOOD + BAD) * 5, labels)
    assert "word n-grams up to 2 words (ngram_range=(1, 2))" in message and "one-character words" in message
    assert "ngram_range=(1, 1)" in message
