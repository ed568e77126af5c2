"""Model artifacts on disk: the two formats schema.json may record (model.format), written and read in one place.

skops (the default where it installs, Python >= 3.9): a zip of JSON and arrays that loads without running code from
the file. Only the types skops trusts by default, plus the ones the project's trust.json lists (serving/trust.py:
vouched for by train.py or `make import --trust-type`, never by model/), are ever constructed; anything else is
refused, and so is a type that runs code (eval, os, subprocess...) even when listed.
joblib: a pickle. Loading it runs whatever code it contains, so the service loads only the exact files trust.json
vouches for (serving/bundle.py), and the legacy platform's Python 3.6, which has no skops, needs it.

A file must be what schema.json declares: its first bytes are checked (sniff) before anything reads it.
"""

import io
import json
import zipfile

from .trust import runs_code

FORMATS = ("skops", "joblib")
ARTIFACT_NAMES = {"skops": "model.skops", "joblib": "model.joblib"}
# joblib.dump writes a pickle (protocol 2 and later start with PROTO, 0x80), or one inside a zlib, gzip, bz2, xz or
# lz4 stream when asked to compress.
_PICKLE_PROTO = b"\x80"
_COMPRESSED_JOBLIB = (
    b"\x78\x01",
    b"\x78\x5e",
    b"\x78\x9c",
    b"\x78\xda",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"\x04\x22M\x18",
)


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
        trusted = sorted(sio.get_untrusted_types(data=blob))
        return reproducible_skops(blob, trusted), trusted
    raise ArtifactError("unknown model format %r; use one of: %s" % (fmt, ", ".join(FORMATS)))


def sniff(blob):
    """The format the bytes are in: "skops" (a zip holding skops' schema.json), "joblib" (a pickle, plain or in a
    compressed stream) or None (neither)."""
    head = bytes(blob[:8])
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(blob)) as archive:
                return "skops" if "schema.json" in archive.namelist() else None
        except (zipfile.BadZipFile, ValueError):
            return None
    if head.startswith(_PICKLE_PROTO) or head.startswith(_COMPRESSED_JOBLIB):
        return "joblib"
    return None


def check_format(blob, fmt):
    """Refuse bytes that are not in the declared format: a pickle never loads as anything else."""
    if fmt not in FORMATS:
        raise ArtifactError("unknown model format %r; use one of: %s" % (fmt, ", ".join(FORMATS)))
    found = sniff(blob)
    if found != fmt:
        raise ArtifactError(
            "the file is declared as %s but its bytes are %s"
            % (fmt, "a %s file" % found if found else "neither a skops file nor a joblib pickle")
        )


# 1980-01-01, the earliest time a zip can record.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def reproducible_skops(blob, trusted):
    """The same skops file, written so that equal models give equal bytes (and so the same sha256 and version).

    skops names each array file and tags each object with id() of the object in the process that saved it, and stamps
    every zip entry with the time: two fits of the same data with the same seed gave two files. Here the ids become
    1, 2, 3... and the files 1.npy, 2.npy... in the order schema.json first names them, and every entry gets the same
    time and attributes. Only these names change, consistently, so skops loads the same objects with the same sharing;
    the result is loaded once to prove it. If the file is not laid out as expected (another skops), it is kept as
    skops wrote it: correct, only not reproducible.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            infos = archive.infolist()
            members = {info.filename: archive.read(info.filename) for info in infos}
            compression = {info.filename: info.compress_type for info in infos}
        schema = json.loads(members.pop("schema.json").decode("utf-8"))
    except (KeyError, ValueError, zipfile.BadZipFile):
        return blob
    ids, names = {}, {}

    def rename(node):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "__id__" and isinstance(value, int) and not isinstance(value, bool):
                    value = ids.setdefault(value, len(ids) + 1)
                elif isinstance(value, str) and value in members:
                    extension = value.rsplit(".", 1)[1] if "." in value else ""
                    value = names.setdefault(value, "%d%s" % (len(names) + 1, "." + extension if extension else ""))
                else:
                    value = rename(value)
                out[key] = value
            return out
        if isinstance(node, list):
            return [rename(item) for item in node]
        return node

    canonical_schema = rename(schema)
    if set(names) != set(members):  # a file schema.json does not name, or names twice: not the layout expected
        return blob
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entries = sorted(names.items(), key=lambda item: int(item[1].split(".")[0]))
        entries.append(("schema.json", "schema.json"))
        members["schema.json"] = json.dumps(canonical_schema, indent=2).encode("utf-8")
        for old, new in entries:
            info = zipfile.ZipInfo(new, date_time=ZIP_EPOCH)
            info.compress_type = compression.get(old, zipfile.ZIP_STORED)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, members[old])
    result = buffer.getvalue()
    try:
        loads(result, "skops", trusted)
    except Exception:  # noqa: BLE001 - any failure to load means: keep what skops wrote
        return blob
    return result


def untrusted_types(blob, trusted):
    """The types in a skops blob that neither skops nor `trusted` vouches for (empty: safe to load)."""
    allowed = set(trusted or ())
    return sorted(t for t in _skops_io().get_untrusted_types(data=blob) if t not in allowed)


def loads(blob, fmt, trusted=None):
    """bytes -> model. The bytes must be in `fmt`. For skops, `trusted` is the explicit list of extra types, never
    "trust everything", and types that run code are refused even when listed. Whether a pickle may be loaded at all
    is the caller's decision (serving/bundle.py asks trust.json; the importer, --trust-pickle)."""
    check_format(blob, fmt)
    if fmt == "joblib":
        import joblib

        return joblib.load(io.BytesIO(blob))
    if fmt == "skops":
        trusted = list(trusted or [])
        needed = _skops_io().get_untrusted_types(data=blob)
        dangerous = sorted(t for t in needed if runs_code(t))
        if dangerous:
            raise ArtifactError(
                "the skops file contains %s, which run code, files, processes or the network when the model loads or "
                "predicts: refused, even if trusted" % ", ".join(dangerous)
            )
        unknown = sorted(t for t in needed if t not in set(trusted))
        if unknown:
            raise ArtifactError(
                "the skops file contains types nobody vouched for: %s. If you trust them, import the "
                "model again with %s" % (", ".join(unknown), " ".join("--trust-type " + t for t in unknown))
            )
        # Exactly the vouched-for types this file needs: nothing else is constructed.
        return _skops_io().loads(blob, trusted=sorted(t for t in needed if t in set(trusted)))
    raise ArtifactError("unknown model format %r; use one of: %s" % (fmt, ", ".join(FORMATS)))
