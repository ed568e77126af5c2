"""tools/importer/proof.py: the original model's answers, and the re-saved one's in process and over HTTP."""

import json
import os
import socket
import textwrap
from types import SimpleNamespace

import pytest
from importer_fixtures import IRIS_COLUMNS, classifier, regressor, sample_csv

from tools.importer import ImportRefused, proof
from tools.importer.proof import (
    FRAME_HINT,
    compare,
    prove_in_process,
    reference_answer,
    serve_and_compare,
    web_command,
)
from tools.importer.schema import derive_schema_parts, import_schema, read_plain, read_sample
from tools.schema_derivation import request_rows, write_model_folder

LABELS = {"predictions": ["setosa", "virginica"], "probabilities": [[0.9, 0.05, 0.05], [0.1, 0.2, 0.7]]}

# A stand-in for the service, started by serve_and_compare from a Procfile as gunicorn would be: it answers the
# health check, and /v1/predict from answers.json by each row's "i", refusing batches over maxRows as the service does.
FAKE_SERVICE = textwrap.dedent(
    """
    import json, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer

    host, port = sys.argv[sys.argv.index("--bind") + 1].split(":")
    with open("answers.json") as fh:
        answers = json.load(fh)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.send(200, {"status": "ok"})

        def do_POST(self):
            rows = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["instances"]
            if len(rows) > answers["maxRows"]:
                return self.send(413, {"title": "too many rows"})
            if any("i" not in row for row in rows):
                return self.send(400, {"title": "Invalid instances", "errors": [{"pointer": "/instances/0/i"}]})
            body = {"predictions": [answers["predictions"][row["i"]] for row in rows]}
            if "probabilities" in answers:
                body["probabilities"] = [answers["probabilities"][row["i"]] for row in rows]
            self.send(200, body)

    HTTPServer((host, int(port)), Handler).serve_forever()
    """
)


def refused(call, *args):
    with pytest.raises(ImportRefused) as caught:
        call(*args)
    return str(caught.value)


def test_the_reference_is_the_model_s_own_answer_on_the_sample_as_pandas_reads_it(tmp_path):
    frame = read_plain(sample_csv(tmp_path, target=False))
    answer = reference_answer(classifier(), frame, "classification")
    assert answer["predictions"] == [str(p) for p in classifier().predict(frame)]
    assert len(answer["probabilities"]) == len(frame) and len(answer["probabilities"][0]) == 3
    regression = reference_answer(regressor(), frame[IRIS_COLUMNS[:3]], "regression")
    assert regression == {"predictions": regressor().predict(frame[IRIS_COLUMNS[:3]]).tolist()}


def test_a_model_that_cannot_predict_the_sample_is_refused_with_its_error(tmp_path):
    frame = read_plain(sample_csv(tmp_path, target=False)).drop(columns=["sepal_width_cm"])
    message = refused(reference_answer, classifier(), frame, "classification")
    assert message.startswith("the model cannot predict the sample rows (as pandas.read_csv reads them): ValueError: ")


def test_equal_answers_pass_with_no_difference():
    assert compare("here", LABELS, json.loads(json.dumps(LABELS))) == 0.0
    assert compare("here", {"predictions": [1.5, 2.0]}, {"predictions": [1.5, 2.0]}) == 0.0


def test_other_labels_are_refused_naming_the_rows_and_the_before_predict_hook():
    got = dict(LABELS, predictions=["versicolor", "virginica"])
    message = refused(compare, "the service", LABELS, got)
    assert message == "the service: predictions differ from the original model's on sample row(s) 0" + FRAME_HINT
    assert "before_predict hook in application.py" in message


@pytest.mark.parametrize("off", [1e-6, 1e-3])
def test_any_real_difference_of_probabilities_or_values_is_refused_on_the_sklearn_runtime(off):
    got = dict(LABELS, probabilities=[[0.9 - off, 0.05 + off, 0.05], [0.1, 0.2, 0.7]])
    assert refused(compare, "in process", LABELS, got).startswith(
        "in process: the outputs differ from the original model's by up to %g" % off
    )
    message = refused(compare, "in process", {"predictions": [1.5, 2.0]}, {"predictions": [1.5, 2.0 + off]})
    assert message.startswith("in process: the outputs differ from the original model's by up to")


def test_the_onnx_runtime_is_held_to_the_conversion_s_tolerance(monkeypatch):
    monkeypatch.setattr(proof, "RUNTIME", "onnx")
    close = dict(LABELS, probabilities=[[0.9 - 1e-6, 0.05 + 1e-6, 0.05], [0.1, 0.2, 0.7]])
    assert compare("onnx", LABELS, close) == pytest.approx(1e-6)
    far = dict(LABELS, probabilities=[[0.9 - 1e-3, 0.05 + 1e-3, 0.05], [0.1, 0.2, 0.7]])
    assert "by up to 0.001" in refused(compare, "onnx", LABELS, far)


