"""serving.gunicorn_hooks: a gunicorn worker stops once, however many quit signals Ctrl-C and the master send it."""

import os
import signal
import threading
import time

import pytest
from gunicorn.config import Config

from serving import gunicorn_hooks
from serving.gunicorn_hooks import QUIT_SIGNALS, post_worker_init, run_once


@pytest.fixture
def quit_handlers():
    """The process's own SIGINT and SIGQUIT handlers, put back after the test."""
    previous = {signum: signal.getsignal(signum) for signum in QUIT_SIGNALS}
    yield
    for signum, handler in previous.items():
        signal.signal(signum, handler)


class Worker:
    """gthread's quit handler as gunicorn 27 has it: it shuts the thread pool down inside the signal handler, under
    the pool's lock, and the master's SIGQUIT lands while that lock is held (sent here by the handler itself, at that
    very moment). A second run of the handler would wait on the lock forever; here it gives up after a second."""

    def __init__(self):
        self.pool_lock = threading.Lock()
        self.quits = []

    def handle_quit(self, signum, frame):
        self.quits.append(signum)
        if not self.pool_lock.acquire(timeout=1):
            return  # where gunicorn's worker hangs until the master's SIGKILL
        try:
            os.kill(os.getpid(), signal.SIGQUIT)
            time.sleep(0.05)  # the nested signal is handled in here
        finally:
            self.pool_lock.release()


def test_the_masters_sigquit_during_the_terminals_sigint_does_not_run_the_handler_again(quit_handlers):
    worker = Worker()
    post_worker_init(worker)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)
    assert worker.quits == [signal.SIGINT]
    # and later signals too: the worker is already on its way out
    os.kill(os.getpid(), signal.SIGQUIT)
    time.sleep(0.05)
    assert worker.quits == [signal.SIGINT]


def test_run_once_calls_the_handler_the_first_time_only():
    calls = []
    handler = run_once(lambda signum, frame: calls.append(signum) or handler(signal.SIGQUIT, frame))
    handler(signal.SIGINT, None)
    handler(signal.SIGQUIT, None)
    assert calls == [signal.SIGINT]


def test_gunicorn_reads_the_hook_from_the_module_the_procfile_names():
    config = Config()
    for name, value in vars(gunicorn_hooks).items():
        if name in config.settings:
            config.set(name, value)
    assert config.post_worker_init is post_worker_init
