"""Where a single-row /v1/predict goes inside a worker, for the runtime comparison of the benchmark (`--only runtime`).

    cd <project> && <serving venv>/bin/python bench/runtime_inprocess.py <body.json> [--iterations 300]

Imports the project's application (the model loads as in a gunicorn worker) and times, on the request body the HTTP
runs send, each step of the handler through the managed serving package's own functions: parsing the JSON, the
contract's validation, building the model's input (a DataFrame for sklearn, typed numpy columns for onnx), the
model call alone (predict_proba / predict), the whole answer (input + model + lists), serialising it, and the whole
request through Flask's test client (WSGI: Flask + Werkzeug, no socket, no gunicorn). Medians in ms of interleaved
iterations; also which heavy modules the process imported. One JSON object on stdout.
"""

import json
import os
import statistics
import sys
import time


def main(argv):
    body_path = argv[1]
    iterations = int(argv[argv.index("--iterations") + 1]) if "--iterations" in argv else 300
    sys.path.insert(0, os.getcwd())
    started = time.perf_counter()
    import application
    from serving import bundle_of, request_body
    from serving.app import json_text
    from serving.prediction import model_input, predict_frame
    from serving.validation import validate_instances

    import_ms = (time.perf_counter() - started) * 1000.0

    bundle = bundle_of(application.application)
    with open(body_path, "rb") as fh:
        raw = fh.read()
    text = raw.decode("utf-8")
    payload = request_body.parse_json(text)
    rows = payload["instances"]
    assert not validate_instances(payload, bundle.compiled), "the benchmark body must be valid"
    frame = model_input(bundle, rows)
    answer = predict_frame(bundle, frame)
    client = application.application.test_client()
    model = bundle.model
    call = model.predict_proba if bundle.classes is not None else model.predict

    def wsgi():
        response = client.post("/v1/predict", data=raw, content_type="application/json")
        assert response.status_code == 200
        return response.get_data()

    steps = {
        "parseJson": lambda: request_body.parse_json(text),
        "validate": lambda: validate_instances(payload, bundle.compiled),
        "buildInput": lambda: model_input(bundle, rows),
        "modelCall": lambda: call(frame),
        "answer": lambda: predict_frame(bundle, model_input(bundle, rows)),
        "serialise": lambda: json_text(answer),
        "flaskTestClient": wsgi,
    }
    for fn in steps.values():
        fn()
        fn()
    samples = {name: [] for name in steps}
    for _ in range(iterations):
        for name, fn in steps.items():
            t0 = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t0)
    ms = {name: round(statistics.median(v) * 1000.0, 4) for name, v in samples.items()}
    heavy = sorted(set(m.split(".")[0] for m in sys.modules) & {"sklearn", "scipy", "pandas", "skops", "onnxruntime"})
    print(
        json.dumps(
            {"runtime": bundle.runtime, "rows": len(rows), "importMs": round(import_ms, 1), "ms": ms, "imported": heavy}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
