"""Your tests of application.py: how to test a hook. The contract itself (validation, errors, limits) is tested by
tests/contract/, which `sci-eb upgrade` keeps current; these tests are yours to change.
"""

import json

import application
from serving import create_app
from serving.prediction import example_row


def predict(app, rows):
    response = app.test_client().post(
        "/v1/predict", data=json.dumps({"instances": rows}), content_type="application/json"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_service_answers_with_your_hooks(model_dir):
    schema = json.load(open(model_dir + "/schema.json"))
    body = predict(application.application, [example_row(schema)])
    assert len(body["predictions"]) == 1
    assert body["model"]["version"] == schema["model"]["version"]


def test_a_hook_sees_the_validated_rows_and_shapes_the_answer(model_dir):
    # An app of your own from the same model, with hooks that record what they get: the pattern for testing yours.
    seen = []

    def before_predict(frame):
        seen.append(list(frame.columns))
        return frame

    def after_predict(answer, frame):
        answer["rows"] = len(frame)
        return answer

    app = create_app(model_dir, before_predict=before_predict, after_predict=after_predict)
    schema = json.load(open(model_dir + "/schema.json"))
    body = predict(app, [example_row(schema), example_row(schema)])
    assert body["rows"] == 2
    assert seen[-1] == [f["name"] for f in schema["features"]]


def test_hooks_do_not_run_for_invalid_requests(model_dir):
    calls = []
    app = create_app(model_dir, before_predict=lambda frame: calls.append(1) or frame)
    calls.clear()  # the start-up self-test ran the hook once
    response = app.test_client().post("/v1/predict", data="{}", content_type="application/json")
    assert response.status_code == 422 and calls == []


def test_invalid_requests_get_the_contracts_answer_whatever_the_hooks(model_dir):
    # Hooks run on valid requests only: a bad one is answered by the service core exactly as without hooks.
    plain = create_app(model_dir).test_client()
    yours = application.application.test_client()
    for body in ("{}", '{"instances": []}', "not json", '{"instances": [{"nope": 1}]}'):
        answers = [
            client.post("/v1/predict", data=body, content_type="application/json", headers={"X-Request-Id": "same"})
            for client in (plain, yours)
        ]
        assert [a.status_code for a in answers] == [answers[0].status_code] * 2 and answers[0].status_code >= 400
        assert answers[0].get_data() == answers[1].get_data()
