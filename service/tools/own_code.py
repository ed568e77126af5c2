"""Which of the project's own modules a fitted model runs, and whether whoever writes it vouched for them.

A pipeline may call code of the project (features.py's derive(), train.py makes it the first step; a transformer class
of your own in a notebook model). Saved, it names that code by reference (`features.derive`), so loading the model
imports and runs it: that trust is the user's, given explicitly (train.py's TRUSTED_CODE; the importer's trust flags)
and recorded in schema.json (model.ownCode, with the sha256 of each file: serving/own_code.py refuses a model whose
code has changed since; for skops also model.trustedTypes, the exact functions and classes).
"""

import inspect

from serving import own_code

from .errors import DerivationError

# Where a fitted estimator keeps the estimators it fitted (get_params holds the unfitted ones).
_FITTED_PARTS = ("steps", "transformers_", "transformer_list", "estimators_", "estimator_", "named_estimators_")


def _objects(model):
    """The model and everything inside it: estimators, their parameters, fitted parts, lists, dicts and tuples."""
    seen, stack = set(), [model]
    while stack:
        item = stack.pop()
        if id(item) in seen or item is None or isinstance(item, (str, bytes, int, float, bool)):
            continue
        seen.add(id(item))
        yield item
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif getattr(getattr(item, "dtype", None), "kind", None) == "O" and hasattr(item, "ravel"):
            stack.extend(item.ravel().tolist())  # an array of estimators: gradient boosting's estimators_
        elif hasattr(item, "get_params") and not inspect.isclass(item):
            try:
                stack.extend(item.get_params(deep=False).values())
            except (
                Exception
            ):  # an estimator whose get_params needs more than its instance: its fitted parts still count
                pass
            stack.extend(getattr(item, name) for name in _FITTED_PARTS if hasattr(item, name))


def _module_of(item):
    if inspect.isfunction(item) or inspect.isclass(item) or inspect.ismethod(item) or inspect.isbuiltin(item):
        return getattr(item, "__module__", None) or ""
    return type(item).__module__ or ""


def own_modules(model, root=None):
    """The project's own top-level modules (a .py file or a package in `root`) whose functions or classes the model
    uses, sorted: features for a pipeline whose first step is FunctionTransformer(features.derive)."""
    names = set(_module_of(item).split(".")[0] for item in _objects(model))
    return sorted(name for name in names if name and own_code.module_path(name, root) is not None)


def vouch(model, trusted, root=None):
    """-> schema.json's model.ownCode for `model`: {module: sha256 of its code} for every module of the project it
    runs. `trusted` lists the modules whoever writes the model vouches for (train.py's TRUSTED_CODE); None means the
    model was loaded with the user's explicit trust already (the importer's --trust-type or --trust-pickle). A module
    outside `trusted` is refused: nothing of the project runs when the service loads a model unless someone said so.

    The trusted modules are recorded too when the model does not call them: train.py trained it with them as they are
    (a features.py whose derive() only returns its frame is why the pipeline has no derive step), so a change to them
    also means `make train`, and the service says so rather than serve a model that ignores it."""
    scripts = sorted(
        set(
            "%s.%s" % (_module_of(item), getattr(item, "__qualname__", type(item).__name__))
            for item in _objects(model)
            if _module_of(item) == "__main__"
        )
    )
    if scripts:
        raise DerivationError(
            "the model uses %s, defined in the script that trained it: the service cannot load that. Move it to a "
            "module of the project (derived features belong in features.py, whose derive() train.py puts in the "
            "pipeline)" % ", ".join(scripts)
        )
    modules = own_modules(model, root)
    if trusted is not None:
        unvouched = [m for m in modules if m not in trusted]
        if unvouched:
            raise DerivationError(
                "the model runs code of this project that nobody vouched for: %s. If you trust it, list the "
                "module in train.py's TRUSTED_CODE" % ", ".join("%s (%s.py)" % (m, m) for m in unvouched)
            )
    if trusted is not None:
        modules = sorted(set(modules) | set(m for m in trusted if own_code.module_path(m, root) is not None))
    try:
        return own_code.record(modules, root)
    except own_code.OwnCodeError as exc:
        raise DerivationError(str(exc)) from exc
