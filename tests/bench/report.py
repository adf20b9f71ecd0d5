"""The printed report: figures next to their targets, and where the CPU went."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import psutil


class BenchBroken(RuntimeError):
    """The benchmark could not measure what it claims to (unlike a missed target)."""


@dataclass(frozen=True)
class Row:
    name: str
    value: str
    target: str = ""
    passed: bool | None = None  # None: a reference or context figure, no target

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: ""}[self.passed]


def at_most(value: float, limit: float) -> bool | None:
    return None if math.isnan(value) else value <= limit


def at_least(value: float, limit: float) -> bool | None:
    return None if math.isnan(value) else value >= limit


def ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1f} ms"


def table(rows: list[Row]) -> str:
    header = Row("Measure", "Value", "Target")
    widths = [
        max(len(r.name) for r in [header, *rows]),
        max(len(r.value) for r in [header, *rows]),
        max(len(r.target) for r in [header, *rows]),
    ]
    lines = []
    for row in [header, *rows]:
        verdict = "Result" if row is header else row.verdict
        lines.append(
            f"{row.name:<{widths[0]}}  {row.value:>{widths[1]}}  {row.target:<{widths[2]}}  {verdict}".rstrip()
        )
    lines.insert(1, "-" * len(max(lines, key=len)))
    return "\n".join(lines)


class CpuMeter:
    """CPU seconds used by the server, the bench itself and PostgreSQL over one phase.

    Shown next to each phase because on a 2-core machine the load generator and
    the database compete with the server: this says who was the bottleneck, and
    whether other work on the machine took cores too. The server's run-queue
    wait says how long it was ready to run but had no core to run on.
    """

    def __init__(self, server_pid: int | None, postmaster_pid: int) -> None:
        self._server = psutil.Process(server_pid) if server_pid else None
        self._bench = psutil.Process()
        self._postmaster = psutil.Process(postmaster_pid)

    def _sample(self) -> dict[tuple[str, int], float]:
        processes = [("bench", self._bench), ("postgres", self._postmaster)]
        processes += [("postgres", backend) for backend in self._postmaster.children()]
        if self._server is not None:
            processes.append(("server", self._server))
        machine = psutil.cpu_times()
        # Everything any process on the machine used, so that "other" can be told apart.
        sample = {("machine", 0): machine.user + machine.nice + machine.system + machine.irq + machine.softirq}
        for name, process in processes:
            try:
                t = process.cpu_times()
            except psutil.NoSuchProcess:  # a backend that ended meanwhile
                continue
            sample[(name, process.pid)] = t.user + t.system
        return sample

    def _server_waited(self) -> float:
        """Seconds the server's main thread spent runnable but not running (Linux)."""
        if self._server is None:
            return math.nan
        try:
            with open(f"/proc/{self._server.pid}/schedstat") as stats:
                return int(stats.read().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return math.nan

    def start(self) -> None:
        self._began = time.perf_counter()
        self._before = self._sample()
        self._waited_before = self._server_waited()

    def summary(self, operations: int) -> str:
        """E.g. "CPU per operation: bench 390 us, postgres 670 us, server 860 us; ...".

        CPU per operation hardly moves when other work shares the machine,
        unlike rates and latencies, so it is the figure to compare across runs.
        """
        wall = time.perf_counter() - self._began
        after = self._sample()
        used: dict[str, float] = {}
        # Per process, so a backend that started during the phase counts from zero.
        for (name, pid), seconds in after.items():
            used[name] = used.get(name, 0.0) + seconds - self._before.get((name, pid), 0.0)
        names = sorted(n for n in used if n != "machine")
        per_operation = ", ".join(f"{n} {1e6 * used[n] / max(1, operations):.0f} us" for n in names)
        # Clamped: the machine-wide and per-process counters tick separately.
        other = max(0.0, used.pop("machine") - sum(used.values()))
        shares = ", ".join(f"{n} {100 * used[n] / wall:.0f}%" for n in names)
        text = (
            f"CPU per operation: {per_operation} (busy: {shares}, other processes "
            f"{100 * other / wall:.0f}% of one core)"
        )
        waited = (self._server_waited() - self._waited_before) / wall
        if not math.isnan(waited):
            text += f"; server waited for a core {waited:.0%} of the time"
        return text


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
