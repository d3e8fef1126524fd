"""What the entity node counts, how it warns about rejected inputs, and its
diagnostic_msgs/DiagnosticStatus (for /diagnostics)."""

from __future__ import annotations

import threading
import time
from collections import Counter

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue

COUNTER_NAMES = ("images_received", "transcripts_received", "answered", "text_only")
WARNING_PERIOD_S = 5.0


class NodeCounters:
    """Thread-safe event counters, the rejected inputs per reason, the last latency and the
    last image rejection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._rejected: Counter[str] = Counter()
        self._last_latency_ms = 0.0
        self._last_image_rejection = ""

    def count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def reject(self, reason: str) -> None:
        with self._lock:
            self._rejected[reason] += 1

    def image_rejected(self, reason: str, detail: str) -> None:
        with self._lock:
            self._rejected[reason] += 1
            self._last_image_rejection = f"{reason}: {detail}"

    def answered(self, latency_ms: float, text_only: bool) -> None:
        with self._lock:
            self._counts["answered"] += 1
            self._counts["text_only"] += int(text_only)
            self._last_latency_ms = latency_ms

    def snapshot(self) -> tuple[dict[str, int], dict[str, int], float, str]:
        """(counters, rejected per reason, last latency in ms, last image rejection)."""
        with self._lock:
            counts = {name: self._counts[name] for name in COUNTER_NAMES}
            return counts, dict(self._rejected), self._last_latency_ms, self._last_image_rejection


class Rejections:
    """Counts rejected inputs per reason and warns at most once per WARNING_PERIOD_S per reason,
    so a flood of bad input neither goes unseen nor floods the log."""

    def __init__(self, counters: NodeCounters, logger) -> None:
        self._counters = counters
        self._logger = logger
        self._lock = threading.Lock()
        self._last_warned: dict[str, float] = {}

    def reject(self, reason: str, message: str) -> None:
        """Count a rejected transcript or request and warn (throttled)."""
        self._counters.reject(reason)
        self._warn(reason, message)

    def reject_image(self, reason: str, detail: str, message: str) -> None:
        """Count a rejected frame, keep ``detail`` as the last image rejection, warn (throttled)."""
        self._counters.image_rejected(reason, detail)
        self._warn(reason, message)

    def _warn(self, reason: str, message: str) -> None:
        now = time.monotonic()
        with self._lock:
            due = now - self._last_warned.get(reason, -WARNING_PERIOD_S) >= WARNING_PERIOD_S
            if due:
                self._last_warned[reason] = now
        if due:
            self._logger.warning(message)


def node_status(
    name: str, counters: NodeCounters, model: str, backend: str, warning: str
) -> DiagnosticStatus:
    """OK status with the counters, or WARN with ``warning`` when it is not empty."""
    counts, rejected, latency_ms, last_image_rejection = counters.snapshot()
    values = [KeyValue(key=key, value=str(value)) for key, value in counts.items()]
    values.append(KeyValue(key="rejected", value=str(sum(rejected.values()))))
    values += [
        KeyValue(key=f"rejected.{reason}", value=str(n)) for reason, n in sorted(rejected.items())
    ]
    values += [
        KeyValue(key="last_image_rejection", value=last_image_rejection),
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
