"""serving.app: create_app() on a model folder, driven through Flask's test client: routes, hooks, problem+json."""

import json
import logging

import pytest
import support
from support import error_pairs, post, problem_of

import serving
from serving import ModelError

SECRET = "zz-Secret-7f3a9"  # never in an answer or a log line


@pytest.fixture
def app_log():
    """The lines the service logs, as EB would collect them."""
    lines = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler = Collect()
    logging.getLogger("serving").addHandler(handler)
    yield lines
    logging.getLogger("serving").removeHandler(handler)


def test_a_classifier_answers_one_label_and_one_probability_row_per_instance(client, classifier_dir, rows):
    response = post(client, {"instances": rows(3)}, headers={"X-Request-Id": "req-1"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    version = json.loads((classifier_dir / "schema.json").read_text())["model"]["version"]
    assert body["model"] == {"name": "sizes", "version": version} and body["classes"] == support.CLASSES
    assert len(body["predictions"]) == 3 and [len(p) for p in body["probabilities"]] == [3, 3, 3]
    assert response.headers["X-Model-Version"] == version and response.headers["X-Request-Id"] == "req-1"


def test_a_regressor_answers_numbers_without_probabilities(regressor_app, rows):
    body = post(regressor_app.test_client(), {"instances": rows(2)}).get_json()
    assert sorted(body) == ["model", "predictions"] and len(body["predictions"]) == 2


def test_the_hooks_change_what_the_model_gets_and_what_the_caller_gets(regressor_dir, rows):
    seen = []

    def before_predict(frame):
        frame = frame.copy()
        frame["rooms"] = 1.0
        return frame

    def after_predict(answer, frame):
        seen.append(frame)
        return dict(answer, rooms=frame["rooms"].tolist())

    app = serving.create_app(str(regressor_dir), before_predict=before_predict, after_predict=after_predict)
    batch = rows(2)
    body = post(app.test_client(), {"instances": batch}).get_json()
    plain = post(serving.create_app(str(regressor_dir)).test_client(), {"instances": [dict(r, rooms=1) for r in batch]})
    assert body["predictions"] == plain.get_json()["predictions"]
    assert body["rooms"] == [1.0, 1.0] and len(seen[-1]) == 2


def test_an_answer_json_cannot_carry_is_a_500_logged_with_where_it_is(regressor_dir, rows, caplog):
    # A hook dividing by zero adds inf for some rows only, past the start-up self-test: the log says where, not just
    # "unhandled ValueError" (and still no value a client sent).
    def after_predict(answer, frame):
        return dict(answer, ratio=[1.0, float("inf")][: len(frame)], band={"edges": [0.0, float("nan")]})

    app = serving.create_app(str(regressor_dir), after_predict=after_predict)
    response = post(app.test_client(), {"instances": rows(2)})
    assert response.status_code == 500
    assert response.get_json()["type"].endswith("internal-error")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "unhandled NonFiniteAnswer: answer.ratio[1] is inf or NaN, which JSON cannot carry" in logged


def test_a_hook_that_breaks_the_answer_stops_the_start_up(classifier_dir):
    with pytest.raises(ModelError, match="after_predict must keep the 'predictions' key"):
        serving.create_app(str(classifier_dir), after_predict=lambda answer, frame: {"model": answer["model"]})


def test_a_failure_while_serving_is_a_500_that_tells_nothing(classifier_dir, rows, app_log):
    def before_predict(frame):
        if len(frame) > 1:  # the start-up self-test has one row
            raise ValueError("kaboom " + SECRET)
        return frame

    app = serving.create_app(str(classifier_dir), before_predict=before_predict)
    response = post(app.test_client(), {"instances": rows(2)}, headers={"X-Request-Id": "boom-1"})
    body = problem_of(response, "internal-error", "internal-error")
    assert set(body) == {"type", "title", "status", "detail", "requestId"}
    assert SECRET not in response.get_data(as_text=True) and SECRET not in "\n".join(app_log)
    assert any(line.startswith("unhandled ValueError request_id=boom-1") for line in app_log)


def test_validation_errors_are_a_422_with_pointers_codes_and_wording(client, rows):
    row = dict(rows(1)[0], length="x", rooms=2.5, colour="purple")
    row["a/b"] = row.pop("width")  # as many members as features: each is looked at
    response = post(client, {"instances": [rows(1)[0], row]})
    body = problem_of(response, "validation-error", "validation-error.many", count=5)
    assert error_pairs(response) == [
        ("/instances/1/length", "not_a_number"),
        ("/instances/1/width", "required"),
        ("/instances/1/rooms", "not_an_integer"),
        ("/instances/1/colour", "unknown_category"),
        ("/instances/1/a~1b", "unknown_field"),
    ]
    assert body["errors"][3]["detail"] == support.CONTRACT["errors"]["feature.unknown_category"].replace(
        "{categories}", "blue, green, red"
    )


def test_more_errors_than_the_cap_are_counted_not_listed(client, rows):
    bad = [dict(r, length="x") for r in rows(50) * 3]
    response = post(client, {"instances": bad})
    cap = support.CONTRACT["maxErrors"]
    body = problem_of(response, "validation-error", "validation-error.capped", count=150)
    assert len(body["errors"]) == cap and body["errorsOmitted"] == 150 - cap
    assert body["errors"][-1]["pointer"] == "/instances/%d/length" % (cap - 1)


def test_a_field_name_with_a_lone_surrogate_comes_back_escaped_in_valid_utf8(client, rows):
    row = rows(1)[0]
    row["\ud800"] = row.pop("width")
    text = json.dumps({"instances": [row]})  # ascii JSON: "\ud800" as an escape
    response = post(client, text.encode("utf-8"))
    raw = response.get_data()
    assert b'"pointer":"/instances/0/\\ud800"' in raw
    raw.decode("utf-8")  # strict: no surrogate was encoded


@pytest.mark.parametrize(
    "body, detail",
    [(b'{"instances": [{"length": NaN}]}', "malformed-json"), (b"\xef\xbb\xbf\xef\xbb\xbf{}", "malformed-json")],
)
def test_bodies_that_are_not_json_are_a_400(client, body, detail):
    problem_of(post(client, body), "malformed-json", detail)


def test_a_byte_order_mark_is_ignored(client, rows):
    assert post(client, b"\xef\xbb\xbf" + json.dumps({"instances": rows(1)}).encode("utf-8")).status_code == 200


def test_a_body_over_the_limit_is_a_413(client):
    limit = support.LIMITS["maxBodyBytes"]
    response = post(client, b'{"instances": [' + b" " * limit + b"]}")
    problem_of(response, "body-too-large", "body-too-large", maxBodyBytes=limit)


def test_health_and_the_index(client):
    model = {"name": "sizes", "version": serving.bundle_of(client.application).version}
    assert client.get("/health").get_json() == {"status": "ok", "model": model}
    endpoints = {"predict": "POST /v1/predict", "schema": "GET /v1/schema", "health": "GET /health"}
    assert client.get("/").get_json() == {"model": model, "endpoints": endpoints}


def test_the_health_check_path_is_the_projects(classifier_dir):
    client = serving.create_app(str(classifier_dir), health_check_path="/ping").test_client()
    assert client.get("/ping").get_json()["status"] == "ok"
    assert client.get("/").get_json()["endpoints"]["health"] == "GET /ping"
    problem_of(client.get("/health"), "not-found", "not-found")
    on_root = serving.create_app(str(classifier_dir), health_check_path="/").test_client()
    assert on_root.get("/").get_json()["status"] == "ok"


@pytest.mark.parametrize("path", ["/v1/predict/", "/V1/Predict", "//v1/predict", "/v1/%70redict"])
def test_paths_match_exactly_as_sent(client, rows, path):
    # The request target as gunicorn hands it over: RAW_URI as sent, PATH_INFO percent-decoded.
    environ = {"PATH_INFO": path.replace("%70", "p"), "RAW_URI": path}
    response = client.post("/", json={"instances": rows(1)}, environ_overrides=environ)
    problem_of(response, "not-found", "not-found")


def test_an_app_mounted_under_a_prefix_matches_the_path_after_it(client):
    # gunicorn with SCRIPT_NAME=/api (its documented way to mount an app): RAW_URI is the target as sent,
    # PATH_INFO what follows the prefix.
    mounted = {"SCRIPT_NAME": "/api", "PATH_INFO": "/v1/schema", "RAW_URI": "/api/v1/schema?x=1"}
    assert client.get("/", environ_overrides=mounted).status_code == 200
    encoded = dict(mounted, RAW_URI="/api/v1/%73chema")  # still matched exactly as sent
    problem_of(client.get("/", environ_overrides=encoded), "not-found", "not-found")


def test_a_wrong_method_is_a_405_listing_the_allowed_ones(client):
    response = client.get("/v1/predict")
    problem_of(response, "method-not-allowed", "method-not-allowed")
    assert response.headers["Allow"] == "POST"
    assert client.delete("/v1/schema").headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("supplied", [None, "has space", "x" * 129])
def test_a_request_id_is_generated_unless_a_sane_one_is_sent(client, supplied):
    response = client.get("/v1/schema", headers={} if supplied is None else {"X-Request-Id": supplied})
    generated = response.headers["X-Request-Id"]
    assert generated != supplied and len(generated) == 32 and int(generated, 16) >= 0


def test_the_request_log_names_the_route_never_the_path_sent(client, app_log):
    client.get("/no/such/" + SECRET)
    post(client, {"instances": []}, headers={"X-Request-Id": "log-1"})
    assert SECRET not in "\n".join(app_log)
    assert "request_id=log-1 method=POST route=/v1/predict status=422 rows=0" in app_log[-1]


def test_the_model_folder_defaults_to_model_dir(classifier_dir, monkeypatch):
    monkeypatch.setenv("MODEL_DIR", str(classifier_dir))
    assert serving.bundle_of(serving.create_app()).name == "sizes"
    monkeypatch.setenv("MODEL_DIR", str(classifier_dir / "missing"))
    with pytest.raises(ModelError, match="missing.*run `make train`"):
        serving.create_app()


def test_the_public_schema_says_what_callers_need_not_how_the_model_was_made(client, classifier_dir):
    written = json.loads((classifier_dir / "schema.json").read_text())
    response = client.get("/v1/schema")
    assert response.status_code == 200 and response.mimetype == "application/json"
    served = response.get_json()
    assert served == {
        "schemaVersion": 1,
        "model": {k: written["model"][k] for k in ("name", "version", "task")},
        "features": written["features"],
        "target": written["target"],
        "limits": written["limits"],
    }
    assert {"sklearnVersion", "sha256", "trainedAt", "format"} <= set(written["model"])  # kept in the file, for you
