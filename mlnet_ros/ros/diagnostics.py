"""Counters of the entity node and their diagnostic_msgs/DiagnosticStatus (for /diagnostics)."""

from __future__ import annotations

import threading
from collections import Counter

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue

COUNTER_NAMES = ("images_received", "transcripts_received", "answered", "text_only")


class NodeCounters:
    """Thread-safe event counters, the rejected inputs per reason, and the last latency."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._rejected: Counter[str] = Counter()
        self._last_latency_ms = 0.0

    def count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def reject(self, reason: str) -> None:
        with self._lock:
            self._rejected[reason] += 1

    def answered(self, latency_ms: float, text_only: bool) -> None:
        with self._lock:
            self._counts["answered"] += 1
            self._counts["text_only"] += int(text_only)
            self._last_latency_ms = latency_ms

    def snapshot(self) -> tuple[dict[str, int], dict[str, int], float]:
        """(counters, rejected per reason, last latency in ms)."""
        with self._lock:
            counts = {name: self._counts[name] for name in COUNTER_NAMES}
            return counts, dict(self._rejected), self._last_latency_ms


def node_status(
    name: str, counters: NodeCounters, model: str, backend: str, warning: str
) -> DiagnosticStatus:
    """OK status with the counters, or WARN with ``warning`` when it is not empty."""
    counts, rejected, latency_ms = counters.snapshot()
    values = [KeyValue(key=key, value=str(value)) for key, value in counts.items()]
    values.append(KeyValue(key="rejected", value=str(sum(rejected.values()))))
    values += [
        KeyValue(key=f"rejected.{reason}", value=str(n)) for reason, n in sorted(rejected.items())
    ]
    values += [
        KeyValue(key="last_latency_ms", value=f"{latency_ms:.1f}"),
        KeyValue(key="backend", value=backend),
        KeyValue(key="model", value=model),
    ]
    return DiagnosticStatus(
        level=DiagnosticStatus.WARN if warning else DiagnosticStatus.OK,
        name=name,
        message=warning or "ok",
        hardware_id=model,
        values=values,
    )
