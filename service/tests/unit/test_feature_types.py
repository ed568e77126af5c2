"""Text, boolean, date, date-time and integer-coded category features (docs/contract.md, "Feature types"): their
validation, with contract.json's codes and wording; the columns the service builds for the model, in the dtype
schema.json records; and how tools.schema_derivation types a column (overrides, an MLflow signature, the model's
ColumnTransformer, dtypes) and refuses strings it cannot type."""

import json
import random

import numpy as np
import pandas as pd
import pytest
import support
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder
from support import CONTRACT

import serving
from serving import validation
from serving.bundle import check_schema, column_specs
from serving.prediction import frame_of
from serving.validation import compile_schema, validate_instances
from tools.errors import DerivationError
from tools.schema_derivation import (
    column_types_from_model,
    describe_features,
    mlflow_signature_types,
    parse_feature_types,
    request_rows,
    schema_version,
)

WORDS = CONTRACT["errors"]
YEARS = {"minYear": CONTRACT["minYear"], "maxYear": CONTRACT["maxYear"]}
TYPED = {
    "schemaVersion": 2,
    "model": {"name": "typed", "version": "0" * 12, "sha256": "0" * 64, "task": "regression"},
    "features": [
        {"name": "review", "type": "text", "nullable": False, "maxLength": 5, "dtype": "object"},
        {"name": "member", "type": "boolean", "nullable": True, "dtype": "object"},
        {"name": "joined", "type": "date", "nullable": False, "dtype": "datetime64[us]"},
        {"name": "seen", "type": "datetime", "nullable": True, "dtype": "datetime64[ns, UTC]"},
        {"name": "grade", "type": "category", "nullable": False, "categories": [1, 2, 3], "dtype": "int64"},
        {"name": "zone", "type": "category", "nullable": True, "categories": list(range(30)), "dtype": "float64"},
        {"name": "plan", "type": "category", "nullable": False, "categories": ["pro", "basic"], "dtype": "category"},
    ],
    "target": {"name": "y", "type": "number"},
    "limits": {"maxRows": 50, "maxBodyBytes": 65536},
}


def typed_row(**changes):
    row = {
        "review": "good",
        "member": True,
        "joined": "2024-02-29",
        "seen": "2026-03-04T05:06:07.5+02:00",
        "grade": 2,
        "zone": None,
        "plan": "basic",
    }
    row.update(changes)
    return row


def one_value(name, value):
    return [(e["pointer"], e["code"]) for e in validate_instances({"instances": [typed_row(**{name: value})]}, TYPED)]


def test_the_typed_schema_is_one_the_service_accepts():
    check_schema(TYPED, "schema.json")
    assert validate_instances({"instances": [typed_row(), typed_row(member=None, seen=None, zone=29.0)]}, TYPED) == []


@pytest.mark.parametrize(
    "name, value, code",
    [
        ("review", 5, "not_a_string"),
        ("review", ["good"], "not_a_string"),
        ("review", "too long", "too_long"),
        ("review", "\U0001f600" * 5, None),  # five code points (ten UTF-16 units)
        ("review", "", None),
        ("review", None, "not_nullable"),
        ("member", False, None),
        ("member", 1, "not_a_boolean"),
        ("member", 0.0, "not_a_boolean"),
        ("member", "true", "not_a_boolean"),
        ("member", np.bool_(True), None),  # a direct caller's numpy value
        ("joined", "2023-02-29", "not_a_date"),
        ("joined", "2026-01-01T00:00:00", "not_a_date"),
        ("joined", 20260101, "not_a_date"),
        ("joined", "1600-01-01", "not_a_date"),
        ("seen", "2026-03-04", "not_a_datetime"),
        ("seen", "2026-03-04 05:06:07", "not_a_datetime"),
        ("seen", "2026-03-04T05:06:07-23:59", None),
        ("seen", True, "not_a_datetime"),
        ("grade", 3, None),
        ("grade", 3.0, None),  # JSON cannot tell 3.0 from 3
        ("grade", 3.5, "unknown_category"),
        ("grade", 4, "unknown_category"),
        ("grade", "3", "not_a_number"),
        ("grade", True, "not_a_number"),  # true is not 1
        ("grade", np.int64(2), None),
        ("grade", None, "not_nullable"),
        ("zone", 1e300, "unknown_category"),
        ("plan", "pro", None),
        ("plan", 1, "not_a_string"),
        ("plan", "Pro", "unknown_category"),
    ],
)
def test_each_type_accepts_its_json_form_and_nothing_else(name, value, code):
    assert one_value(name, value) == ([] if code is None else [("/instances/0/" + name, code)])


def test_details_are_contract_json_s_sentences_filled_from_the_schema_and_the_contract():
    body = {
        "instances": [
            typed_row(review="longer", member=1, joined="x", seen="y", grade=7, zone=99, plan="gold"),
        ]
    }
    details = {e["pointer"].rsplit("/", 1)[1]: e["detail"] for e in validate_instances(body, TYPED)}
    assert details == {
        "review": WORDS["feature.too_long"].replace("{maxLength}", "5"),
        "member": WORDS["feature.not_a_boolean"],
        "joined": WORDS["feature.not_a_date"].format(**YEARS),
        "seen": WORDS["feature.not_a_datetime"].format(**YEARS),
        "grade": WORDS["feature.unknown_category"].replace("{categories}", "1, 2, 3"),
        "zone": WORDS["feature.unknown_category.many"].replace("{count}", "30"),
        "plan": WORDS["feature.unknown_category"].replace("{categories}", "pro, basic"),
    }
    assert "{" not in "".join(details.values())


def test_the_fast_path_and_the_exact_check_agree_on_every_mix_of_values():
    # _columns_look_valid answers valid requests without looking at each value in Python; it may only say "look
    # closer", never let an invalid value through.
    compiled = compile_schema(TYPED)
    pool = [None, True, False, 0, 1, 2, 2.0, 2.5, "", "good", "too long", "2024-02-29", "2026-01-01T00:00:00Z"]
    pool += ["basic", "pro", "2023-02-29", float("nan"), 1e300, [], {}]
    rng = random.Random(7)
    for _ in range(400):
        rows = [typed_row(**{f["name"]: rng.choice(pool) for f in TYPED["features"] if rng.random() < 0.3})]
        rows += [typed_row() for _ in range(rng.randint(0, 2))]
        exact = []
        validation._validate_rows(rows, compiled, exact)
        if validation._columns_look_valid(rows, compiled):
            assert exact == [], rows


def test_the_model_gets_each_column_in_the_dtype_schema_json_records():
    rows = [typed_row(), typed_row(member=None, seen=None, zone=7, joined="1970-01-02", plan="pro")]
    frame = frame_of(column_specs(TYPED["features"]), rows)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == {
        "review": str(pd.DataFrame({"r": np.array(["x"], dtype=object)})["r"].dtype),  # pandas 3: str
        "member": "object",
        "joined": "datetime64[us]",
        "seen": "datetime64[ns, UTC]",
        "grade": "int64",
        "zone": "float64",
        "plan": "category",
    }
    assert frame["member"].tolist()[0] is True and np.isnan(frame["member"].tolist()[1])
    assert frame["joined"].tolist() == [pd.Timestamp("2024-02-29"), pd.Timestamp("1970-01-02")]
    assert frame["seen"][0] == pd.Timestamp("2026-03-04T03:06:07.5Z") and pd.isna(frame["seen"][1])
    assert list(frame["plan"].cat.categories) == ["pro", "basic"]  # the training order: codes mean the same
    assert frame["plan"].cat.codes.tolist() == [1, 0] and np.isnan(frame["zone"][0]) and frame["zone"][1] == 7.0


