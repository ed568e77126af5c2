"""Refuse a source bundle that would not start on Elastic Beanstalk, before anything is uploaded.
Managed by generator-sci-eb: edit freely, `yo sci-eb:upgrade` merges your edits with new versions.

`make deploy` and `make create` run this on the zip `tools/bundle.py` built, then hand that very zip to the EB CLI. It
unpacks the bundle in a fresh folder and imports its `application` module there, as gunicorn does on an instance:
create_app() loads model/ from the bundle (the artifact's sha256 must be the one schema.json records) and runs the
start-up self-test (one example row through the hooks and the model). On any problem it prints the reason, deletes
the zip (so no later `eb deploy --label` can pick it up) and exits non-zero. Run it with the app's interpreter:

    .venv/bin/python tools/check_bundle.py .elasticbeanstalk/app_versions/<label>.zip
"""

import os
import sys
import tempfile
import traceback
import zipfile


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: tools/check_bundle.py BUNDLE.zip")
    bundle = args[0]
    with tempfile.TemporaryDirectory(prefix="bundle-check-") as stage:
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(stage)
        problem = _start_problem(stage)
    if problem:
        os.remove(bundle)
        sys.exit(
            "refusing to deploy %s: %s\nNothing was uploaded; fix it and run the make target again." % (bundle, problem)
        )
    print("bundle %s: the model matches its schema and passed its start-up self-test" % os.path.relpath(bundle))


def _start_problem(stage):
    """What stops the bundle's app from starting, or None. Only the bundle's own files are importable."""
    for required in ("application.py", "requirements.txt", os.path.join("model", "schema.json")):
        if not os.path.exists(os.path.join(stage, required)):
            return "%s is not in the bundle (check .ebignore)" % required
    # The bundle's model, not one named by this shell's MODEL_DIR.
    os.environ.pop("MODEL_DIR", None)
    os.environ.pop("MODEL_CODE_DIR", None)
    sys.path.insert(0, stage)
    for name in [m for m in sys.modules if m == "serving" or m.startswith("serving.") or m == "application"]:
        del sys.modules[name]
    cwd = os.getcwd()
    os.chdir(stage)
    try:
        import application  # noqa: F401  (create_app runs here, as under gunicorn)
    except Exception as exc:  # the reason is the message; ModelError says what to do
        if type(exc).__name__ == "ModelError":
            return str(exc)
        left_out = _left_out_module(exc, cwd)
        if left_out:
            return left_out
        return "importing application.py failed: %s: %s\n%s" % (type(exc).__name__, exc, traceback.format_exc(limit=3))
    finally:
        os.chdir(cwd)
        sys.path.remove(stage)
    return None


def _left_out_module(exc, project):
    """The .ebignore advice when application.py imports a module of the project that the allow-list left out."""
    name = (getattr(exc, "name", None) or "").split(".")[0]
    if not isinstance(exc, ImportError) or not name:
        return None
    for candidate, rules in ((name + ".py", "!/%s.py" % name), (name, "!/%s/ and !/%s/**" % (name, name))):
        if os.path.exists(os.path.join(project, candidate)):
            return (
                "application.py imports %s, which is in the project but not in the bundle: .ebignore lets in only "
                "what it lists, so add %s there" % (candidate, rules)
            )
    return None


if __name__ == "__main__":
    main()
