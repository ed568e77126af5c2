"""The onnx runtime: the pipeline compiled to model.onnx (tools/onnx_conversion.py, at training or import time) and
run by onnxruntime. It answers like the fitted pipeline does (predict, predict_proba, classes_), so the rest of the
service does not know which runtime predicts; it needs numpy and onnxruntime only: no scikit-learn, SciPy, pandas or
skops is imported when the service runs on it.

The graph's inputs fit the model (tools/onnx_inputs.py, recorded in schema.json's model.onnx.inputs): one [rows, 1]
input per feature when a ColumnTransformer selects columns by name, else one [rows, features] matrix in schema
order. Numbers are float32 (what scikit-learn's trees compute in anyway; the conversion proved the difference for
the linear models within tolerance) with NaN for null, categories and text strings with MISSING_CATEGORY for null
(the converted imputers treat it as missing; text goes to the converted TfidfVectorizer/CountVectorizer). Input names
are the graph's own (a feature name need not be a valid ONNX name); clients only ever see the feature names.
"""

import os

import numpy as np

ARTIFACT = "model.onnx"
# A null category: ONNX string tensors cannot hold NaN, so the converted imputers are told that this string is missing.
# No category is ever "" (read_csv reads an empty cell as missing, and describe_features lists only real values).
MISSING_CATEGORY = ""
NUMBER_DTYPE = np.float32
LABEL_OUTPUT, PROBABILITY_OUTPUT, VALUE_OUTPUT = "label", "probabilities", "variable"
# model.onnx.inputs' layouts; a schema.json written before they were recorded has one input per feature, named after it.
COLUMNS, MATRIX = "columns", "matrix"
MATRIX_INPUT = "X"
# Feature types fed as string tensors: categories, and text for the converted TfidfVectorizer/CountVectorizer.
STRING_TYPES = ("category", "text")


class Columns(dict):
    """The request as the onnx runtime predicts it, and as its hooks get it: {feature: 1-D numpy column}, in schema
    order. It keeps the two DataFrame habits a hook most often has: `frame.columns` (the names) and `len(frame)` (the
    rows, not the columns); frame["x"] and frame["x"] = ... work as on a DataFrame."""

    @property
    def columns(self):
        return list(self.keys())

    def __len__(self):
        for column in self.values():
            return len(column)
        return 0


def new_session(blob):
    """An InferenceSession with one thread for the operators and one for the graph.

    gunicorn already runs one process per worker, each predicting one request at a time (prediction._MODEL_LOCK), and
    the Procfile sizes the workers to the instance's cores. onnxruntime's default pool is a thread per core in every
    session: N workers would run N x cores threads fighting for N cores, and a one-row forest is far too small to
    split. One thread each keeps a worker's call short and its neighbours unaffected.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    return onnxruntime.InferenceSession(blob, options, providers=["CPUExecutionProvider"])


class OnnxModel(object):
    """model.onnx behind the part of the scikit-learn estimator API the service calls."""

    def __init__(self, blob, features, classes=None, labels_from_proba=True, inputs=None):
        """features: schema.json's feature list; inputs: its model.onnx.inputs (None: one input per feature, named
        after it)."""
        self._blob = blob
        self.feature_names_in_ = [f["name"] for f in features]
        inputs = inputs or {"layout": COLUMNS, "names": self.feature_names_in_}
        # (feature, input name, dtype): a DataFrame or float64 column (a test, a before_predict hook) is fed as the
        # graph wants
        dtypes = [object if f["type"] in STRING_TYPES else NUMBER_DTYPE for f in features]
        self._matrix = inputs["name"] if inputs["layout"] == MATRIX else None
        names = [self._matrix] * len(features) if self._matrix else inputs["names"]
        self._inputs = list(zip(self.feature_names_in_, names, dtypes))
        self.labels_from_proba = labels_from_proba
        if classes is not None:
            self.classes_ = np.array(classes, dtype=object)
            # The graph's label output is a string or an int64 tensor; the schema's classes keep their JSON type.
            self._label_of = dict((str(c), c) for c in classes)
        self._session = None
        self._pid = None

    def session(self):
        # Created in the process that predicts, on first use: a session made before gunicorn forks (preload_app, or
        # the start-up self-test in the master) would share its thread pool state with every child.
        pid = os.getpid()
        if self._pid != pid:
            self._session = new_session(self._blob)
            self._pid = pid
        return self._session

    def _feed(self, columns):
        if self._matrix:
            # one element type per matrix (tools/onnx_inputs.py refuses a mix), in schema order
            dtype = self._inputs[0][2] if self._inputs else NUMBER_DTYPE
            return {self._matrix: np.column_stack([np.asarray(columns[f], dtype=dtype) for f, _n, _d in self._inputs])}
        # asarray of a column already of that dtype (what build_columns makes) copies nothing
        return {name: np.asarray(columns[f], dtype=dtype).reshape(-1, 1) for f, name, dtype in self._inputs}

    def predict_proba(self, columns):
        return self.session().run([PROBABILITY_OUTPUT], self._feed(columns))[0]

    def predict(self, columns):
        if hasattr(self, "classes_"):
            labels = self.session().run([LABEL_OUTPUT], self._feed(columns))[0].ravel()
            return np.array([self._label_of[str(label)] for label in labels], dtype=object)
        return self.session().run([VALUE_OUTPUT], self._feed(columns))[0].ravel()
