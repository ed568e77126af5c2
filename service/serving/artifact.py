"""Model artifacts on disk: the two formats schema.json may record (model.format), written and read in one place.

skops (the default where it installs, Python >= 3.9): a zip of JSON and arrays that loads without running code from
the file. Only the types skops trusts by default, plus the ones recorded in schema.json's model.trustedTypes (listed
when the model was trained or imported, by whoever vouched for it), are ever constructed; anything else is refused.
joblib: a pickle. Loading it runs whatever code it contains, so it is only for artifacts you made yourself (and for
the legacy platform, whose Python 3.6 has no skops).
"""

import io

FORMATS = ("skops", "joblib")
ARTIFACT_NAMES = {"skops": "model.skops", "joblib": "model.joblib"}


class ArtifactError(ValueError):
    """The artifact cannot be read or written in the format asked for; the message says what to do."""


def _skops_io():
    try:
        import skops.io as sio
    except ImportError:
        raise ArtifactError(
            "this model is a skops file but skops is not installed: it is in requirements.txt on "
            "the al2023 platform (the legacy platform's Python 3.6 cannot run skops: use joblib)"
        ) from None
    return sio


def dumps(model, fmt):
    """model -> (bytes, the skops types outside skops' default trust that the bytes contain)."""
    if fmt == "joblib":
        import joblib

        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        return buffer.getvalue(), []
    if fmt == "skops":
        sio = _skops_io()
        blob = sio.dumps(model)
        return blob, sorted(sio.get_untrusted_types(data=blob))
    raise ArtifactError("unknown model format %r; use one of: %s" % (fmt, ", ".join(FORMATS)))


def untrusted_types(blob, trusted):
    """The types in a skops blob that neither skops nor `trusted` vouches for (empty: safe to load)."""
    allowed = set(trusted or ())
    return sorted(t for t in _skops_io().get_untrusted_types(data=blob) if t not in allowed)


def loads(blob, fmt, trusted=None):
    """bytes -> model. For skops, `trusted` is the explicit list of extra types; never "trust everything"."""
    if fmt == "joblib":
        import joblib

        return joblib.load(io.BytesIO(blob))
    if fmt == "skops":
        trusted = list(trusted or [])
        unknown = untrusted_types(blob, trusted)
        if unknown:
            raise ArtifactError(
                "the skops file contains types nobody vouched for: %s. If you trust them, import the "
                "model again with %s" % (", ".join(unknown), " ".join("--trust-type " + t for t in unknown))
            )
        return _skops_io().loads(blob, trusted=trusted)
    raise ArtifactError("unknown model format %r; use one of: %s" % (fmt, ", ".join(FORMATS)))
