"""A fitted scikit-learn pipeline -> model.onnx, proven to answer as the pipeline does before anything is written.

train.py and tools/import_model.py reach this through schema_derivation.write_model_folder when the project's runtime
is onnx. It needs scikit-learn, skl2onnx and onnx (requirements-dev.txt); the service never imports it.

The proof runs the service's own two paths (serving.prediction with the fitted pipeline, and with OnnxModel on the
converted bytes) on the same rows: the held-out rows of train.py, or the import sample. It passes only when
  * every predicted label is equal (classification), and
  * every probability is within TOLERANCE (1e-5) absolute, or every regression value within TOLERANCE relative:
    |onnx - sklearn| <= TOLERANCE * max(|sklearn|, 1).
Otherwise the conversion is refused with the largest difference (or the step that cannot be converted), and
write_model_folder writes nothing: the previous model stays.
"""

import copy

import numpy as np

from serving.bundle import ModelBundle, labels_from_proba, onnx_unsupported_feature, onnx_unsupported_kind
from serving.onnx_runtime import ARTIFACT, MISSING_CATEGORY, OnnxModel
from serving.prediction import predict

from . import onnx_converters, onnx_inputs, onnx_text
from .errors import DerivationError

TOLERANCE = 1e-5
# ai.onnx.ml 3 holds the tree ensembles' thresholds as tensors; both opsets run on the pinned onnxruntime.
TARGET_OPSET = {"": 18, "ai.onnx.ml": 3}
STAY = (
    "to serve this model, stay on --runtime sklearn (in this project: `sci-eb upgrade --set runtime=sklearn`, "
    "then `make train` or `make import` again)"
)


class ConversionError(DerivationError):
    """The pipeline cannot be served by the onnx runtime; the message names the step or the difference."""


def _steps(model, path):
    """(path, estimator) for the model (path []) and every estimator inside it (Pipeline, ColumnTransformer,
    FeatureUnion, stacking and voting ensembles)."""
    yield path, model
    children = []
    if hasattr(model, "steps"):
        children = [(name, step) for name, step in model.steps]
    elif hasattr(model, "transformers_"):
        children = [(name, t) for name, t, _columns in model.transformers_]
    elif hasattr(model, "transformer_list"):
        children = list(model.transformer_list)
    elif hasattr(model, "named_estimators_"):
        children = list(model.named_estimators_.items())
        if getattr(model, "final_estimator_", None) is not None:
            children.append(("final_estimator", model.final_estimator_))
    for name, child in children:
        if child is not None and not isinstance(child, str):  # "drop", "passthrough"
            for found in _steps(child, path + [name]):
                yield found


def unconvertible_step(model):
    """(where, why) of the first step skl2onnx has no converter for, or None."""
    from skl2onnx._supported_operators import sklearn_operator_name_map

    onnx_converters.register()
    for path, step in _steps(model, []):
        where = "step %s (%s)" % ("/".join(path), type(step).__name__) if path else type(step).__name__
        if type(step) not in sklearn_operator_name_map:
            return where, "neither skl2onnx nor onnxmltools (LightGBM, XGBoost) has a converter for it"
        if type(step).__name__ == "FunctionTransformer" and getattr(step, "func", None) is not None:
            return where, "it runs Python code (%s), which ONNX cannot express" % getattr(
                step.func, "__name__", step.func
            )
    return onnx_text.difference(_steps(model, []))


