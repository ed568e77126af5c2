"""In-process timings of a generated project's application.py (case 3 of the benchmark), printed as one JSON object.

    cd <project> && <venv>/bin/python bench/inprocess.py <body.json> [--blocks 3] [--iterations 30]

Imports the project's application module (which loads the model once, as a gunicorn worker does) and times, on the
exact request body the HTTP test sends, each step the /v1/predict handler takes: JSON parsing, validation, building
the DataFrame, the model call, turning numpy results into lists, and serialisation; plus `model.predict` alone (the
in-process baseline), and the whole request through Flask's test client (WSGI, no HTTP, no gunicorn). Each timing is
the median of `iterations` calls, measured in `blocks` separate blocks after a warm-up (each iteration runs every step
once, in turn); min/median/max of the block medians are reported. A cProfile of one single-row prediction shows
where a model call's fixed cost goes.
"""

import cProfile
import importlib
import json
import logging
import os
import pstats
import statistics
import sys
import time


def timed_interleaved(steps, blocks, iterations):
    """Median ms of each step per block. Inside a block every iteration runs each step once, in turn, so a burst of
    load from another process hits all steps alike instead of whichever step happened to be running."""
    for fn in steps.values():  # warm-up: caches, lazy imports
        fn()
        fn()
    medians = {name: [] for name in steps}
    items = list(steps.items())
    for _ in range(blocks):
        samples = {name: [] for name in steps}
        for _ in range(iterations):
            for name, fn in items:
                start = time.perf_counter()
                fn()
                samples[name].append(time.perf_counter() - start)
        for name in steps:
            medians[name].append(statistics.median(samples[name]) * 1000.0)
    return {
        name: {"min": round(min(m), 4), "median": round(statistics.median(m), 4), "max": round(max(m), 4)}
        for name, m in medians.items()
    }


def profile_top(fn, calls=20, top=12):
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        fn()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt / calls * 1000.0
    rows = []
    for (filename, line, name), (_cc, nc, tt, ct, _callers) in stats.stats.items():
        rows.append(
            {
                "function": "%s:%d(%s)" % (shorten(filename), line, name),
                "callsPerPrediction": round(nc / calls, 1),
                "selfMs": round(tt / calls * 1000.0, 3),
                "cumulativeMs": round(ct / calls * 1000.0, 3),
            }
        )
    by_self = sorted(rows, key=lambda r: r["selfMs"], reverse=True)[:top]
    by_cumulative = sorted(rows, key=lambda r: r["cumulativeMs"], reverse=True)[:top]
    return {"profiledMsPerPrediction": round(total, 3), "topSelf": by_self, "topCumulative": by_cumulative}


def shorten(filename):
    marker = "site-packages" + os.sep
    if marker in filename:
        return filename.split(marker, 1)[1]
    return os.path.basename(filename)


def versions():
    from importlib.metadata import version

    out = {"python": sys.version.split()[0]}
    for dist in ("scikit-learn", "numpy", "pandas", "scipy", "Flask", "Werkzeug", "gunicorn", "joblib"):
        try:
            out[dist] = version(dist)
        except Exception:  # noqa: BLE001 - a missing package is reported, not fatal
            out[dist] = None
    return out


def main(argv):
    if argv[1:] == ["--versions"]:
        print(json.dumps(versions()))
        return 0
    body_path = argv[1]
    blocks = int(argv[argv.index("--blocks") + 1]) if "--blocks" in argv else 3
    iterations = int(argv[argv.index("--iterations") + 1]) if "--iterations" in argv else 30
    sys.path.insert(0, os.getcwd())

    started = time.perf_counter()
    # application.py builds the service at import (create_app loads the model and runs its self-test).
    app = importlib.import_module("application")
    import_ms = (time.perf_counter() - started) * 1000.0
    import serving
    from serving import request_body, settings

    bundle = serving.bundle_of(app.application)
    started = time.perf_counter()
    serving.load_model(settings.default_model_dir())
    load_ms = (time.perf_counter() - started) * 1000.0

    with open(body_path, "rb") as fh:
        raw = fh.read()

    def parse_json_body(data):
        return request_body.parse_json(request_body.decode_text(data))

    payload = parse_json_body(raw)
    rows = payload["instances"]
    assert not serving.validate_instances(payload, bundle.compiled), "the benchmark body must be valid"
    frame = serving.build_frame(bundle, rows)
    body = serving.predict(bundle, rows)
    model = bundle.model
    client = app.application.test_client()

    def proba_to_lists():
        proba = model.predict_proba(frame)
        return proba.tolist(), proba.argmax(axis=1).tolist()

    def wsgi():
        response = client.post("/v1/predict", data=raw, content_type="application/json")
        assert response.status_code == 200
        return response.get_data()

    steps = {
        "parseJson": lambda: parse_json_body(raw),
        "validate": lambda: serving.validate_instances(payload, bundle.compiled),
        "buildFrame": lambda: serving.build_frame(bundle, rows),
        "predictProba": lambda: model.predict_proba(frame),
        "predictProbaToLists": proba_to_lists,
        "appPredict": lambda: serving.predict(bundle, rows),
        "serialise": lambda: json.dumps(body, separators=(",", ":"), allow_nan=False),
        "modelPredict": lambda: model.predict(frame),
        "flaskTestClient": wsgi,
    }
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    variant = None
    if type(final).__name__ == "RandomForestClassifier" and hasattr(model, "steps"):
        # Not what application.py does: the forest's trees called directly, without scikit-learn's per-call joblib
        # dispatch (one Parallel job, config copy and warnings filter per tree). Measured to size that overhead.
        import numpy as np

        preprocess = model[:-1]
        trees = final.estimators_

        def direct_trees():
            X = np.ascontiguousarray(preprocess.transform(frame), dtype=np.float32)
            total = trees[0].predict_proba(X, check_input=False)
            for tree in trees[1:]:
                total += tree.predict_proba(X, check_input=False)
            total /= len(trees)
            return total

        variant = {
            "name": "directTreesProba",
            "matchesPredictProba": bool(np.allclose(direct_trees(), model.predict_proba(frame))),
        }
        steps["directTreesProba"] = direct_trees
    # The request log line goes to stderr for every test-client call; keep it out of the way.
    request_log = logging.getLogger("serving")
    request_log.disabled = True
    results = timed_interleaved(steps, blocks, iterations)
    request_log.disabled = False
    out = {
        "rows": len(rows),
        "bodyBytes": len(raw),
        "responseBytes": len(json.dumps(body, separators=(",", ":"))),
        "estimator": type(final).__name__,
        "importMs": round(import_ms, 1),
        "loadModelMs": round(load_ms, 1),
        "blocks": blocks,
        "iterations": iterations,
        "ms": results,
        "variant": variant,
    }
    if "--profile" in argv:
        out["profile"] = profile_top(lambda: serving.predict(bundle, rows))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
