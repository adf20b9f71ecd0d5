"""The real load balancer for tests: HAProxy (Debian's package) with server/haproxy.cfg, and restartable instances."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from server.settings import PROJECT_ROOT
from tests.support import free_port, server_process

# Where Debian's package installs it; .ci/run installs the package.
HAPROXY = Path("/usr/sbin/haproxy")
HAPROXY_CONFIG = PROJECT_ROOT / "server" / "haproxy.cfg"


def require_haproxy() -> None:
    """Skip without HAProxy on a developer's machine; in CI (CI set) its absence is a failure."""
    if HAPROXY.exists():
        return
    message = f"{HAPROXY} is missing: `apt-get install haproxy` (.ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def haproxy(app_addresses: tuple[str, str], log_path: Path) -> Iterator[tuple[str, str]]:
    """HAProxy with the checked-in config on loopback ports; yields (its base URL, its stats CSV URL)."""
    port, stats_port = free_port(), free_port()
    env = {
        **os.environ,
        "LB_BIND": f"127.0.0.1:{port}",
        "LB_STATS_BIND": f"127.0.0.1:{stats_port}",
        "APP1": app_addresses[0],
        "APP2": app_addresses[1],
    }
    with open(log_path, "wb") as log_file:
        # -db: in the foreground, logging to stdout as in a container.
        process = subprocess.Popen(
            [str(HAPROXY), "-db", "-f", str(HAPROXY_CONFIG)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        stats = f"http://127.0.0.1:{stats_port}/;csv"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"haproxy exited with status {process.returncode}: {log_path.read_text()}")
            try:
                server_states(stats)
                break
            except OSError:
                time.sleep(0.05)  # polling a condition under a deadline
        yield f"http://127.0.0.1:{port}", stats
    finally:
        process.send_signal(signal.SIGUSR1)  # a soft stop
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_states(stats_url: str) -> dict[str, str]:
    """Each instance's state as HAProxy sees it: "UP", "DOWN", "UP 1/2" (going down), ..."""
    with urllib.request.urlopen(stats_url, timeout=2) as response:
        text = response.read().decode().lstrip("# ")
    return {
        row["svname"]: row["status"]
        for row in csv.DictReader(io.StringIO(text))
        if row["pxname"] == "instances" and row["svname"] not in ("FRONTEND", "BACKEND")
    }


class Instance:
    """One `python -m server` on a fixed port, which can be stopped with SIGTERM and started again."""

    def __init__(self, name: str, env: Mapping[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self._env = env
        self._log_dir = log_dir
        self._starts = 0
        self._running: AbstractContextManager[tuple[str, subprocess.Popen[bytes]]] | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it and wait until its /readyz answers 200."""
        self._starts += 1
        log_path = self._log_dir / f"{self.name}-{self._starts}.log"
        self._running = server_process(self._env, log_path, self.port)
        _, self.process = self._running.__enter__()

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, as an orchestrator sends it; returns the exit status."""
        assert self.process is not None and self._running is not None
        self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout)
        self._running.__exit__(None, None, None)
        self._running = self.process = None
        return status

    def close(self) -> None:
        if self._running is not None:
            self._running.__exit__(None, None, None)
            self._running = self.process = None
