"""Derived features: columns computed from the ones a request sends, by the same code in training and in service.

This file is yours: generator-sci-eb never changes it after creating it. train.py makes derive() the first step of the
fitted pipeline, so:
  * requests (and schema.json, and the gateway) keep the columns your data has; the model gets the ones derive()
    returns, every one of them (numbers through the pipeline's numeric branch, strings through its categorical one);
  * the service runs it as part of the model, on every request: nothing to add to application.py;
  * after a change here, run `make train`. The model records this file's sha256 (schema.json's model.ownCode), and
    the service refuses to start with a features.py other than the one it was trained with.

While derive() only returns its frame, as below, train.py leaves it out of the pipeline. The onnx runtime cannot run
Python: on it, `make train` refuses a derive() that does anything, saying so (the sklearn runtime serves it).
"""


def derive(frame):
    """`frame`: a pandas DataFrame of the features schema.json lists (numbers as float64, categories as strings,
    NaN where a value is missing), one row per row to predict. Return the frame the model gets: a new one (start
    from `frame.copy()`, or `return frame.assign(...)`) with a row per row, numbers or strings in every column."""
    return frame
