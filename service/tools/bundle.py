"""Build the Elastic Beanstalk source bundle exactly as `eb deploy` does, without AWS.

`eb deploy` checks AWS, then zips the project with awsebcli's own `_zip_up_project`: `.ebignore` honoured, the
`.elasticbeanstalk/` folder and editor backups left out, file modes kept. This script calls that same function, so
the zip it prints is byte for byte what EB would receive. The gateway is its own EB project (gateway/, with its own
.elasticbeanstalk/ and .ebignore), bundled by the same code with --project gateway. Run it with the EB CLI's
interpreter:

    .venv-ebcli/bin/python tools/bundle.py [--label app-v1] [--project gateway] [--require dist/server.js ...]
"""

import argparse
import datetime
import os
import sys
import types
import zipfile


class _QuietLog:
    """awsebcli reports through its CLI app's log; with no app (as here) it prints every file it leaves out
    ("INFO: -skipping: ..."), tens of thousands of lines with a virtualenv in the folder. Keep warnings and errors."""

    def info(self, message):
        pass

    debug = info

    def warn(self, message):
        print("warning: %s" % message, file=sys.stderr)

    warning = warn

    def error(self, message):
        print("error: %s" % message, file=sys.stderr)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", help="version label (default: app-<UTC timestamp>)")
    parser.add_argument("--project", default=".", help="the EB project folder, relative to this project (default: .)")
    parser.add_argument(
        "--require",
        action="append",
        default=[],
        metavar="PATH",
        help="a file the bundle must contain (e.g. dist/server.js, which EB will not build)",
    )
    args = parser.parse_args(argv)
    try:
        from ebcli.core import ebglobals
        from ebcli.objects.sourcecontrol import SourceControl
        from ebcli.operations import commonops
    except ImportError:
        sys.exit("awsebcli is not installed here: run `make ebcli` and use .venv-ebcli/bin/python")
    if getattr(ebglobals, "app", None) is None:
        ebglobals.app = types.SimpleNamespace(log=_QuietLog(), pargs=types.SimpleNamespace(debug=False))
    project_root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), args.project)
    os.chdir(project_root)
    label = args.label or "app-" + datetime.datetime.utcnow().strftime("%y%m%d_%H%M%S%f")
    _, zip_path = commonops._zip_up_project(label, SourceControl.get_source_control(), staged=False)
    with zipfile.ZipFile(zip_path) as bundle:
        files = [entry for entry in bundle.infolist() if not entry.is_dir()]
    names = {entry.filename[2:] if entry.filename.startswith("./") else entry.filename for entry in files}
    missing = [path for path in args.require if path not in names]
    if missing:
        os.remove(zip_path)
        sys.exit(
            "the bundle has no %s (EB builds nothing and needs it): build it first, and check %s"
            % (", ".join(missing), os.path.join(args.project, ".ebignore"))
        )
    print(os.path.abspath(zip_path))
    unpacked = sum(entry.file_size for entry in files)
    print(
        "bundle: %s, %d files, %s (%s unpacked)"
        % (os.path.relpath(zip_path), len(files), _size(os.path.getsize(zip_path)), _size(unpacked)),
        file=sys.stderr,
    )


def _size(n):
    return "%.1f KB" % (n / 1024) if n < 1024 * 1024 else "%.1f MB" % (n / 1024 / 1024)


if __name__ == "__main__":
    main()
