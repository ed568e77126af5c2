"""The Procfile's `web:` command, read in one place for the build-time tools: run_staged.py (`make local`, `make
gateway-local`) starts it as Elastic Beanstalk does, and the importer serves a candidate model with it on a port of
its own. (The harness of generator-sci-eb reads it the same way in JavaScript: harness/project.mjs.)

A Procfile line is `<process>: <command>`. The web command is the one of the first line whose process name is `web`
(spaces around the name ignored) and whose command is not empty. Standard library only: run_staged.py runs under the
EB CLI's interpreter, which has none of the project's libraries.
"""

import os

PROCFILE = "Procfile"


class ProcfileError(ValueError):
    """The Procfile is missing or has no web command; the message names the folder."""


def web_command(project_dir):
    """The command of the web: line of project_dir/Procfile, as EB runs it (a shell command line)."""
    try:
        with open(os.path.join(project_dir, PROCFILE), encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        raise ProcfileError("%s has no Procfile" % project_dir) from None
    for line in lines:
        name, _, command = line.partition(":")
        if name.strip() == "web" and command.strip():
            return command.strip()
    raise ProcfileError("%s has no web: line in its Procfile" % project_dir)


def rebind(command, address):
    """The command's words with gunicorn's --bind address (either spelling) replaced by `address` ("host:port")."""
    words = command.split()
    for i, word in enumerate(words):
        if word == "--bind" and i + 1 < len(words):
            words[i + 1] = address
        elif word.startswith("--bind="):
            words[i] = "--bind=" + address
    return words
