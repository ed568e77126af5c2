"""The environment follows the artifact: a model is only safe with the scikit-learn that wrote it, so a model from
another version either re-pins the project (requirements.txt and requirements-dev.txt, then the venv rebuilt from them
and the whole import run again inside it) or is refused with the pins that would follow it.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

import sklearn

from serving import settings

from . import PROJECT_ROOT, ImportRefused

PYTHON_VERSION = settings.PYTHON_VERSION
OTHER_PYTHONS = settings.OTHER_PYTHONS
WHEEL_ARCH = settings.WHEEL_ARCH
REQUIREMENT_FILES = ("requirements.txt", "requirements-dev.txt")
# What the rebuilt venv runs: the same entry point users and the Makefile call, so the re-run is the import they asked
# for, only in the new venv.
IMPORTER = os.path.join(PROJECT_ROOT, "tools", "import_model.py")
_PIN_LINE = re.compile(r"^(\s*)([A-Za-z0-9][A-Za-z0-9._-]*)(\s*===?\s*)([^\s;#]+)(.*)$", re.DOTALL)


def wheel_set(version, python):
    """scikit-learn==version with numpy/scipy/pandas/joblib that pip resolves to binary wheels for the EB instances
    (manylinux for glibc 2.34, this project's architecture) and `python`: {name: version}, or None when none exist."""
    numpy_abi = []
    parts = tuple(int(p) for p in version.split(".")[:3] if p.isdigit())
    if parts < (1, 4, 2):  # wheels before 1.4.2 are built against numpy 1.x: numpy 2 cannot import them
        numpy_abi = ["numpy<2", "pandas<2.2.2", "scipy<1.13"]
    report = tempfile.mktemp(suffix=".json")
    platforms = [
        a
        for tag in ("manylinux_2_34", "manylinux_2_28", "manylinux_2_17", "manylinux2014")
        for a in ("--platform", "%s_%s" % (tag, WHEEL_ARCH))
    ]
    command = (
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--python-version",
            python,
            "--implementation",
            "cp",
            "--target",
            tempfile.mkdtemp(prefix="wheels-"),
            "--report",
            report,
        ]
        + platforms
        + ["scikit-learn==" + version, "numpy", "scipy", "pandas", "joblib", "threadpoolctl"]
        + numpy_abi
    )
    try:
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
        if done.returncode != 0:
            return None
        with open(report, encoding="utf-8") as fh:
            installed = json.load(fh)["install"]
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    finally:
        if os.path.exists(report):
            os.remove(report)
    wanted = ("scikit-learn", "numpy", "scipy", "pandas", "joblib", "threadpoolctl")
    return dict(
        (i["metadata"]["name"].lower(), i["metadata"]["version"])
        for i in installed
        if i["metadata"]["name"].lower() in wanted
    )


def pins_text(pins):
    return " ".join("%s==%s" % kv for kv in sorted(pins.items()))


def version_advice(written_by, pins):
    """What would let this project run the model's own scikit-learn when the import does not re-pin by itself."""
    if pins:
        return (
            "Pins with binary wheels for Python %s (%s) that follow the artifact: %s. Import without --keep-pins "
            "and the importer writes them to requirements.txt and rebuilds the venv (or put them there yourself, "
            "run `make venv`, and import again)" % (PYTHON_VERSION, WHEEL_ARCH, pins_text(pins))
        )
    others = [p for p in OTHER_PYTHONS if wheel_set(written_by, p)]
    if others:
        return (
            "scikit-learn %s has no binary wheels for Python %s (%s); it has for Python %s: generate the project "
            "with --python-version %s, or re-save the model with this project's scikit-learn"
            % (written_by, PYTHON_VERSION, WHEEL_ARCH, ", ".join(others), others[0])
        )
    return (
        "scikit-learn %s has no binary wheels for any Python this platform offers (%s, %s): re-save the model with "
        "this project's scikit-learn" % (written_by, ", ".join([PYTHON_VERSION] + OTHER_PYTHONS), WHEEL_ARCH)
    )


def check_versions(written_by, args):
    """A model is only safe with the scikit-learn that wrote it. -> the pins that follow the artifact when the project
    should be re-pinned to them (see repin_and_import), else None (same version, or --allow-version-mismatch)."""
    if not written_by or written_by == sklearn.__version__:
        return None
    if args.allow_version_mismatch:
        print(
            "warning: the model was written by scikit-learn %s, but this project runs scikit-learn %s; importing "
            "it anyway (--allow-version-mismatch): the proof decides" % (written_by, sklearn.__version__)
        )
        return None
    pins = wheel_set(written_by, PYTHON_VERSION)
    if pins and not args.keep_pins:
        return pins
    raise ImportRefused(
        "the model was written by scikit-learn %s, but this project runs scikit-learn %s "
        "(requirements.txt). scikit-learn does not promise that a model loads or predicts the same "
        "under another version. %s. Or save the model again from an environment with "
        "scikit-learn==%s (refit it there). To import it anyway and let the proof decide, add "
        "--allow-version-mismatch"
        % (written_by, sklearn.__version__, version_advice(written_by, pins), sklearn.__version__)
    )


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def repinned(text, pins):
    """-> (text with the version of each line that pins one of `pins` replaced, [(name, old, new)]). Every other line,
    comment, extra and marker stays as it was, in its place: the build order does not change."""
    wanted = dict((canonical(k), v) for k, v in pins.items())
    lines, changed = [], []
    for line in text.splitlines(True):
        found = _PIN_LINE.match(line)
        if found and canonical(found.group(2)) in wanted:
            new = wanted[canonical(found.group(2))]
            if found.group(4) != new:
                changed.append((found.group(2), found.group(4), new))
                line = found.group(1) + found.group(2) + found.group(3) + new + found.group(5)
        lines.append(line)
    return "".join(lines), changed