def _missing_as_string(model, features):
    """A copy whose string imputers treat MISSING_CATEGORY as missing: ONNX string tensors cannot hold NaN, so the
    service feeds a null category as that string (the fitted statistics are unchanged). A final soft-voting
    ensemble's flatten_transform is turned off in the copy (below)."""
    if any(MISSING_CATEGORY in f.get("categories", []) for f in features):
        raise ConversionError("a category is the empty string, which the onnx runtime uses for null")
    converted = copy.deepcopy(model)
    final = converted.steps[-1][1] if hasattr(converted, "steps") else converted
    if type(final).__name__ == "VotingClassifier" and getattr(final, "flatten_transform", False):
        # Only transform() reads it, which the service never calls on its final estimator; skl2onnx refuses the
        # default (True) for soft voting.
        final.flatten_transform = False
    for _path, step in _steps(converted, []):
        if type(step).__module__.startswith("xgboost") and hasattr(step, "get_booster"):
            # onnxmltools reads XGBoost's splits by feature index (f0, f1, ...): a booster fitted on a DataFrame
            # names them after its columns, which the graph's one matrix input feeds in the same order.
            step.get_booster().feature_names = None
        statistics = getattr(step, "statistics_", None)
        if type(step).__name__ == "SimpleImputer" and statistics is not None and statistics.dtype == object:
            missing = step.missing_values
            if missing is None or (isinstance(missing, float) and np.isnan(missing)):
                step.missing_values = MISSING_CATEGORY
    return converted


def convert(model, features):
    """-> (the ONNX bytes of `model`, schema.json's model.onnx.inputs): the graph's inputs built to fit the model
    (tools/onnx_inputs.py: one per feature for a ColumnTransformer, else one matrix)."""
    from skl2onnx import convert_sklearn
    from sklearn.base import is_classifier

    found = unconvertible_step(model)
    if found:
        raise ConversionError("%s cannot be converted to ONNX: %s" % found)
    converted = _missing_as_string(model, features)
    try:
        inputs, layout = onnx_inputs.initial_types(converted, features)
    except onnx_inputs.InputsError as exc:
        raise ConversionError(str(exc)) from exc
    final = converted.steps[-1][1] if hasattr(converted, "steps") else converted
    # zipmap off: probabilities as one [rows, classes] array in classes_ order, not a list of dicts.
    options = {id(final): {"zipmap": False}} if is_classifier(final) else {}
    # text vectorizers: lowercased with a locale every AL2023 instance has (tools/onnx_text.py says why)
    options.update(onnx_text.options(_steps(converted, [])))
    try:
        graph = convert_sklearn(converted, initial_types=inputs, options=options or None, target_opset=TARGET_OPSET)
    except Exception as exc:
        said = _said(exc)
        root = exc
        while (root.__cause__ or root.__context__) is not None:
            root = root.__cause__ or root.__context__
        if root is not exc:
            # What went wrong beneath skl2onnx's "Unable to create node ...": the real cause (an upstream mismatch
            # of skl2onnx and onnx or scikit-learn reads as such there).
            said += ", because of %s: %s" % (type(root).__name__, _said(root))
        steps = ", ".join(
            "%s (%s)" % ("/".join(path) or "the model", type(step).__name__)
            for path, step in _steps(model, [])
            if not hasattr(step, "steps") and not hasattr(step, "transformers_")
        )
        raise ConversionError(
            "skl2onnx %s cannot convert the model [%s]: %s: %s"
            % (_version("skl2onnx"), steps, type(exc).__name__, said)
        ) from exc
    try:
        recorded = onnx_inputs.recorded_inputs(graph, features, layout)
    except onnx_inputs.InputsError as exc:
        raise ConversionError(str(exc)) from exc
    return graph.SerializeToString(), recorded


def _said(exc):
    # skl2onnx's messages can carry a whole node's attributes (thousands of numbers): the first line says it.
    return str(exc).split(" and attributes=")[0].splitlines()[0][:300] if str(exc) else ""


def _version(module):
    return getattr(__import__(module), "__version__", "?")


def largest_difference(expected, got, labels=False):
    """-> (row, difference) of the worst row: probabilities absolute, regression values relative to max(|v|, 1); 0
    for the labels of a classifier without probabilities (a hard vote), which are compared exactly beforehand (they
    may be strings)."""
    if labels and "probabilities" not in expected:
        return 0, 0.0
    if "probabilities" in expected:
        gap = np.abs(
            np.asarray(got["probabilities"], dtype=float) - np.asarray(expected["probabilities"], dtype=float)
        ).max(axis=1)
    else:
        reference = np.asarray(expected["predictions"], dtype=float)
        gap = np.abs(np.asarray(got["predictions"], dtype=float) - reference) / np.maximum(np.abs(reference), 1.0)
    row = int(np.argmax(gap))
    return row, float(gap[row])


