"""Quiet under load: gunicorn runs each worker with two threads, so predictions may come two at a time.

scikit-learn's Parallel rewrites the process-wide warnings filters around every task (every tree of a forest), and
before Python 3.14 that is not thread-safe: two concurrent predictions could empty the filters for good, and from then
on every tree of every request logged a "delayed should be used with Parallel" UserWarning. The service serialises
model calls (serving/prediction.py); this drives the app from two threads with the interpreter switching threads
every 10 microseconds (the 5 ms default would take minutes to hit the race) and asserts that nothing is logged.
Without the serialisation it fails within a few seconds for a random forest.
"""

import json
import sys
import threading
import time
import warnings

from serving.prediction import example_row

STRESS_SECONDS = 8.0
THREADS = 2  # the Procfile's --threads


def test_concurrent_predictions_log_no_warnings(app, schema):
    rows = [example_row(schema)]
    batch = json.dumps({"instances": rows * min(64, schema["limits"]["maxRows"])})
    single = json.dumps({"instances": rows})
    seen, failures = [], []
    seen_lock = threading.Lock()
    stop = threading.Event()

    def record(message, category, filename, lineno, file=None, line=None):
        with seen_lock:
            seen.append("%s:%s: %s: %s" % (filename, lineno, category.__name__, message))
        stop.set()

    def client_loop():
        client = app.test_client()
        n = 0
        try:
            while not stop.is_set():
                response = client.post("/v1/predict", data=single if n % 2 else batch, content_type="application/json")
                assert response.status_code == 200, response.get_data(as_text=True)
                n += 1
        except BaseException as exc:
            failures.append(exc)
            stop.set()

    saved_showwarning, saved_filters, saved_switch = (
        warnings.showwarning,
        list(warnings.filters),
        sys.getswitchinterval(),
    )
    warnings.showwarning = record
    sys.setswitchinterval(1e-5)
    try:
        threads = [threading.Thread(target=client_loop) for _ in range(THREADS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        stop.wait(STRESS_SECONDS)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        filters_after = list(warnings.filters)
    finally:
        sys.setswitchinterval(saved_switch)
        warnings.showwarning = saved_showwarning
        warnings.filters[:] = saved_filters

    assert not failures, failures
    assert not seen, "%d warnings after %.1f s, the first: %s" % (len(seen), elapsed, seen[0])
    assert filters_after, "the process-wide warnings filters were emptied"
