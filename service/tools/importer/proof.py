"""The proof: nothing replaces model/ until the re-saved model answers the sample exactly as the original did, first
loaded in this process the way the service loads it, then served over HTTP by the Procfile's own web command.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings

import numpy as np

from serving import settings
from serving.bundle import ModelError, json_label, load_model
from serving.prediction import predict
from tools import procfile
from tools.onnx_conversion import TOLERANCE as ONNX_TOLERANCE
from tools.onnx_conversion import largest_difference

from . import PROJECT_ROOT, ImportRefused

PROBABILITY_TOLERANCE = 1e-9  # the same model on the same rows: any larger difference means it is not the same model
# On the onnx runtime the service answers from model.onnx, which computes in float32: it is held to the tolerance the
# conversion was proven to (tools/onnx_conversion.py: labels equal, 1e-5 absolute / relative for regression).
RUNTIME = settings.RUNTIME
START_TIMEOUT = 120  # seconds for the service to answer its health check: gunicorn loading a large model takes a while
FRAME_HINT = (
    " (the service hands the model a DataFrame of float64 numbers, strings for categories and NaN for every "
    "missing value; a model that answers differently for those than for the sample as pandas reads it needs "
    "a before_predict hook in application.py that converts them)"
)


ANSWER_ARRAYS = ("probabilities", "scores")  # the per-row arrays an answer may carry besides predictions


def reference_answer(model, frame, task):
    """What the original model, in this process, says about the sample as a notebook would pass it (read by plain
    pandas, its date columns parsed: importer.schema.reference_frame): the service's answers must equal these, in the
    answer shape of the task (docs/contract.md)."""
    try:
        if task == "regression":
            return {"predictions": np.asarray(model.predict(frame), dtype=np.float64).ravel().tolist()}
        labels = np.asarray(model.predict(frame)).ravel().tolist()
        if task in ("clustering", "outlier-detection"):
            answer = {"predictions": [int(v) for v in labels]}
            if task == "outlier-detection":
                answer["scores"] = np.asarray(model.decision_function(frame), dtype=np.float64).ravel().tolist()
            return answer
        answer = {"predictions": [json_label(p) for p in labels]}
        if hasattr(model, "predict_proba"):
            answer["probabilities"] = np.asarray(model.predict_proba(frame), dtype=np.float64).tolist()
        elif hasattr(model, "decision_function"):
            scores = np.asarray(model.decision_function(frame), dtype=np.float64)
            answer["scores"] = (np.column_stack([-scores, scores]) if scores.ndim == 1 else scores).tolist()
        return answer
    except Exception as exc:
        raise ImportRefused(
            "the model cannot predict the sample rows (as pandas.read_csv reads them): %s: %s"
            % (type(exc).__name__, exc)
        ) from exc


def compared(expected):
    """What a proof compares, in words: "predictions and probabilities", say."""
    return " and ".join(["predictions"] + [key for key in ANSWER_ARRAYS if key in expected])


def compare(where, expected, got):
    """-> the largest difference of `got` from `expected`, or ImportRefused naming `where` and the rows that differ.
    Labels (classes, clusters, inlier/outlier) must be equal, with their JSON type; numbers (probabilities, scores,
    regression values) within the tolerance."""
    labels = any(key in expected for key in ANSWER_ARRAYS) or any(
        not isinstance(p, float) for p in expected["predictions"]
    )
    if labels:
        bad = [
            i
            for i, (a, b) in enumerate(zip(expected["predictions"], got["predictions"]))
            if type(a) is not type(b) or a != b
        ]
        if bad or len(got["predictions"]) != len(expected["predictions"]):
            raise ImportRefused(
                "%s: predictions differ from the original model's on sample row(s) %s%s"
                % (where, ", ".join(str(i) for i in bad[:10]), FRAME_HINT)
            )
    arrays = [key for key in ANSWER_ARRAYS if key in expected]
    if RUNTIME == "onnx":
        diff, tolerance = largest_difference(expected, got, labels=labels)[1], ONNX_TOLERANCE
    elif arrays:
        diff = max(
            float(np.max(np.abs(np.asarray(got[key], dtype=float) - np.asarray(expected[key], dtype=float))))
            for key in arrays
        )
        tolerance = PROBABILITY_TOLERANCE
    elif labels:
        diff, tolerance = 0.0, PROBABILITY_TOLERANCE
    else:
        diff = float(
            np.max(
                np.abs(np.asarray(got["predictions"], dtype=float) - np.asarray(expected["predictions"], dtype=float))
            )
        )
        tolerance = PROBABILITY_TOLERANCE
    if not diff <= tolerance:
        raise ImportRefused(
            "%s: the outputs differ from the original model's by up to %g%s" % (where, diff, FRAME_HINT)
        )
    return diff


def chunks(rows, size):
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def prove_in_process(candidate, rows, expected, max_rows):
    """The re-saved folder loaded by serving.load_model (sha256 checks and all) and asked the request rows in
    batches the service accepts: its answers must equal the original model's."""
    try:
        bundle = load_model(candidate)
    except ModelError as exc:
        raise ImportRefused("the re-saved model does not load as the service loads it: %s" % exc) from exc
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        answers = [predict(bundle, part) for part in chunks(rows, max_rows)]
    if caught:
        # The service would log it on every request, and the contract suite's warning check (make test) fails on it.
        print(
            "warning: the model warns when the service asks it (the service logs this on every request, and `make "
            "test` fails on it): %s: %s. If a library says it, a release that fixes it may exist: re-save the model "
            "with it" % (caught[0].category.__name__, caught[0].message)
        )
    in_process = {"predictions": [p for a in answers for p in a["predictions"]]}
    for key in ANSWER_ARRAYS:
        if key in expected:
            in_process[key] = [p for a in answers for p in a.get(key, [])]
    return compare("the re-saved model, loaded as the service loads it", expected, in_process)


