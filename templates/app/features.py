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
    dates as datetime64, NaN or NaT where a value is missing), one row per row to predict. Return the frame the model
    gets: a new one (start from `frame.copy()`, or `return frame.assign(...)`) with a row per row, numbers or strings
    in every column, each row computed from that row alone: a request's rows are predicted together, and the gateway
    batches several callers' rows into one request, so a mean() or rank() over the frame would make one caller's
    answer depend on another's rows (make train refuses such a derive(); a constant from training goes here as a
    number).

    For example, a price per square metre, and a date column `listed` as numbers (a model cannot use a date itself):

        return frame.assign(
            price_per_m2=frame["price"] / frame["area"],
            listed_days=(frame["listed"] - pd.Timestamp("2020-01-01")).dt.days,  # import pandas as pd above
            listed_month=frame["listed"].dt.month,
        ).drop(columns=["listed"])
    """
    return frame
