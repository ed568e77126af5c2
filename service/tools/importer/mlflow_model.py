"""An MLflow model folder as MLflow writes it, read without MLflow and without loading the model: MLmodel (the sklearn
flavor's file, format, scikit-learn version, skops_trusted_types and code folder, the signature, the input example),
the training environment's requirements.txt (or conda.yaml's pip list) and input_example.json.

Standard library only: the generator reads a folder with the system's python3 before any venv exists (preflight.py).
PyYAML reads MLmodel where it is installed (a project's venv has it); without it, the block-style subset MLflow
writes (yaml.safe_dump) is read here.
"""

import json
import os
import re

from . import ImportRefused

# What MLflow's signature types become in the sample frame built from the input example (pandas dtypes). A "datetime"
# column (what mlflow.models.infer_signature makes of any datetime64 column, dates included) is a datetime feature
# (tools/schema_derivation.py MLFLOW_TYPES), a date with --feature-type NAME=date.
SIGNATURE_DTYPES = {
    "double": "float64",
    "float": "float64",
    "long": "Int64",
    "integer": "Int64",
    "boolean": "boolean",
    "string": "object",
    "datetime": "datetime64",
}


def read_folder(folder):
    """-> facts about the MLflow folder (see below), or ImportRefused saying what is not an MLflow sklearn model."""
    mlmodel = os.path.join(folder, "MLmodel")
    if not os.path.isfile(mlmodel):
        raise ImportRefused(
            "%s is a folder without an MLmodel file (it holds: %s); an MLflow model folder has one"
            % (folder, ", ".join(sorted(os.listdir(folder))[:8]) or "nothing")
        )
    with open(mlmodel, encoding="utf-8") as fh:
        try:
            meta = load_yaml(fh.read()) or {}
        except ValueError as exc:
            raise ImportRefused("cannot read %s: %s" % (mlmodel, exc)) from exc
    flavors = meta.get("flavors") or {}
    flavor = flavors.get("sklearn")
    if not flavor:
        raise ImportRefused(
            "%s is an MLflow model without the sklearn flavor (its flavors: %s); only scikit-learn "
            "models can be served here" % (folder, ", ".join(sorted(flavors)) or "none")
        )
    fmt = flavor.get("serialization_format", "cloudpickle")
    model_file = os.path.join(folder, flavor.get("pickled_model", "model.pkl"))
    if not os.path.isfile(model_file):
        raise ImportRefused("%s names %s as its model, but that file is missing" % (mlmodel, model_file))
    requirements = requirements_of(folder)
    code = flavor.get("code")
    code_dir = os.path.join(folder, code) if code else None
    example_info = meta.get("saved_input_example_info") or {}
    example = os.path.join(folder, example_info.get("artifact_path") or "input_example.json")
    facts = {
        "folder": folder,
        "format": "skops" if fmt == "skops" else "pickle",
        "modelFile": model_file,
        "sklearnVersion": flavor.get("sklearn_version") or requirements.get("scikit-learn"),
        "inputs": signature_inputs(meta, mlmodel),
        "requirements": requirements,
        "trustedTypes": sorted(str(t) for t in flavor.get("skops_trusted_types") or []),
        "code": code_dir if code_dir and os.path.isdir(code_dir) else None,
        "example": example if os.path.isfile(example) else None,
    }
    return facts


def signature_inputs(meta, mlmodel):
    """The signature's named input columns [{name, type, required}], or None without a column signature."""
    signature = meta.get("signature") or {}
    inputs = signature.get("inputs")
    if not inputs:
        return None
    columns = json.loads(inputs) if isinstance(inputs, str) else inputs
    if any(c.get("type") == "tensor" or not c.get("name") for c in columns):
        raise ImportRefused(
            "%s has a tensor signature (inputs without column names); the API takes named columns: log the model "
            "with a signature inferred from a DataFrame (mlflow.models.infer_signature(X_train_dataframe, ...))"
            % mlmodel
        )
    unknown = ["%s (%s)" % (c["name"], c.get("type")) for c in columns if c.get("type") not in SIGNATURE_DTYPES]
    if unknown:
        raise ImportRefused(
            "%s types input column(s) %s, which the API cannot express (it takes %s): convert them in the "
            "pipeline to numbers or strings, log the model again, and import that"
            % (mlmodel, ", ".join(unknown), ", ".join(sorted(SIGNATURE_DTYPES)))
        )
    return columns


