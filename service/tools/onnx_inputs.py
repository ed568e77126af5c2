"""The graph inputs a model's conversion is given, built to fit the model, and what schema.json records of them.

Two shapes, decided by what the model's first step takes:
  * columns: a ColumnTransformer first (alone or at the head of a Pipeline) selects columns by name, so the graph has
    one [rows, 1] input per feature (float32 numbers, strings for categories);
  * matrix: anything else (a plain estimator, a Pipeline of scalers and imputers, an estimator fitted on an array,
    stacking and voting ensembles) takes the features as one [rows, features] array in schema order, so the graph has
    one input, MATRIX_INPUT. ONNX tensors hold one element type: numbers and categories cannot share it.

A feature name need not be a valid ONNX name (scikit-learn's own wine data has `od280/od315_of_diluted_wines`):
skl2onnx renames such inputs, so the names the graph really has are read back from it and recorded beside the
features (schema.json's model.onnx.inputs). Clients never see them: they send the feature names, and the service
feeds each column to its recorded input.
"""

from serving.onnx_runtime import COLUMNS, MATRIX, MATRIX_INPUT, STRING_TYPES

from .errors import DerivationError


class InputsError(DerivationError):
    """The features cannot be laid out as the model's first step takes them."""


def first_step(model):
    """The estimator that receives the request's features: the head of (nested) Pipelines."""
    while hasattr(model, "steps") and model.steps:
        model = model.steps[0][1]
    return model


def layout_of(model):
    return COLUMNS if hasattr(first_step(model), "transformers_") else MATRIX


def initial_types(model, features):
    """-> (skl2onnx initial_types, layout) for `model` fed the schema's `features`."""
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    layout = layout_of(model)
    if layout == COLUMNS:
        return [
            (f["name"], StringTensorType([None, 1]) if f["type"] in STRING_TYPES else FloatTensorType([None, 1]))
            for f in features
        ], layout
    categories = [f["name"] for f in features if f["type"] in STRING_TYPES]
    numbers = [f["name"] for f in features if f["type"] not in STRING_TYPES]
    if categories and numbers:
        raise InputsError(
            "%s takes all %d features as one array, but they mix numbers (%s) and categories (%s), which one ONNX "
            "tensor cannot hold; a ColumnTransformer as the first step (numbers and categories to their own "
            "transformers) can be converted"
            % (type(first_step(model)).__name__, len(features), _few(numbers), _few(categories))
        )
    kind = StringTensorType if categories else FloatTensorType
    return [(MATRIX_INPUT, kind([None, len(features)]))], layout


def recorded_inputs(onnx_model, features, layout):
    """-> schema.json's model.onnx.inputs: {"layout": MATRIX, "name": ...} or {"layout": COLUMNS, "names": [the graph
    input of each feature, in schema order]}, read from the converted graph (skl2onnx keeps the order it was given)."""
    names = [i.name for i in onnx_model.graph.input]
    if layout == MATRIX:
        return {"layout": MATRIX, "name": names[0]}
    if len(names) != len(features):
        raise InputsError(
            "the converted graph has %d inputs for %d features; it cannot be fed column by column"
            % (len(names), len(features))
        )
    return {"layout": COLUMNS, "names": names}


def _few(names):
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
