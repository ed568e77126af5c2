"""Start a staged source bundle the way Elastic Beanstalk does.
Managed by generator-sci-eb: edit freely, `yo sci-eb:upgrade` merges your edits with new versions.

`make local` and `make gateway-local` unpack a bundle in a fresh folder and run this there: it reads the `web:` line
of the bundle's Procfile and the environment properties its .ebextensions set
(aws:elasticbeanstalk:application:environment, files in alphabetical order, as EB applies them), then replaces itself
with that command, run from the bundle's folder. Variables already set in this shell win, so a local run can point
UPSTREAM_URL or PORT elsewhere. Needs PyYAML (the EB CLI's interpreter has it):

    .venv-ebcli/bin/python tools/run_staged.py STAGE_DIR
"""

import glob
import os
import sys

import yaml

# Run as a script (`python tools/run_staged.py`), sys.path[0] is tools/: the project root makes `tools` a package
# here as it is for the importer and the tests (a sibling `import procfile` would not work under -m or in tests).
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if PROJECT_ROOT not in sys.path:
    sys.path.insert(0, PROJECT_ROOT)

from tools.procfile import ProcfileError, web_command  # noqa: E402

NAMESPACE = "aws:elasticbeanstalk:application:environment"


def environment_properties(stage):
    props = {}
    for path in sorted(glob.glob(os.path.join(stage, ".ebextensions", "*.config"))):
        with open(path, encoding="utf-8") as fh:
            settings = (yaml.safe_load(fh) or {}).get("option_settings") or {}
        if isinstance(settings, list):  # the list form; a missing namespace means environment properties
            items = [(s.get("namespace", NAMESPACE), s["option_name"], s.get("value")) for s in settings]
        else:
            items = [(ns, k, v) for ns, options in settings.items() for k, v in (options or {}).items()]
        for namespace, name, value in items:
            if namespace == NAMESPACE:
                props[name] = "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
    return props


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: tools/run_staged.py STAGE_DIR")
    stage = os.path.abspath(args[0])
    env = dict(environment_properties(stage), **os.environ)
    try:
        command = web_command(stage)
    except ProcfileError as exc:
        sys.exit(str(exc))
    print("starting %s in %s" % (command, stage), file=sys.stderr)
    os.chdir(stage)
    os.execvpe("sh", ["sh", "-c", "exec " + command], env)


if __name__ == "__main__":
    main()