_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;#,]+)")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements_of(folder):
    """{canonical distribution name: pinned version} from requirements.txt, else conda.yaml's pip list."""
    found = {}
    for name in ("requirements.txt", "conda.yaml"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    match = _REQUIREMENT.match(line.strip().lstrip("-").strip())
                    if match:
                        found.setdefault(canonical(match.group(1)), match.group(2))
            if found:
                return found
    return found


def example_rows(facts):
    """The input example as (columns, rows), or None. MLflow writes a DataFrame example in pandas' split orient."""
    if not facts.get("example"):
        return None
    with open(facts["example"], encoding="utf-8") as fh:
        try:
            example = json.load(fh)
        except ValueError as exc:
            raise ImportRefused("cannot read %s: %s" % (facts["example"], exc)) from exc
    if isinstance(example, dict) and "columns" in example and "data" in example:
        return [str(c) for c in example["columns"]], example["data"]
    if isinstance(example, dict) and "dataframe_split" in example:
        return example_rows_from(example["dataframe_split"])
    if isinstance(example, list) and example and all(isinstance(r, dict) for r in example):
        columns = list(example[0])
        return columns, [[r.get(c) for c in columns] for r in example]
    return None


def example_rows_from(split):
    return [str(c) for c in split["columns"]], split["data"]


# --- YAML ---------------------------------------------------------------------------------------------------------


def load_yaml(text):
    try:
        import yaml
    except ImportError:
        return parse_block_yaml(text)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from exc


def parse_block_yaml(text):
    """The block-style YAML yaml.safe_dump writes (what MLmodel is): mappings, sequences of scalars, plain and quoted
    scalars (quoted ones folded over several lines), {} and []. Anything else raises ValueError."""
    lines = [
        (len(line) - len(line.lstrip(" ")), line.strip())
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    value, end = _block(lines, 0, 0)
    if end != len(lines):
        raise ValueError("unexpected indentation at: %s" % lines[end][1])
    return value


def _block(lines, start, indent):
    if start >= len(lines) or lines[start][0] < indent:
        return None, start
    indent = lines[start][0]
    if lines[start][1].startswith("- ") or lines[start][1] == "-":
        items, i = [], start
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("-"):
            scalar, i = _scalar(lines, i, lines[i][1][1:].strip(), indent)
            items.append(scalar)
        return items, i
    mapping, i = {}, start
    while i < len(lines) and lines[i][0] == indent:
        content = lines[i][1]
        match = re.match(r"^('(?:[^']|'')*'|[^:'\"][^:]*?|\"[^\"]*\"):(?:\s+(.*)|$)", content)
        if not match:
            raise ValueError("cannot read the line: %s" % content)
        key = _plain_or_quoted(match.group(1))
        rest = (match.group(2) or "").strip()
        if rest:
            mapping[key], i = _scalar(lines, i, rest, indent)
        else:
            i += 1
            # A sequence may sit at the key's own indentation (safe_dump writes it so).
            if i < len(lines) and (lines[i][0] > indent or (lines[i][0] == indent and lines[i][1].startswith("-"))):
                mapping[key], i = _block(lines, i, lines[i][0])
            else:
                mapping[key] = None
    return mapping, i


def _scalar(lines, i, rest, indent):
    """The scalar starting with `rest` on line i (a quoted one may continue on more-indented lines) -> (value, next)."""
    if rest[:1] in ("'", '"'):
        quote, text, i = rest[0], rest, i + 1
        while not _closed(text, quote):
            if i >= len(lines) or lines[i][0] <= indent:
                raise ValueError("unterminated quoted scalar: %s" % rest)
            text += " " + lines[i][1]
            i += 1
        return _plain_or_quoted(text), i
    return _plain_or_quoted(rest), i + 1


def _closed(text, quote):
    if len(text) < 2 or not text.endswith(quote):
        return False
    if quote == "'":
        return "'" not in text[1:-1].replace("''", "")  # '' is an escaped quote inside
    return not re.search(r'(?<!\\)(\\\\)*\\"$', text)  # a closing quote not escaped by a backslash


def _plain_or_quoted(text):
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        return json.loads(text)
    if text in ("null", "~", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if text == "{}":
        return {}
    if text == "[]":
        return []
    if re.match(r"^[-+]?\d+$", text):
        return int(text)
    if re.match(r"^[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$", text):
        return float(text)
    return text