def saved(tmp_path):
    """-> (a model folder written as the importer writes it, its sample's request rows, the reference answer)."""
    path = sample_csv(tmp_path)
    args = SimpleNamespace(target="species", name=None, path="model.skops")
    task, frame, features, target = derive_schema_parts(classifier(), None, read_sample(path), args)
    folder = str(tmp_path / "candidate")
    make_schema = import_schema(classifier(), task, features, target, args, folder, "skops", None, None)
    write_model_folder(folder, classifier(), "skops", make_schema, runtime="sklearn")
    return folder, request_rows(frame, features), reference_answer(classifier(), read_plain(path)[IRIS_COLUMNS], task)


def test_the_re_saved_model_is_proven_as_the_service_loads_it(tmp_path):
    folder, rows, expected = saved(tmp_path)
    assert prove_in_process(folder, rows, expected, max_rows=4) == 0.0
    with open(os.path.join(folder, "model.skops"), "ab") as fh:
        fh.write(b"\0")  # no longer the bytes schema.json's sha256 names
    message = refused(prove_in_process, folder, rows, expected, 4)
    assert message.startswith("the re-saved model does not load as the service loads it: ")


def test_the_procfile_s_web_command_is_run_on_the_proof_s_port(monkeypatch, tmp_path):
    monkeypatch.setattr(proof, "PROJECT_ROOT", str(tmp_path))
    assert web_command(5001) == ["flask", "run", "--host", "127.0.0.1", "--port", "5001"]  # legacy: no Procfile
    (tmp_path / "Procfile").write_text("worker: celery\nweb: gunicorn --bind 0.0.0.0:8000 --workers 2 app:app\n")
    assert web_command(5001) == ["gunicorn", "--bind", "127.0.0.1:5001", "--workers", "2", "app:app"]
    (tmp_path / "Procfile").write_text("web: gunicorn --bind=:8000 app:app\n")
    assert web_command(5002) == ["gunicorn", "--bind=127.0.0.1:5002", "app:app"]


@pytest.fixture
def fake_service(monkeypatch, tmp_path):
    """-> write(answers): a project root whose Procfile starts FAKE_SERVICE answering `answers`."""
    monkeypatch.setattr(proof, "PROJECT_ROOT", str(tmp_path))
    (tmp_path / "service.py").write_text(FAKE_SERVICE)
    (tmp_path / "Procfile").write_text("web: python service.py --bind 127.0.0.1:8000\n")

    def write(answers, max_rows=2):
        (tmp_path / "answers.json").write_text(json.dumps(dict(answers, maxRows=max_rows)))

    return write


def indexed(n):
    return [{"i": i} for i in range(n)]


def stopped(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_the_served_answers_are_compared_batch_by_batch_and_the_service_is_stopped(fake_service, tmp_path):
    expected = {
        "predictions": ["a", "b", "c", "a", "b"],
        "probabilities": [[1, 0, 0], [0, 1, 0], [0, 0, 1]] + [[1, 0, 0], [0, 1, 0]],
    }
    fake_service(expected)
    port = proof.free_port()
    assert serve_and_compare(str(tmp_path), indexed(5), expected, 2, port) == 0.0
    assert stopped(port)


def test_a_service_that_answers_otherwise_is_refused_naming_its_command_and_port(fake_service, tmp_path):
    fake_service({"predictions": [1.0, 2.5]})
    port = proof.free_port()
    message = refused(serve_and_compare, str(tmp_path), indexed(2), {"predictions": [1.0, 2.0]}, 2, port)
    assert message.startswith(
        "the service (python on port %d): the outputs differ from the original model's by up to 0.5" % port
    )


def test_a_service_that_refuses_the_rows_is_refused_with_its_answer(fake_service, tmp_path):
    fake_service({"predictions": [1.0]})
    message = refused(serve_and_compare, str(tmp_path), [{"x": 1}], {"predictions": [1.0]}, 2, None)
    assert message.startswith('the service refused the sample rows (HTTP 400): {"title": "Invalid instances"')


def test_a_service_that_does_not_start_is_refused_with_its_output(monkeypatch, tmp_path):
    monkeypatch.setattr(proof, "PROJECT_ROOT", str(tmp_path))
    (tmp_path / "crash.py").write_text("import sys\nprint('ModelError: sha256 mismatch')\nsys.exit(3)\n")
    (tmp_path / "Procfile").write_text("web: python crash.py --bind 127.0.0.1:8000\n")
    message = refused(serve_and_compare, str(tmp_path), indexed(1), {"predictions": [1.0]}, 2, None)
    assert message == "the service did not start on the new model (exit 3):\nModelError: sha256 mismatch\n"


def test_the_service_is_given_the_candidate_folder_not_model(fake_service, tmp_path):
    # The fake service refuses to start unless MODEL_DIR is the candidate: the proof must serve the new folder.
    (tmp_path / "check.py").write_text(
        "import os, sys\nif os.environ['MODEL_DIR'] != sys.argv[1]:\n    sys.exit(4)\n"
        "sys.argv[1:2] = []\nexec(open('service.py').read())\n"
    )
    candidate = str(tmp_path / ".model-import-x")
    (tmp_path / "Procfile").write_text("web: python check.py %s --bind 127.0.0.1:8000\n" % candidate)
    fake_service({"predictions": [1.0]})
    assert serve_and_compare(candidate, indexed(1), {"predictions": [1.0]}, 2, None) == 0.0
