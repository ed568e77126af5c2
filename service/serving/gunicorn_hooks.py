"""gunicorn's hooks for this service, loaded by the Procfile's command (`--config python:serving.gunicorn_hooks`).
Managed by generator-sci-eb: edit freely, `yo sci-eb:upgrade` merges your edits with new versions.

One hook: a worker stops once however many quit signals it gets. Ctrl-C on `make serve` or `make local` sends SIGINT
to every process of the terminal's foreground group, gunicorn's workers included, and the master answers its own
SIGINT with a SIGQUIT to each worker: two quit signals per worker within a millisecond. gunicorn's threaded worker
(gthread, which `--threads` selects) stops its thread pool from inside the signal handler, and
`ThreadPoolExecutor.shutdown` holds a lock that cannot be taken twice (CPython issue 121649): when the second signal
runs the handler again while the first holds that lock, the worker waits on it forever, and after `--graceful-timeout`
the master kills it ("Worker (pid:...) was sent SIGKILL! Perhaps out of memory?"). That was one Ctrl-C in eight.
"""

import signal

QUIT_SIGNALS = (signal.SIGINT, signal.SIGQUIT)


def post_worker_init(worker):
    """After gunicorn has set the worker's signal handlers: its quit handler runs once, later quit signals wait."""
    handler = run_once(worker.handle_quit)
    for signum in QUIT_SIGNALS:
        signal.signal(signum, handler)


def run_once(handler):
    """A signal handler that calls `handler` the first time only: a signal during (or after) that call does nothing,
    so the handler is never re-entered from inside itself."""
    started = []

    def handle(signum, frame):
        if started:
            return
        started.append(signum)
        handler(signum, frame)

    return handle