def web_command(port):
    """The Procfile's web command with its port replaced (the legacy platform has no Procfile: Flask's server)."""
    if not os.path.isfile(os.path.join(PROJECT_ROOT, procfile.PROCFILE)):
        return ["flask", "run", "--host", "127.0.0.1", "--port", str(port)]  # FLASK_APP is set by the caller
    try:
        return procfile.rebind(procfile.web_command(PROJECT_ROOT), "127.0.0.1:%d" % port)
    except procfile.ProcfileError as exc:
        raise ImportRefused(str(exc)) from None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_and_compare(candidate, rows, expected, max_rows, port):
    """Start the service on `candidate` with the Procfile's command, ask it for the sample, stop it."""
    port = port or free_port()
    env = dict(os.environ, MODEL_DIR=candidate, FLASK_APP="application")
    # The venv's bin/ first: the Procfile names gunicorn bare, as EB's PATH finds it in its venv.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    log = tempfile.TemporaryFile()
    server = subprocess.Popen(
        web_command(port), cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = "http://127.0.0.1:%d" % port
    try:
        deadline = time.time() + START_TIMEOUT
        while True:
            if server.poll() is not None:
                log.seek(0)
                tail = log.read().decode("utf-8", "replace")[-3000:]
                raise ImportRefused(
                    "the service did not start on the new model (exit %s):\n%s" % (server.returncode, tail)
                )
            try:
                urllib.request.urlopen(base + settings.HEALTH_CHECK_PATH, timeout=5).read()
                break
            except (urllib.error.URLError, OSError):
                if time.time() > deadline:
                    raise ImportRefused(
                        "the service did not answer %s within %d s" % (settings.HEALTH_CHECK_PATH, START_TIMEOUT)
                    ) from None
                time.sleep(0.25)
        got = {"predictions": []}
        got.update((key, []) for key in ANSWER_ARRAYS if key in expected)
        for part in chunks(rows, max_rows):
            request = urllib.request.Request(
                base + "/v1/predict",
                data=json.dumps({"instances": part}).encode("utf-8"),
                headers={"Content-Type": "application/json"},
            )
            try:
                body = json.loads(urllib.request.urlopen(request, timeout=60).read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                raise ImportRefused(
                    "the service refused the sample rows (HTTP %d): %s"
                    % (exc.code, exc.read().decode("utf-8", "replace")[:2000])
                ) from exc
            got["predictions"].extend(body["predictions"])
            for key in ANSWER_ARRAYS:
                if key in expected:
                    got[key].extend(body.get(key, []))
        return compare("the service (%s on port %d)" % (" ".join(web_command(port)[:1]), port), expected, got)
    finally:
        # The whole session: gunicorn's workers too, not only the arbiter.
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log.close()