def test_a_date_time_for_a_naive_model_is_its_utc_wall_clock_time():
    features = [{"name": "t", "type": "datetime", "nullable": False, "dtype": "datetime64[ns]"}]
    rows = [{"t": "2026-03-04T05:06:07+02:00"}, {"t": "2026-03-04T05:06:07"}, {"t": "2026-03-04T05:06:07Z"}]
    frame = frame_of(column_specs(features), rows)
    assert frame["t"].dt.tz is None
    assert frame["t"].tolist() == [pd.Timestamp("2026-03-04T03:06:07")] + [pd.Timestamp("2026-03-04T05:06:07")] * 2
    features[0]["dtype"] = "datetime64[us, Europe/Paris]"
    paris = frame_of(column_specs(features), rows)
    assert str(paris["t"].dtype) == "datetime64[us, Europe/Paris]"
    assert paris["t"][0] == pd.Timestamp("2026-03-04T04:06:07+01:00")


def typed_frame(rows=80, seed=3):
    """A frame as a data scientist has it: real bool, datetime64 and category dtypes, a nullable integer."""
    rng = np.random.RandomState(seed)
    member = pd.array(rng.rand(rows) > 0.5, dtype="boolean")
    member[::10] = pd.NA
    seen = pd.Series(pd.to_datetime("2026-01-01") + pd.to_timedelta(rng.randint(0, 10**6, rows), unit="s"))
    return pd.DataFrame(
        {
            "flag": rng.rand(rows) > 0.3,
            "member": member,
            "joined": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.randint(0, 2000, rows), unit="D"),
            "seen": seen,
            "seen_utc": seen.dt.tz_localize("UTC"),
            "plan": pd.Categorical(rng.choice(["pro", "basic"], rows), categories=["pro", "basic", "free"]),
            "rooms": pd.array(rng.randint(1, 5, rows), dtype="Int64"),
            "ratio": rng.rand(rows),
        }
    )


def test_dtypes_say_what_a_column_is_and_the_frame_round_trips_through_json():
    raw = typed_frame()
    frame, features = describe_features(raw, log=lambda _line: None, types={})
    by_name = {f["name"]: f for f in features}
    assert {f["name"]: f["type"] for f in features} == {
        "flag": "boolean",
        "member": "boolean",
        "joined": "date",
        "seen": "datetime",
        "seen_utc": "datetime",
        "plan": "category",
        "rooms": "integer",
        "ratio": "number",
    }
    assert by_name["flag"]["dtype"] == "bool" and by_name["member"] == {
        "name": "member",
        "type": "boolean",
        "nullable": True,
        "dtype": "object",
    }
    assert by_name["plan"]["categories"] == ["pro", "basic", "free"] and by_name["plan"]["dtype"] == "category"
    assert by_name["joined"]["dtype"] == str(raw["joined"].dtype)
    assert by_name["seen_utc"]["dtype"] == str(raw["seen_utc"].dtype)
    assert by_name["joined"]["observedMin"] == raw["joined"].min().strftime("%Y-%m-%d")
    rows = request_rows(frame, features)
    assert rows[0]["seen_utc"].endswith("Z") and not rows[0]["seen"].endswith("Z") and type(rows[0]["flag"]) is bool
    assert rows[0]["seen_utc"][:-1] == rows[0]["seen"]
    schema = dict(TYPED, features=features, limits={"maxRows": 1000, "maxBodyBytes": 1 << 20})
    check_schema(schema, "schema.json")
    assert validate_instances({"instances": json.loads(json.dumps(rows))}, schema) == []
    again = frame_of(column_specs(features), json.loads(json.dumps(rows)))
    pd.testing.assert_frame_equal(again, frame.reset_index(drop=True))
    for name in ("joined", "seen", "seen_utc", "flag", "rooms", "ratio"):
        assert (frame[name].dropna() == raw[name].dropna()).all()


def test_without_types_features_are_described_as_schema_version_1_did():
    # A train.py from before version 2 calls describe_features(frame) and writes schemaVersion 1.
    raw = pd.DataFrame({"flag": [True, False, True], "n": [1, 2, 3], "c": ["a", None, "b"]})
    _frame, features = describe_features(raw, log=lambda _line: None)
    assert features == [
        {"name": "flag", "type": "category", "nullable": False, "categories": ["False", "True"]},
        {"name": "n", "type": "integer", "nullable": False, "observedMin": 1, "observedMax": 3},
        {"name": "c", "type": "category", "nullable": True, "categories": ["a", "b"]},
    ]


