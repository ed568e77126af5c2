"""Derived features (features.py's derive) as the first step of the fitted pipeline, so training and serving compute
them with the same code: requests send the columns schema.json lists, the model gets the ones derive() returns.

train.py builds its pipeline with derive_step() and fits its preprocessing on the columns of derived_frame(); the
service runs the step as part of the model (loading it imports features.py, which tools/own_code.py and
serving/own_code.py make an explicit, recorded trust).
"""

import ast
import inspect
import math
import textwrap

from .errors import DerivationError

STEP = "derive"  # the step's name in the pipeline, and in the start-up self-test's messages
ROWS_CHECKED_ALONE = 20  # training rows derived one at a time too, to compare with the whole frame's


def derives_nothing(function):
    """Whether `function` only returns its argument (`return frame`, a docstring and comments aside), as features.py
    is generated. Such a step would change nothing, so train.py leaves it out: the pipeline is then exactly what it
    would be without features.py (and converts to ONNX)."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return False
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.FunctionDef) or node.decorator_list or not node.args.args:
        return False
    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
    return (
        len(body) == 1
        and isinstance(body[0], ast.Return)
        and isinstance(body[0].value, ast.Name)
        and body[0].value.id == node.args.args[0].arg
    )


def derive_step(function):
    """-> the pipeline's first steps: [("derive", FunctionTransformer(function))], or [] when it derives nothing."""
    if derives_nothing(function):
        return []
    from sklearn.preprocessing import FunctionTransformer

    # validate=False (the default since scikit-learn 0.22, stated for older ones): the DataFrame reaches the function
    # as it is, columns and dtypes included.
    return [(STEP, FunctionTransformer(function, validate=False))]


def where(function):
    """'features.derive' for the messages."""
    return "%s.%s" % (getattr(function, "__module__", "?"), getattr(function, "__qualname__", function))


def derived_frame(function, frame):
    """function(frame) checked the way the pipeline will use it: a DataFrame with a row per row, and `frame` left as it
    was (the pipeline calls it on the rows it is given, and the service hands the same rows to after_predict)."""
    before = list(frame.columns)
    try:
        derived = function(frame.copy())
        probe = frame.copy()
        function(probe)
    except Exception as exc:
        raise DerivationError(
            "%s failed on the training rows: %s: %s" % (where(function), type(exc).__name__, exc)
        ) from exc
    if not hasattr(derived, "columns") or not hasattr(derived, "index"):
        raise DerivationError(
            "%s must return a pandas DataFrame (it returned %s)" % (where(function), type(derived).__name__)
        )
    if len(derived) != len(frame):
        raise DerivationError(
            "%s returned %d rows for %d: it must return one row per row it gets (the model predicts each request "
            "row)" % (where(function), len(derived), len(frame))
        )
    if list(probe.columns) != before:
        raise DerivationError(
            "%s changes the frame it is given (its columns became %s): work on a copy, `frame = frame.copy()` "
            "first or `return frame.assign(...)`" % (where(function), [str(c) for c in probe.columns])
        )
    for name in derived.columns:
        if not isinstance(name, str):
            raise DerivationError(
                "%s returned a column named %r: column names must be strings" % (where(function), name)
            )
    _check_row_by_row(function, frame, derived)
    return derived


def _check_row_by_row(function, frame, derived):
    """A row's derived values must not depend on the other rows it comes with: the service predicts a request's rows
    together, and the gateway batches different callers' rows into one request, so a mean() or a rank() over the
    frame would give a caller an answer that depends on strangers' rows."""
    for i in range(min(len(frame), ROWS_CHECKED_ALONE)):
        alone = function(frame.iloc[[i]].copy())
        for name in derived.columns:
            among = derived[name].iloc[i]
            single = alone[name].iloc[0] if name in getattr(alone, "columns", ()) else "(no such column)"
            if not _same(among, single):
                raise DerivationError(
                    "%s gives row %d's %r as %r among the training rows but %r when it gets that row alone: it "
                    "must compute each row from that row only (no mean(), rank(), shift() or the like over the frame; "
                    "a constant from training goes into features.py as a number), since requests, and the gateway's "
                    "batches of several callers' rows, bring other rows along"
                    % (where(function), i, name, among, single)
                )


def _same(a, b):
    try:
        if a is b or a == b:
            return True
    except (TypeError, ValueError):
        return False
    try:
        if a != a and b != b:  # NaN, NaT, pd.NA alike
            return True
    except (TypeError, ValueError):
        return False
    return (
        isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    )
