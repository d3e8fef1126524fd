"""Spinning an executor that survives entities destroyed while it builds its wait set.

Deactivating the node destroys its subscriptions (and their QoS event handlers) in the thread that
runs the transition, while the executor may be adding those same entities to its next wait set in
another thread. rclpy then raises ``InvalidHandle`` ("cannot use Destroyable because destruction was
requested") out of ``Executor.spin``, which ends the spin: the node stays up but never answers
again. The half-built wait set is only discarded, so spinning again is safe: the next wait set is
built from the entities that still exist.
"""
from __future__ import annotations

import time
from collections import deque

from rclpy.executors import Executor
from rclpy.impl.implementation_singleton import rclpy_implementation
from rclpy.logging import get_logger

log = get_logger("mlnet_ros.spinning")
# A destroyed entity leaves the next wait set; the same error 100 times within a second is no such race.
PERSISTENT_ERRORS, PERSISTENT_WINDOW_S = 100, 1.0


def spin(executor: Executor) -> None:
    """``executor.spin()`` until the executor or its context is shut down, resumed after each
    ``InvalidHandle`` raised by an entity destroyed in another thread (raised again if it persists)."""
    recent: deque[float] = deque(maxlen=PERSISTENT_ERRORS)
    while executor.context.ok():
        try:
            executor.spin()
            return
        except rclpy_implementation.InvalidHandle as error:
            recent.append(time.monotonic())
            if len(recent) == PERSISTENT_ERRORS and recent[-1] - recent[0] < PERSISTENT_WINDOW_S:
                raise
            log.debug(f"an entity was destroyed while the wait set was built ({error}); spinning on")
