"""The node's spin survives subscriptions destroyed in another thread (what every deactivate does):
real rclpy executor, node, publisher and subscriptions with QoS event handlers."""
from __future__ import annotations

import threading
import time

import pytest
import rclpy
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.context import Context
from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation
from std_msgs.msg import String
from support.ros_client import wait_for

from mlnet_ros.ros.spinning import PERSISTENT_ERRORS, spin

CYCLES = 40  # plain Executor.spin died after 6 and 14 such cycles when this test was written


def test_spin_goes_on_after_subscriptions_are_destroyed_from_another_thread():
    context = Context()
    rclpy.init(context=context)
    executor = MultiThreadedExecutor(num_threads=3, context=context)
    node = rclpy.create_node("spinning_test", context=context)
    executor.add_node(node)
    publisher = node.create_publisher(String, "chatter", 10)
    raised: list[Exception] = []

    def run() -> None:
        try:
            spin(executor)
        except Exception as error:  # what would end a node's spin
            raised.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    group = MutuallyExclusiveCallbackGroup()
    try:
        for _ in range(CYCLES):
            subscription = node.create_subscription(
                String, "chatter", lambda msg: None, 10, callback_group=group,
                event_callbacks=SubscriptionEventCallbacks(incompatible_qos=lambda event: None),
            )
            publisher.publish(String(data="cycle"))
            time.sleep(0.002)
            node.destroy_subscription(subscription)
        received: list[str] = []
        node.create_subscription(String, "chatter", lambda msg: received.append(msg.data), 10, callback_group=group)
        assert wait_for(lambda: publisher.get_subscription_count() == 1, 10.0)
        assert wait_for(lambda: publisher.publish(String(data="after")) or received, 10.0), "the executor stopped"
        assert received[0] == "after" and raised == [] and thread.is_alive()
    finally:
        executor.shutdown()
        thread.join(10.0)
        node.destroy_node()
        rclpy.try_shutdown(context=context)
    assert not thread.is_alive(), "spin returns once the executor is shut down"


class FlakyExecutor(SingleThreadedExecutor):
    """A real executor whose ``spin`` first raises InvalidHandle ``failures`` times (what the race
    above does, made deterministic), then spins as usual."""

    def __init__(self, failures: int, context: Context):
        super().__init__(context=context)
        self.failures = failures

    def spin(self) -> None:
        if self.failures:
            self.failures -= 1
            raise rclpy_implementation.InvalidHandle("cannot use Destroyable because destruction was requested")
        self.shutdown()  # nothing to serve here: spin returns at once


def test_spin_raises_an_invalid_handle_that_persists():
    context = Context()
    rclpy.init(context=context)
    try:
        passing = FlakyExecutor(3, context)
        spin(passing)  # three transient errors: spun on, then returned when shut down
        assert passing.failures == 0
        persistent = FlakyExecutor(10_000, context)
        with pytest.raises(rclpy_implementation.InvalidHandle):
            spin(persistent)
        assert persistent.failures == 10_000 - PERSISTENT_ERRORS
    finally:
        rclpy.try_shutdown(context=context)
