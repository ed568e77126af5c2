"""Recording trust: the only writer of the project's trust.json (serving/trust.py reads it).

Called by write_model_folder for every model it writes, i.e. by the commands a user runs to make a model: train.py
(which vouches for what it trained itself) and `make import` (whose --trust-pickle / --trust-type flags are the user
vouching for a model made elsewhere; what it re-saves is built from the model those flags let it load). Entries are
added, never removed, each with who vouched and when, so trust.json reads as a log of decisions in review; delete an
entry to withdraw it. Nothing in model/ is ever read to decide what to add.
"""

import datetime
import json
import os
import tempfile

from serving import trust as trust_file


class VouchRefused(ValueError):
    """What was asked to be trusted runs code; nothing was recorded."""


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def refuse_dangerous(types):
    """Raise VouchRefused for a list of skops types holding any that run code (the service would refuse them)."""
    dangerous = sorted(t for t in types if trust_file.runs_code(t))
    if dangerous:
        raise VouchRefused(
            "the model holds %s, which run code, files, processes or the network when it loads or predicts: the "
            "service refuses these even when trusted, so the model cannot be served. Rebuild it without them"
            % ", ".join(dangerous)
        )


def vouch(skops_types=(), pickle_sha256=None, by="train.py", path=None, log=print):
    """Add skops types and/or one pickle digest to trust.json (created when absent); return the Trust written.

    `by` says who vouched (train.py, an import and its flags); it is stored with the time beside each new entry.
    """
    refuse_dangerous(skops_types)
    path = path or trust_file.project_file()
    current = trust_file.read(path)
    note = "%s, %s" % (by, _now())
    added = []
    for name in skops_types:
        if name not in current.skops_types:
            current.skops_types[name] = note
            added.append("skops type " + name)
    if pickle_sha256 is not None:
        digest = str(pickle_sha256).lower()
        if digest not in current.pickles:
            current.pickles[digest] = note
            added.append("pickle %s" % digest[:12])
    if added:
        _write(path, current.to_json())
        log("%s: vouched for %s (%s); commit it with model/" % (os.path.basename(path), ", ".join(added), by))
    return current


def _write(path, data):
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(dir=directory, prefix="." + trust_file.FILE_NAME + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(temp, 0o644)  # the web server's user reads it on EB
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise
