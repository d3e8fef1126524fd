"""QoS of the entity node's subscriptions, and the report of incompatible publishers.

A reliable subscription never connects to a best-effort publisher: without a report, the node
would simply receive nothing. The first incompatibility per topic is warned with the fix, and the
latest one is shown in the diagnostics.
"""

from __future__ import annotations

import threading
from functools import partial

from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSPolicyKind, QoSProfile, ReliabilityPolicy

RELIABILITIES = {
    "best_effort": ReliabilityPolicy.BEST_EFFORT,
    "reliable": ReliabilityPolicy.RELIABLE,
}
# Transcripts waiting while the model is busy (reliable, so none is lost below this backlog).
TRANSCRIPT_QUEUE_DEPTH = 100
TRANSCRIPT_HINT = "This node subscribes with reliability reliable: publish transcripts reliable."


def image_qos(reliability: str, depth: int) -> QoSProfile:
    """KEEP_LAST ``depth`` with the reliability named by the image_qos_reliability parameter."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=RELIABILITIES[reliability]
    )


def image_hint(reliability: str) -> str:
    return (
        f"This node subscribes with reliability {reliability}: make the camera publish "
        "reliable, or set this node's parameter image_qos_reliability to best_effort."
    )


def transcript_qos() -> QoSProfile:
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=TRANSCRIPT_QUEUE_DEPTH,
        reliability=ReliabilityPolicy.RELIABLE,
    )


class IncompatibleQosReport:
    """Warns once per topic about a publisher whose QoS the subscription cannot accept; keeps
    the latest such message for the diagnostics (``warning``, '' while there is none)."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self._lock = threading.Lock()
        self._warned_topics: set[str] = set()
        self.warning = ""

    def events(self, topic: str, hint: str) -> SubscriptionEventCallbacks:
        """Event callbacks for the subscription on ``topic``; ``hint`` says how to fix it."""
        return SubscriptionEventCallbacks(incompatible_qos=partial(self._report, topic, hint))

    def _report(self, topic: str, hint: str, info) -> None:
        policy = QoSPolicyKind(info.last_policy_kind).name
        message = (
            f"A publisher on {self._node.resolve_topic_name(topic)} offers an incompatible QoS "
            f"({policy}): none of its messages will arrive. {hint}"
        )
        with self._lock:
            self.warning = message
            first = topic not in self._warned_topics
            self._warned_topics.add(topic)
        if first:
            self._node.get_logger().warning(message)