def reviews(rows=60, seed=5):
    rng = np.random.RandomState(seed)
    words = ["great", "bad", "fine", "awful", "love", "hate", "ok", "slow", "fast"]
    region = rng.choice(["north", "south", "east"], rows).astype(object)
    region[::7] = None
    return pd.DataFrame(
        {
            "review": [" ".join(rng.choice(words, rng.randint(1, 6))) for _ in range(rows)],
            "title": [" ".join(rng.choice(words, 2)) for _ in range(rows)],
            "grade": rng.randint(1, 4, rows),
            "region": region,
            "size": rng.choice(["S", "M"], rows),
            "x": rng.randn(rows),
        }
    )


def fitted(frame, transformers, labels=None):
    labels = (frame["x"] > 0).astype(int) if labels is None else labels
    return Pipeline([("prep", ColumnTransformer(transformers)), ("clf", LogisticRegression(max_iter=1000))]).fit(
        frame, labels
    )


def test_the_model_says_which_columns_are_text_and_which_are_categories_with_its_own_categories():
    data = reviews()
    impute_then_encode = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", categories=[["east", "north", "south", "west"]])),
        ]
    )
    model = fitted(
        data,
        [
            ("text", TfidfVectorizer(), "review"),
            ("title", Pipeline([("count", CountVectorizer())]), "title"),
            ("grade", OneHotEncoder(handle_unknown="ignore"), ["grade"]),
            ("region", impute_then_encode, [3]),  # by position
            ("size", OrdinalEncoder(), ["size"]),
            ("x", "passthrough", ["x"]),
        ],
    )
    found = column_types_from_model(model)
    assert {name: (f["type"], f.get("categories")) for name, f in found.items()} == {
        "review": ("text", None),
        "title": ("text", None),
        "grade": ("category", [1, 2, 3]),
        # The encoder's categories ("west" too, which the data lacks), without the imputer's stand-in for null.
        "region": ("category", ["east", "north", "south", "west"]),
        "size": ("category", ["M", "S"]),
    }
    assert "TfidfVectorizer, ColumnTransformer step 'text'" in found["review"]["by"]
    notes = []
    frame, features = describe_features(data, log=notes.append, types={}, model=model)
    by_name = {f["name"]: f for f in features}
    assert by_name["review"] == {
        "name": "review",
        "type": "text",
        "nullable": False,
        "maxLength": 10000,
        "dtype": "object",
    }
    assert by_name["grade"] == {
        "name": "grade",
        "type": "category",
        "nullable": False,
        "categories": [1, 2, 3],
        "dtype": "int64",
    }
    assert by_name["region"]["categories"] == ["east", "north", "south", "west"] and by_name["region"]["nullable"]
    assert "note: column 'grade' is an integer-coded category (the model's OneHotEncoder" in "\n".join(notes)
    assert (model.predict(frame) == model.predict(data)).all()