def staged_requirements(root, written_by, pins):
    """-> ({file name: its text re-pinned to `pins`}, [(file name, package, old, new)]) for the requirement files
    `root` has; nothing is written. Refused when requirements.txt has no scikit-learn pin to move to `written_by`."""
    staged, changes = {}, []
    for name in REQUIREMENT_FILES:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8", newline="") as fh:  # newline="": CRLF files stay CRLF
                text, changed = repinned(fh.read(), pins)
            staged[name] = text
            changes.extend((name,) + c for c in changed)
    if not [c for c in changes if c[0] == "requirements.txt" and canonical(c[1]) == "scikit-learn"]:
        raise ImportRefused(
            "the model was written by scikit-learn %s, but requirements.txt has no scikit-learn==... "
            "line to re-pin: add scikit-learn==%s (with %s) to it, run `make venv`, and import again"
            % (written_by, written_by, pins_text(pins))
        )
    return staged, changes


def base_python():
    """The interpreter the venv was made from (what `make venv` runs as $(PYTHON) -m venv)."""
    candidate = getattr(sys, "_base_executable", None)
    return candidate if candidate and os.path.isfile(candidate) else os.path.realpath(sys.executable)


def run_step(command, log=None):
    """The exit code of `command`; when this process is interrupted, the step is interrupted too and waited for
    (a terminal's Ctrl-C reaches both; a SIGINT to this process alone must not leave pip writing into the venv that
    is about to be removed, or the import's own service running)."""
    step = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT if log else None)
    try:
        return step.wait()
    except BaseException:
        if step.poll() is None:
            step.send_signal(signal.SIGINT)
            try:
                step.wait(timeout=60)
            except subprocess.TimeoutExpired:
                step.kill()
                step.wait()
        raise


def repin_and_import(written_by, pins, argv):
    """requirements.txt (and requirements-dev.txt) re-pinned to `pins`, the venv built again from them as `make venv`
    does, and the whole import (load, derive, prove in process and over HTTP, swap model/) run again in that venv. Only
    when it succeeds do the new requirement files replace the old ones; on any failure or interruption the old venv
    (with its .installed marker) is put back and the requirement files were never touched."""
    venv = sys.prefix
    if os.path.realpath(sys.prefix) == os.path.realpath(sys.base_prefix):
        raise ImportRefused(
            "the model was written by scikit-learn %s and the project must follow it (%s), but the "
            "importer runs in %s, which is not a venv it can rebuild: run it from the project's venv "
            "(make import), or add --keep-pins to only be told the pins" % (written_by, pins_text(pins), venv)
        )
    staged, changes = staged_requirements(PROJECT_ROOT, written_by, pins)
    print(
        "the model was written by scikit-learn %s; this project ran %s. Re-pinning to a set with binary wheels for "
        "Python %s (%s): %s"
        % (
            written_by,
            sklearn.__version__,
            PYTHON_VERSION,
            WHEEL_ARCH,
            ", ".join("%s %s -> %s (%s)" % (n, o, v, f) for f, n, o, v in changes),
        )
    )
    sys.stdout.flush()
    staging = tempfile.mkdtemp(prefix=".requirements-import-", dir=PROJECT_ROOT)
    aside = tempfile.mkdtemp(prefix=os.path.basename(venv) + ".before-import-", dir=os.path.dirname(venv))
    os.rmdir(aside)
    python = base_python()
    moved = committed = False
    log = tempfile.TemporaryFile()
    try:
        for name, text in staged.items():
            with open(os.path.join(staging, name), "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        install_from = os.path.join(
            staging, "requirements-dev.txt" if "requirements-dev.txt" in staged else "requirements.txt"
        )
        os.rename(venv, aside)
        moved = True
        print(
            "rebuilding %s from the new pins (%s -m venv, pip install -r %s), as make venv does; the old venv is "
            "kept until the import is proven" % (venv, python, os.path.basename(install_from))
        )
        sys.stdout.flush()
        for step in (
            [python, "-m", "venv", venv],
            [
                os.path.join(venv, "bin", "python"),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-r",
                install_from,
            ],
        ):
            if run_step(step, log) != 0:
                log.seek(0)
                raise ImportRefused(
                    "building the venv from the new pins failed (%s):\n%s"
                    % (" ".join(step[:4]), log.read().decode("utf-8", "replace")[-3000:])
                )
        # --keep-pins: the new venv runs the model's own scikit-learn; should it still disagree, refuse, never loop.
        done = run_step([os.path.join(venv, "bin", "python"), IMPORTER] + list(argv) + ["--keep-pins"])
        if done != 0:
            raise ImportRefused(
                "the import in the venv rebuilt for scikit-learn %s did not succeed (above)" % written_by
            )
        for name in sorted(set(c[0] for c in changes)):  # a file without a changed pin keeps even its mtime
            os.replace(os.path.join(staging, name), os.path.join(PROJECT_ROOT, name))
        committed = True
        with open(os.path.join(venv, ".installed"), "w"):  # make's marker, newer than the requirement files
            pass
    except BaseException:
        if moved and not committed:
            shutil.rmtree(venv, ignore_errors=True)
            if os.path.exists(venv):
                shutil.rmtree(venv)
            os.rename(aside, venv)
            moved = False
            print("%s and %s are as they were before the import" % (", ".join(staged), venv), file=sys.stderr)
        raise
    finally:
        log.close()
        shutil.rmtree(staging, ignore_errors=True)
        if moved:
            shutil.rmtree(aside, ignore_errors=True)
    print(
        "requirements.txt now pins scikit-learn==%s (%s), and %s was rebuilt from it: commit requirements.txt with "
        "model/" % (written_by, pins_text(pins), venv)
    )
    return 0
