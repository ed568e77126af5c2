"""The environment follows the artifact: a model is only safe with the scikit-learn that wrote it, so a model from
another version either re-pins the project (requirements.txt and requirements-dev.txt, then the venv rebuilt from them
and the whole import run again inside it) or is refused with the pins that would follow it. The libraries it needs
(LightGBM, XGBoost, CatBoost: preflight.library_pins says at which versions) are added to requirements.txt the same
way; when nothing else changes they are installed into the venv as it is, and uninstalled again if the import fails.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

import sklearn

from serving import settings

from . import PROJECT_ROOT, ImportRefused, wheels

PYTHON_VERSION = settings.PYTHON_VERSION
OTHER_PYTHONS = settings.OTHER_PYTHONS
WHEEL_ARCH = settings.WHEEL_ARCH
REQUIREMENT_FILES = ("requirements.txt", "requirements-dev.txt")
# What the rebuilt venv runs: the same entry point users and the Makefile call, so the re-run is the import they asked
# for, only in the new venv.
IMPORTER = os.path.join(PROJECT_ROOT, "tools", "import_model.py")
# The re-run in a rebuilt venv reads the staged requirement files (not yet in the project) from here.
STAGED_REQUIREMENTS = "SCI_EB_IMPORT_REQUIREMENTS"
LIBRARIES_HEADER = "# The imported model's own libraries (tools/import_model.py added them with the model in model/):"
_PIN_LINE = re.compile(r"^(\s*)([A-Za-z0-9][A-Za-z0-9._-]*)(\s*===?\s*)([^\s;#]+)(.*)$", re.DOTALL)


def wheel_set(version, python):
    """scikit-learn==version with numpy/scipy/pandas/joblib that pip resolves to binary wheels for the EB instances
    (manylinux for glibc 2.34, this project's architecture) and `python`: {name: version}, or None when none exist."""
    numpy_abi = []
    parts = tuple(int(p) for p in version.split(".")[:3] if p.isdigit())
    if parts < (1, 4, 2):  # wheels before 1.4.2 are built against numpy 1.x: numpy 2 cannot import them
        numpy_abi = ["numpy<2", "pandas<2.2.2", "scipy<1.13"]
    try:
        installed = wheels.resolve(
            ["scikit-learn==" + version, "numpy", "scipy", "pandas", "joblib", "threadpoolctl"] + numpy_abi,
            python,
            WHEEL_ARCH,
        )
    except wheels.WheelsUnknown:
        return None
    if installed is None:
        return None
    wanted = ("scikit-learn", "numpy", "scipy", "pandas", "joblib", "threadpoolctl")
    return dict((name, v) for name, v in installed.items() if name in wanted)


def pins_text(pins):
    return " ".join("%s==%s" % kv for kv in sorted(pins.items()))


def version_advice(written_by, pins):
    """What would let this project run the model's own scikit-learn when the import does not re-pin by itself."""
    if pins:
        return (
            "Pins with binary wheels for Python %s (%s) that follow the artifact: %s. Import without --keep-pins "
            "and the importer writes them to the requirement files that pin those packages and rebuilds the venv (or "
            "change those lines yourself, in requirements-dev.txt too where it pins them, run `make venv`, and import "
            "again)" % (PYTHON_VERSION, WHEEL_ARCH, pins_text(pins))
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


def with_libraries(text, additions):
    """requirements.txt's text with `additions` ({name: version}) appended, in its line endings (after numpy and
    scipy, which they build on, as the build order wants), under one comment saying where they came from."""
    if not additions:
        return text
    newline = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith(newline):
        text += newline
    lines = ["%s==%s" % kv for kv in sorted(additions.items())]
    if LIBRARIES_HEADER not in text:
        lines.insert(0, LIBRARIES_HEADER)
    return text + newline.join(lines) + newline


def staged_requirements(root, written_by, pins, additions=None):
    """-> ({file name: its text re-pinned to `pins`, requirements.txt with `additions` appended}, [(file name,
    package, old, new)]) for the requirement files `root` has; nothing is written. Refused when scikit-learn is to
    move to `written_by` but requirements.txt has no scikit-learn pin to move."""
    staged, changes = {}, []
    for name in REQUIREMENT_FILES:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8", newline="") as fh:  # newline="": CRLF files stay CRLF
                text, changed = repinned(fh.read(), pins)
            if name == libraries_file() and additions:
                text = with_libraries(text, additions)
                changed.extend((n, "(none)", v) for n, v in sorted(additions.items()))
            staged[name] = text
            changes.extend((name,) + c for c in changed)
    moves_sklearn = "scikit-learn" in [canonical(n) for n in pins]
    if moves_sklearn and not [c for c in changes if canonical(c[1]) == "scikit-learn"]:
        # On the onnx runtime scikit-learn is a build-time library pinned in requirements-dev.txt, not in
        # requirements.txt: the advice names the file the project's own venv is built from, so following it cannot
        # give pip two scikit-learn pins.
        where = "requirements-dev.txt" if "requirements-dev.txt" in staged else "requirements.txt"
        raise ImportRefused(
            "the model was written by scikit-learn %s, but %s no scikit-learn==... line to re-pin: "
            "add scikit-learn==%s (with %s) to %s, run `make venv`, and import again"
            % (
                written_by,
                " and ".join(sorted(staged)) + (" have" if len(staged) > 1 else " has")
                if staged
                else "requirements.txt has",
                written_by,
                pins_text(pins),
                where,
            )
        )
    return staged, changes


def libraries_file():
    """Where a model's libraries are pinned: requirements.txt, which EB installs; on the onnx runtime EB serves
    model.onnx alone, so LightGBM or XGBoost only load and convert the model at build time (requirements-dev.txt)."""
    return "requirements-dev.txt" if settings.RUNTIME == "onnx" else "requirements.txt"


def requirements_dir():
    """Where requirements.txt is read from: the project, or (in the re-run) the staged files of the re-pin."""
    return os.environ.get(STAGED_REQUIREMENTS) or PROJECT_ROOT


def requirement_lines(pins=None):
    """requirements.txt's lines (with requirements-dev.txt's on the onnx runtime, where scikit-learn and its stack are
    pinned), re-pinned to `pins` in memory (what the libraries are resolved against)."""
    lines = []
    for name in ("requirements.txt",) + (("requirements-dev.txt",) if libraries_file() != "requirements.txt" else ()):
        path = os.path.join(requirements_dir(), name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as fh:
                lines.extend(repinned(fh.read(), pins or {})[0].splitlines())
    return lines


def in_a_venv():
    return os.path.realpath(sys.prefix) != os.path.realpath(sys.base_prefix)


class Installed(object):
    """Libraries installed into the running venv for an import (nothing else changes): kept, with their lines added
    to libraries_file(), once the import is proven (commit), or uninstalled again (rollback)."""

    def __init__(self, additions, new):
        self.additions, self.new = additions, new

    def commit(self):
        path = os.path.join(PROJECT_ROOT, libraries_file())
        with open(path, encoding="utf-8", newline="") as fh:
            text = with_libraries(fh.read(), self.additions)
        staged = path + ".import-tmp"
        with open(staged, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(staged, path)
        marker = os.path.join(sys.prefix, ".installed")
        if os.path.exists(marker):  # make's marker stays newer than the requirement file: `make venv` has nothing to do
            os.utime(marker, None)
        print(
            "%s now also pins %s (installed in %s): commit it with model/"
            % (libraries_file(), pins_text(self.additions), sys.prefix)
        )

    def rollback(self):
        if self.new:
            run_step(
                [sys.executable, "-m", "pip", "uninstall", "--disable-pip-version-check", "-q", "-y"] + self.new,
                tempfile.TemporaryFile(),
            )
            print("uninstalled %s again: the venv is as it was" % ", ".join(self.new), file=sys.stderr)


def install_libraries(additions):
    """pip install `additions` into the running venv -> Installed (what was not there before is what rollback
    removes). Refused outside a venv, or when pip fails (its output says why)."""
    if not in_a_venv():
        raise ImportRefused(
            "the model needs %s, but the importer runs in %s, which is not a venv it may install into: run it from "
            "the project's venv (make import), or pin them in requirements.txt yourself and run `make venv`"
            % (pins_text(additions), sys.prefix)
        )
    from importlib import metadata

    def present():
        return set(canonical(d.metadata["Name"]) for d in metadata.distributions())

    before = present()
    print("installing %s into %s (the model needs them)" % (pins_text(additions), sys.prefix))
    sys.stdout.flush()
    log = tempfile.TemporaryFile()
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--only-binary=:all:"]
    try:
        code = run_step(command + ["%s==%s" % kv for kv in sorted(additions.items())], log)
    except BaseException:
        Installed(additions, sorted(present() - before)).rollback()
        raise
    installed = Installed(additions, sorted(present() - before))
    if code != 0:
        installed.rollback()
        log.seek(0)
        raise ImportRefused(
            "installing %s failed:\n%s" % (pins_text(additions), log.read().decode("utf-8", "replace")[-3000:])
        )
    return installed


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


def repin_and_import(written_by, pins, argv, additions=None):
    """requirements.txt (and requirements-dev.txt) re-pinned to `pins`, the venv built again from them as `make venv`
    does, and the whole import (load, derive, prove in process and over HTTP, swap model/) run again in that venv. Only
    when it succeeds do the new requirement files replace the old ones; on any failure or interruption the old venv
    (with its .installed marker) is put back and the requirement files were never touched."""
    venv = sys.prefix
    everything = dict(pins, **(additions or {}))
    if not in_a_venv():
        raise ImportRefused(
            "the model needs other pins (%s), but the importer runs in %s, which is not a venv it can rebuild: run it "
            "from the project's venv (make import), or add --keep-pins to only be told the pins"
            % (pins_text(everything), venv)
        )
    staged, changes = staged_requirements(PROJECT_ROOT, written_by, pins, additions)
    moved = ", ".join("%s %s -> %s (%s)" % (n, o, v, f) for f, n, o, v in changes)
    if "scikit-learn" in pins:
        print(
            "the model was written by scikit-learn %s; this project ran %s. Re-pinning to a set with binary wheels "
            "for Python %s (%s): %s" % (written_by, sklearn.__version__, PYTHON_VERSION, WHEEL_ARCH, moved)
        )
    else:
        print(
            "the model needs other library versions. Re-pinning for Python %s (%s): %s"
            % (PYTHON_VERSION, WHEEL_ARCH, moved)
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
        # It reads the staged requirement files as the project's (they are, once it succeeds).
        os.environ[STAGED_REQUIREMENTS] = staging
        try:
            done = run_step([os.path.join(venv, "bin", "python"), IMPORTER] + list(argv) + ["--keep-pins"])
        finally:
            del os.environ[STAGED_REQUIREMENTS]
        if done != 0:
            raise ImportRefused("the import in the venv rebuilt for %s did not succeed (above)" % pins_text(everything))
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
    pinned = (
        ("scikit-learn==%s (%s)" % (written_by, pins_text(everything)))
        if "scikit-learn" in pins
        else pins_text(everything)
    )
    files = " and ".join(sorted(set(c[0] for c in changes)))
    print(
        "%s now pin%s %s, and %s was rebuilt from %s: commit %s with model/"
        % (files, "" if " and " in files else "s", pinned, venv, "them" if " and " in files else "it", files)
    )
    return 0
