"""LightGBM's and XGBoost's scikit-learn estimators made convertible by skl2onnx, with onnxmltools' converters.

skl2onnx knows scikit-learn's own estimators only; onnxmltools has the converters for LightGBM and XGBoost, and
skl2onnx's documented way to convert a pipeline holding one is to register them (its gallery: "Convert a pipeline with
a LightGBM model", "... with a XGBoost model"). Registered once per process, only for the libraries installed: a
project whose models use neither never imports them.
"""

import importlib

# (module, estimator class, skl2onnx alias, converter module in onnxmltools, converter, classifier?)
_LIBRARY_ESTIMATORS = (
    ("lightgbm", "LGBMClassifier", "LightGbmLGBMClassifier", "lightgbm", "convert_lightgbm", True),
    ("lightgbm", "LGBMRegressor", "LightGbmLGBMRegressor", "lightgbm", "convert_lightgbm", False),
    ("xgboost", "XGBClassifier", "XGBoostXGBClassifier", "xgboost", "convert_xgboost", True),
    ("xgboost", "XGBRegressor", "XGBoostXGBRegressor", "xgboost", "convert_xgboost", False),
)
_registered = []


def library_estimators():
    """-> [class] of the LightGBM and XGBoost estimators the conversion can take (those whose library is installed)."""
    found = []
    for module, name, _alias, _lib, _fn, _classifier in _LIBRARY_ESTIMATORS:
        try:
            found.append(getattr(importlib.import_module(module), name))
        except ImportError:
            continue
    return found


def register():
    """Register the converters with skl2onnx (once); -> the classes registered."""
    if _registered:
        return list(_registered)
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    for module, name, alias, lib, fn, classifier in _LIBRARY_ESTIMATORS:
        try:
            estimator = getattr(importlib.import_module(module), name)
        except ImportError:
            continue
        converter = getattr(
            importlib.import_module(
                "onnxmltools.convert.%s.operator_converters.%s" % (lib, "LightGbm" if lib == "lightgbm" else "XGBoost")
            ),
            fn,
        )
        if classifier:
            # zipmap off (probabilities as one array) and nocl (labels as they are) are the options the service's
            # conversion passes to every classifier.
            update_registered_converter(
                estimator,
                alias,
                calculate_linear_classifier_output_shapes,
                converter,
                options={"nocl": [True, False], "zipmap": [True, False, "columns"]},
            )
        else:
            update_registered_converter(estimator, alias, calculate_linear_regressor_output_shapes, converter)
        _registered.append(estimator)
    return list(_registered)
