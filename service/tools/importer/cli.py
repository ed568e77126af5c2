"""Bring your own model: replace model/ with a scikit-learn model you trained elsewhere (a notebook, MLflow).

The options and the order of the jobs; tools/import_model.py (the entry point users, the Makefile and the sci-eb
launcher run) documents them. The first line above is --help's description: it must stay import_model.py's first line.
"""

import argparse
import os
import shutil
import sys

from serving import artifact, settings
from tools.schema_derivation import DerivationError, request_rows, write_model_folder

from . import ImportRefused
from .environment import check_versions, repin_and_import
from .proof import prove_in_process, reference_answer, serve_and_compare
from .schema import derive_schema_parts, import_schema, read_plain, read_sample
from .source import identify, load_source, sniff_sklearn_version
from .swap import carry_over, new_candidate, swap_in

PROJECT_FORMAT = settings.MODEL_FORMAT
LIMITS = settings.LIMITS


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="a skops/joblib/pickle file, or an MLflow sklearn model folder")
    parser.add_argument("--sample", help="CSV of rows the model accepts (required)")
    parser.add_argument("--target", help="the column the model predicts (its name in the API; dropped from the sample)")
    parser.add_argument("--trust-pickle", action="store_true", help="allow loading a pickle: it runs code")
    parser.add_argument(
        "--trust-type",
        action="append",
        default=[],
        metavar="MODULE.CLASS",
        help="a type in a skops file you have reviewed and trust (repeatable)",
    )
    parser.add_argument(
        "--allow-version-mismatch",
        action="store_true",
        help="import a model written by another scikit-learn version (the proof still decides)",
    )
    parser.add_argument(
        "--keep-pins",
        action="store_true",
        help="never rewrite requirements.txt: refuse a model from another scikit-learn, with the pins "
        "that would follow it",
    )
    parser.add_argument("--format", choices=artifact.FORMATS, default=PROJECT_FORMAT, help="how to re-save it")
    parser.add_argument("--name", help="model name in schema.json (default: the current one, else the project's)")
    parser.add_argument("--model-dir", default=os.environ.get("MODEL_DIR") or settings.default_model_dir())
    parser.add_argument("--port", type=int, help="port for the proof run of the service (default: a free one)")
    return parser.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    model_dir = os.path.abspath(args.model_dir)
    candidate = None
    try:
        kind, path, facts = identify(os.path.abspath(args.path))
        sample = read_sample(args.sample)
        # Checked before loading (a model from another scikit-learn may not load at all), and again after.
        written_by = (facts or {}).get("sklearnVersion") or sniff_sklearn_version(kind, path)
        pins = check_versions(written_by, args)
        if pins:
            return repin_and_import(written_by, pins, argv)
        model, loaded_by = load_source(kind, path, args)
        written_by = loaded_by or written_by
        pins = check_versions(written_by, args)
        if pins:
            return repin_and_import(written_by, pins, argv)
        task, frame, features, target = derive_schema_parts(model, facts, sample, args)
        expected = reference_answer(model, read_plain(args.sample)[[f["name"] for f in features]], task)
        make_schema = import_schema(model, task, features, target, args, model_dir, kind, facts, written_by)
        candidate = new_candidate(model_dir)
        try:
            # On the onnx runtime this converts the model and proves it on the sample before writing anything.
            schema = write_model_folder(
                candidate, model, args.format, make_schema, proof_frame=frame, proof_rows="sample rows"
            )
        except DerivationError as exc:
            raise ImportRefused(str(exc)) from exc
        rows = request_rows(frame, features)
        prove_in_process(candidate, rows, expected, LIMITS["maxRows"])
        served_diff = serve_and_compare(candidate, rows, expected, LIMITS["maxRows"], args.port)
        carry_over(model_dir, candidate)
        swap_in(candidate, model_dir)
        candidate = None
    except ImportRefused as exc:
        print("error: %s. Nothing was changed." % exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted. Nothing was changed.", file=sys.stderr)
        return 130
    finally:
        if candidate and os.path.exists(candidate):
            shutil.rmtree(candidate, ignore_errors=True)
    print(
        "proved on %d sample rows: in process and served by the Procfile's command, the same %s as the original "
        "(largest difference %g)"
        % (len(rows), "predictions and probabilities" if task == "classification" else "predictions", served_diff)
    )
    print(
        "imported %s as %s (%s, %s, version %s)"
        % (
            args.path,
            os.path.join(model_dir, schema["model"]["artifact"]),
            task,
            schema["model"]["estimator"],
            schema["model"]["version"],
        )
    )
    return 0
