"""tools.procfile: the one reader of the Procfile's web: command, and run_staged.py, which starts it as EB does."""

import os
import subprocess
import sys

import pytest

from tools import procfile, run_staged
from tools.procfile import ProcfileError, rebind, web_command

TOOLS = os.path.dirname(os.path.abspath(procfile.__file__))
GUNICORN = "gunicorn --bind 127.0.0.1:8000 --workers 2 application:application"


def project(tmp_path, text):
    (tmp_path / "Procfile").write_bytes(text.encode("utf-8"))
    return str(tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        "web: %s\n" % GUNICORN,
        "web:%s" % GUNICORN,  # no space, no final newline
        "worker: python worker.py\r\n web : %s \r\n" % GUNICORN,  # CRLF, spaces around the name
        "webhook: no\nweb:\nweb: %s\nweb: second\n" % GUNICORN,  # the first web line with a command wins
    ],
)
def test_the_web_command_is_read_as_eb_reads_it(tmp_path, text):
    assert web_command(project(tmp_path, text)) == GUNICORN


@pytest.mark.parametrize("text", ["", "worker: python worker.py\n", "web:   \n", "# web: gunicorn\n"])
def test_a_procfile_without_a_web_command_is_an_error_naming_the_folder(tmp_path, text):
    with pytest.raises(ProcfileError, match="^%s has no web: line in its Procfile$" % tmp_path):
        web_command(project(tmp_path, text))


def test_a_missing_procfile_is_an_error_naming_the_folder(tmp_path):
    with pytest.raises(ProcfileError, match="^%s has no Procfile$" % tmp_path):
        web_command(str(tmp_path))


def test_rebind_replaces_either_spelling_of_the_address():
    assert rebind(GUNICORN, "127.0.0.1:5001") == GUNICORN.replace("8000", "5001").split()
    assert rebind("gunicorn --bind=0.0.0.0:80 app:app", "127.0.0.1:5001") == [
        "gunicorn",
        "--bind=127.0.0.1:5001",
        "app:app",
    ]
    assert rebind("node dist/server.js", "127.0.0.1:5001") == ["node", "dist/server.js"]


def test_run_staged_reads_the_procfile_with_the_shared_reader():
    assert run_staged.web_command is web_command


def stage(tmp_path, procfile_text):
    (tmp_path / "Procfile").write_text(procfile_text, encoding="utf-8")
    (tmp_path / ".ebextensions").mkdir()
    (tmp_path / ".ebextensions" / "01_env.config").write_text(
        "option_settings:\n  aws:elasticbeanstalk:application:environment:\n    GREETING: hello from EB\n",
        encoding="utf-8",
    )
    return str(tmp_path)


def run_as_script(stage_dir):
    # As `make local` runs it: `python tools/run_staged.py STAGE_DIR`, so sys.path[0] is tools/, not the project.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GREETING")}
    return subprocess.run(
        [sys.executable, os.path.join(TOOLS, "run_staged.py"), stage_dir],
        cwd=stage_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        timeout=60,
    )


def test_run_staged_as_a_script_starts_the_web_command_in_the_stage_with_its_environment(tmp_path):
    result = run_as_script(stage(tmp_path, 'web: echo "$GREETING in $(pwd)"\n'))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello from EB in %s\n" % tmp_path


def test_run_staged_as_a_script_exits_with_the_readers_message(tmp_path):
    result = run_as_script(stage(tmp_path, "worker: python worker.py\n"))
    assert result.returncode == 1
    assert result.stderr.strip().endswith("%s has no web: line in its Procfile" % tmp_path)
