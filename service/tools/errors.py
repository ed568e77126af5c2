"""The error every build-time step raises for what the user must change (its message says what), shared by the
schema derivation and the ONNX conversion so neither imports the other for it."""


class DerivationError(ValueError):
    """The data or the model cannot be described by the contract; the message says what to change."""