def test_a_column_the_model_says_nothing_about_is_refused_with_what_its_values_look_like():
    data = reviews()
    data["when"] = pd.Series(pd.date_range("2026-01-01", periods=len(data), freq="D").strftime("%Y-%m-%d"))
    data["at"] = pd.Series(pd.date_range("2026-01-01", periods=len(data), freq="h").strftime("%Y-%m-%dT%H:%M:%S"))
    data["yes"] = np.where(np.arange(len(data)) % 2, "true", "false")
    model = Pipeline([("wrap", FunctionTransformer(lambda f: f[["x"]])), ("clf", LogisticRegression())]).fit(
        data, (data["x"] > 0).astype(int)
    )
    with pytest.raises(DerivationError) as caught:
        describe_features(data, log=lambda _line: None, types={}, model=model)
    message = str(caught.value)
    assert message.startswith("the model does not say what these columns of strings are")
    for column, guess in [
        ("review", "text"),
        ("region", "category"),
        ("when", "date"),
        ("at", "datetime"),
        ("yes", "boolean"),
        ("title", "text"),  # mostly distinct, with spaces
        ("size", "category"),
    ]:
        assert "--feature-type %s=%s)" % (column, guess) in message, column
    assert "grade" not in message and "x (" not in message  # numbers are typed by their dtype
    # Told, it describes them; an override wins over the model and the dtype.
    told = {"review": "text", "title": "text", "region": "category", "size": "category", "when": "date"}
    told.update({"at": "datetime", "yes": "boolean", "grade": "category"})
    _frame, features = describe_features(data, log=lambda _line: None, types=told, model=model)
    assert {f["name"]: f["type"] for f in features} == dict(told, x="number")
    assert {f["name"]: f for f in features}["grade"]["categories"] == [1, 2, 3]


def test_without_a_model_strings_are_categories_and_free_text_gets_a_hint():
    data = pd.DataFrame({"id": ["id%d" % i for i in range(150)]})
    notes = []
    _frame, features = describe_features(data, log=notes.append, types={})
    assert features[0]["type"] == "category"
    assert "has 150 distinct values, each of them a category every request must match" in notes[0]
    assert notes[0].endswith("is it really a feature? (free text is --feature-type id=text)")


