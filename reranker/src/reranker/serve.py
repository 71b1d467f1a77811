"""The production server: gunicorn with threaded workers around the Flask app.

Used by `python -m reranker` and by the image alike. Each worker process builds the app and
loads its own copy of the model in the background (the app answers live/ready meanwhile). The
worker is gthread's with a lane of its own for the health probes (`worker.ProbeLaneWorker`):
they answer at once however many requests hold the THREADS threads. If a worker's model fails to load, the worker exits with gunicorn's boot-error code and
the whole server stops, rather than serving "not ready" forever. A worker that dies otherwise
(killed, out of memory) is replaced by gunicorn's arbiter, and its gauges leave /metrics.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from reranker.app import create_app
from reranker.settings import Settings

log = logging.getLogger("reranker.serve")

# gunicorn's arbiter halts everything when a worker exits with this code ("failed to boot").
WORKER_BOOT_ERROR = 3


def bind_address(host: str, port: int) -> str:
    """gunicorn's bind string; IPv6 literals need brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """The gunicorn configuration for `settings` (exposed for tests and for reading)."""
    options: dict[str, Any] = {
        "bind": [bind_address(settings.host, settings.port)],
        "workers": settings.workers,
        "worker_class": "reranker.worker.ProbeLaneWorker",  # gthread + the probes' lane
        "threads": settings.threads,
        # gthread workers heartbeat from their main loop, so long requests are not killed;
        # this only catches a worker that is truly stuck.
        "timeout": 120,
        "graceful_timeout": 10,
        "keepalive": 5,  # Weaviate's Go client reuses connections
        "loglevel": settings.log_level,
        "errorlog": "-",
        "accesslog": "-" if settings.log_level == "debug" else None,
        "control_socket_disable": True,  # gunicorn >= 24; nothing here uses it
        "proc_name": "reranker",
        "child_exit": worker_exited,
    }
    # The heartbeat file: a tmpfs where there is one (containers often have a slow overlay /tmp).
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        options["worker_tmp_dir"] = "/dev/shm"
    return options


def worker_exited(_arbiter: Any, worker: Any) -> None:
    """gunicorn's child_exit hook (in the arbiter): a dead worker's gauges leave the sums of
    /metrics (its counters and histograms stay: what it counted happened)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def _stop_worker(exc: BaseException) -> None:
    log.critical("the model could not be loaded; stopping the server: %s", exc)
    logging.shutdown()
    os._exit(WORKER_BOOT_ERROR)


class RerankerServer(BaseApplication):
    """gunicorn, configured from `Settings`, serving `create_app(settings)`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in gunicorn_options(self.settings).items():
            if key in self.cfg.settings:  # older gunicorns lack some settings
                self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app(self.settings, on_load_failure=_stop_worker)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s",
    )


def run(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT (gunicorn's own signal handling)."""
    configure_logging(settings.log_level)
    log.info("serving %s on %s (%d worker(s) x %d threads, engine %r, device %s)",
             settings.model_dir, bind_address(settings.host, settings.port), settings.workers,
             settings.threads, settings.engine, settings.device)
    RerankerServer(settings).run()