def _answers(bundle, rows):
    size = bundle.compiled.max_rows
    parts = [predict(bundle, rows[i : i + size]) for i in range(0, len(rows), size)]
    answer = {"predictions": [p for a in parts for p in a["predictions"]]}
    if "probabilities" in parts[0]:
        answer["probabilities"] = [p for a in parts for p in a["probabilities"]]
    return answer


def convert_and_prove(model, schema, rows, where):
    """-> (schema.json's model.onnx entry without sha256, the ONNX bytes), or ConversionError saying why and what to do.

    `schema` is the schema the model is written with (runtime onnx); `rows` the request rows to prove it on; `where`
    says what they are ("held-out rows", "sample rows") in the messages.
    """
    try:
        return _convert_and_prove(model, schema, rows, where)
    except ConversionError as exc:
        raise ConversionError("the onnx runtime cannot serve this model: %s; %s" % (exc, STAY)) from exc


def _convert_and_prove(model, schema, rows, where):
    if not rows:
        raise ConversionError("there are no %s to prove the ONNX model on" % where)
    # Not converted at all: the runtime's answers are those of regressors and of classifiers (labels, probabilities),
    # its inputs float and string columns. The kind of model first: no feature type would make the others servable.
    kind = onnx_unsupported_kind(schema)
    if kind:
        raise ConversionError(
            "it serves only regressors and classifiers that answer labels or probabilities, not yet %s" % kind
        )
    feature = onnx_unsupported_feature(schema)
    if feature:
        hint = ""
        boolean = next((f["name"] for f in schema["features"] if f["type"] == "boolean"), None)
        if boolean is not None and "(boolean)" in feature:
            # What works today, a tester found: a model that reads the flag as 0/1 serves it as a number.
            hint = " (a model that reads it as 0/1 can take it as a number: --feature-type %s=number)" % boolean
        raise ConversionError(
            "it takes numbers, string categories and text only, and cannot serve %s yet%s" % (feature, hint)
        )
    blob, inputs = convert(model, schema["features"])
    target = schema["target"]
    classes = list(target["classes"]) if target.get("type") == "category" else None
    argmax = classes is not None and labels_from_proba(model)
    reference = _answers(ModelBundle(model, dict(schema, model=dict(schema["model"], runtime="sklearn")), b""), rows)
    try:
        onnx_bundle = ModelBundle(OnnxModel(blob, schema["features"], classes, argmax, inputs), schema, b"")
        answer = _answers(onnx_bundle, rows)
    except Exception as exc:
        raise ConversionError("onnxruntime cannot run the converted model: %s: %s" % (type(exc).__name__, exc)) from exc
    differing = [
        i
        for i, (a, b) in enumerate(zip(reference["predictions"], answer["predictions"]))
        if classes is not None and a != b
    ]
    if differing:
        first = differing[0]
        raise ConversionError(
            "the ONNX model predicts another class than scikit-learn on %d of %d %s (first: row %d, "
            "%r instead of %r)"
            % (len(differing), len(rows), where, first, answer["predictions"][first], reference["predictions"][first])
        )
    row, difference = largest_difference(reference, answer, labels=classes is not None)
    if not difference <= TOLERANCE:
        what = "probabilities" if classes is not None else "predictions (relative)"
        raise ConversionError(
            "the ONNX model's %s differ from scikit-learn's by up to %.3g on %s (row %d); the "
            "tolerance is %g" % (what, difference, where, row, TOLERANCE)
        )
    entry = {
        "artifact": ARTIFACT,
        "labelsFromProba": bool(argmax),
        "inputs": inputs,
        "skl2onnxVersion": _version("skl2onnx"),
        "onnxVersion": _version("onnx"),
        "opset": {"ai.onnx": TARGET_OPSET[""], "ai.onnx.ml": TARGET_OPSET["ai.onnx.ml"]},
        "parity": {"rows": len(rows), "on": where, "largestDifference": difference, "tolerance": TOLERANCE},
    }
    return entry, blob