@pytest.mark.parametrize(
    "values, hint",
    [
        (
            ["2024-%02d-%02d" % (1 + i // 28, 1 + i % 28) for i in range(150)],
            "They look like dates: --feature-type x=date",
        ),
        (["2024-01-01T%02d:%02d:00" % (i % 24, i % 60) for i in range(150)], "date-times: --feature-type x=datetime"),
        (["word %d and more" % i for i in range(150)], "They look like text: --feature-type x=text"),
    ],
)
def test_without_a_model_a_column_of_many_values_is_told_what_they_look_like(values, hint):
    # A CSV's dates are strings to pandas: made a closed list, every later date would be refused (a helper's CSV did
    # this with 201 days). The note names the option that types them.
    notes = []
    describe_features(pd.DataFrame({"x": values}), log=notes.append, types={})
    assert hint in notes[0]


def test_text_accepts_at_least_the_longest_training_value():
    _frame, features = describe_features(pd.DataFrame({"t": ["a" * 12345, "b"]}), log=print, types={"t": "text"})
    assert features[0]["maxLength"] == 12345


def test_values_that_do_not_fit_the_type_given_are_refused_by_column():
    cases = [
        (pd.DataFrame({"d": ["2026-01-01", "soon"]}), {"d": "date"}, "column 'd' is typed date but has values that"),
        (pd.DataFrame({"d": ["2026-01-01T10:00:00"]}), {"d": "date"}, "column 'd' is typed date but has times of day"),
        (pd.DataFrame({"d": ["1500-01-01"]}), {"d": "date"}, "column 'd' has dates outside the years 1678 to 2261"),
        (pd.DataFrame({"b": ["yes", "maybe"]}), {"b": "boolean"}, "column 'b' is typed boolean but has values"),
        (pd.DataFrame({"n": ["1", "x"]}), {"n": "number"}, "column 'n' is typed number but has values that are not"),
        (pd.DataFrame({"n": [1.5]}), {"n": "integer"}, "column 'n' is typed integer but has values that are not whole"),
        (pd.DataFrame({"n": [1]}), {"m": "text"}, "a type is given for column(s) the data does not have: m"),
    ]
    for data, types, message in cases:
        with pytest.raises(DerivationError, match="^" + message.replace("(", "\\(").replace(")", "\\)")):
            describe_features(data, log=lambda _line: None, types=types)


def test_feature_type_overrides_and_mlflow_signatures_become_types():
    assert parse_feature_types(["a=text", "b=date,c=boolean", "x=y=category"]) == {
        "a": "text",
        "b": "date",
        "c": "boolean",
        "x=y": "category",  # the last "=" separates: a column name may contain one
    }
    for bad in (["a"], ["a=free"], ["=text"]):
        with pytest.raises(DerivationError, match="--feature-type .*: give NAME=TYPE, TYPE one of number, integer"):
            parse_feature_types(bad)
    signature = [
        {"name": "income", "type": "double"},
        {"name": "years", "type": "long"},
        {"name": "member", "type": "boolean"},
        {"name": "seen", "type": "datetime"},
        {"name": "region", "type": "string"},
    ]
    assert mlflow_signature_types(signature) == {
        "income": "number",
        "years": "integer",
        "member": "boolean",
        "seen": "datetime",
    }
    with pytest.raises(DerivationError, match="types column 'photo' as 'binary'"):
        mlflow_signature_types([{"name": "photo", "type": "binary"}])


def days(frame):
    """A notebook's date feature: days since 2020 (it needs datetime64: strings would fail on the subtraction)."""
    return (frame[["joined"]] - pd.Timestamp("2020-01-01")) / pd.Timedelta(days=1)


def test_a_text_boolean_and_date_model_is_served_as_it_predicts(tmp_path):
    data = reviews()
    data["member"] = np.arange(len(data)) % 3 == 0
    data["joined"] = pd.Series(pd.date_range("2020-01-01", periods=len(data), freq="7D"))
    labels = (data["x"] > 0).astype(int)
    data = data[["review", "grade", "member", "joined"]]
    model = fitted(
        data,
        [
            ("text", TfidfVectorizer(), "review"),
            ("grade", OneHotEncoder(handle_unknown="ignore"), ["grade"]),
            ("member", "passthrough", ["member"]),
            ("joined", FunctionTransformer(days), ["joined"]),
        ],
        labels,
    )
    frame, features = describe_features(data, log=lambda _line: None, types={}, model=model)
    assert [f["type"] for f in features] == ["text", "category", "boolean", "date"]
    support.write_folder(tmp_path, "typed", model, features, "y", fmt="joblib")
    client = serving.create_app(str(tmp_path)).test_client()
    rows = request_rows(frame, features)
    answer = json.loads(support.post(client, {"instances": rows[:20]}).get_data(as_text=True))
    assert answer["predictions"] == model.predict(data.iloc[:20]).tolist() and answer["classes"] == [0, 1]
    unseen = dict(rows[0], review="a review in words the model never saw", joined="2031-12-31")
    assert support.post(client, {"instances": [unseen]}).status_code == 200
    bad = dict(rows[0], review=7, grade=9, member="yes", joined="31/12/2031")
    assert support.error_pairs(support.post(client, {"instances": [bad]})) == [
        ("/instances/0/review", "not_a_string"),
        ("/instances/0/grade", "unknown_category"),
        ("/instances/0/member", "not_a_boolean"),
        ("/instances/0/joined", "not_a_date"),
    ]


def test_the_schema_version_written_is_the_lowest_that_says_it():
    number = {"name": "x", "type": "number", "nullable": False, "dtype": "float64"}
    words = {"name": "c", "type": "category", "nullable": False, "categories": ["a"], "dtype": "object"}
    coded = {"name": "g", "type": "category", "nullable": False, "categories": [1], "dtype": "int64"}
    text = {"name": "t", "type": "text", "nullable": False, "maxLength": 9, "dtype": "object"}
    labels = {"name": "y", "type": "category", "classes": ["a", "b"], "outputs": ["probabilities"]}
    # What an older service or gateway can read stays version 1: they ignore the dtype and outputs members.
    assert schema_version([number, words], labels) == 1
    assert schema_version([number], {"name": "y", "type": "number"}) == 1
    assert schema_version([number, coded], labels) == 2
    assert schema_version([text], labels) == 2
    assert schema_version([dict(words, dtype="category")], labels) == 2
    assert schema_version([number], dict(labels, classes=[0, 1])) == 2
    assert schema_version([number], dict(labels, outputs=["scores"])) == 2
    assert schema_version([number], {"name": "c", "type": "cluster"}) == 2
