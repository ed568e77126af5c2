"""What pip would install from binary wheels on the EB instances (manylinux for AL2023's glibc 2.34, a Python and an
architecture), asked with `pip install --dry-run --report` against the package index: nothing is installed.

Standard library only (it runs pip as a program), so the generator's preflight uses it before any venv exists.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

MANYLINUX = ("manylinux_2_34", "manylinux_2_28", "manylinux_2_17", "manylinux2014")
# pip's words for "no such version / no wheel for this platform", as opposed to a network or pip failure.
_NOT_FOUND = (
    "No matching distribution",
    "Could not find a version",
    "ResolutionImpossible",
    "conflicting dependencies",
)


class WheelsUnknown(Exception):
    """pip could not answer (not installed, no network): nothing is known either way."""


def canonical(name):
    """A distribution's name as pip compares them (PEP 503): XGBoost_CPU and xgboost-cpu are the same."""
    return re.sub(r"[-_.]+", "-", name).lower()


def resolve(requirements, python, arch, constraints=None, no_deps=False, timeout=300):
    """-> {canonical distribution name: version} of what `requirements` (lines) resolve to from binary wheels for
    CPython `python` on manylinux `arch`, or None when they do not (no such wheels, or conflicting pins). Raises
    WheelsUnknown when pip cannot tell."""
    work = tempfile.mkdtemp(prefix="wheels-")
    try:
        listed = os.path.join(work, "requirements.txt")
        with open(listed, "w", encoding="utf-8") as fh:
            fh.write("\n".join(requirements) + "\n")
        report = os.path.join(work, "report.json")
        command = [
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
            os.path.join(work, "target"),
            "--report",
            report,
            "-r",
            listed,
        ]
        for tag in MANYLINUX:
            command += ["--platform", "%s_%s" % (tag, arch)]
        if no_deps:
            command.append("--no-deps")
        if constraints:
            with open(os.path.join(work, "constraints.txt"), "w", encoding="utf-8") as fh:
                fh.write("\n".join(constraints) + "\n")
            command += ["-c", os.path.join(work, "constraints.txt")]
        try:
            done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise WheelsUnknown("pip did not run: %s" % exc) from exc
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace")
            if any(words in said for words in _NOT_FOUND):
                return None
            raise WheelsUnknown(said.strip().splitlines()[-1] if said.strip() else "pip failed")
        with open(report, encoding="utf-8") as fh:
            installed = json.load(fh)["install"]
        return dict((canonical(i["metadata"]["name"]), i["metadata"]["version"]) for i in installed)
    finally:
        shutil.rmtree(work, ignore_errors=True)
