"""The entity-node tests' client: a node that talks to the entity node over real topics and services."""

from __future__ import annotations

import threading
import time

import rclpy
import skimage.data
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import String

from mlnet_ros.msg import EntityArray
from mlnet_ros.ros.image_msgs import rgb_to_image
from mlnet_ros.srv import RecognizeEntities

SENTENCE = "Eileen Collins flew on the space shuttle Columbia for NASA"
ASTRONAUT = skimage.data.astronaut()




def wait_for(predicate, timeout: float = 20.0, period: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period)
    return predicate()


class Client:
    """A node with publishers on image/transcript and a recorder of entities and diagnostics."""

    def __init__(self, node: Node, namespace: str = "") -> None:
        self.node = node
        prefix = namespace.rstrip("/") + "/" if namespace else ""
        # The status of this namespace's node only (several nodes publish on /diagnostics).
        self.status_name = f"{prefix or '/'}mlnet_entity_node: entity recognition"
        self._lock = threading.Lock()
        self.answers: list[EntityArray] = []
        self.diagnostics: list[DiagnosticArray] = []
        self.debug_images: list[Image] = []
        self.image_pub = node.create_publisher(Image, prefix + "image", QoSProfile(depth=1))
        self.transcript_pub = node.create_publisher(String, prefix + "transcript", 10)
        node.create_subscription(EntityArray, prefix + "entities", self._keep(self.answers), 10)
        node.create_subscription(
            Image, prefix + "entities/debug_image", self._keep(self.debug_images), 1
        )
        node.create_subscription(DiagnosticArray, "/diagnostics", self._keep(self.diagnostics), 10)
        self.service = node.create_client(RecognizeEntities, prefix + "recognize_entities")

    def _keep(self, into: list):
        def callback(msg) -> None:
            with self._lock:
                into.append(msg)

        return callback

    def wait_connected(self, timeout: float = 30.0) -> None:
        assert wait_for(
            lambda: (
                self.image_pub.get_subscription_count() > 0
                and self.transcript_pub.get_subscription_count() > 0
                and self.service.service_is_ready()
            ),
            timeout,
        ), "the entity node's image/transcript subscriptions or service did not appear"

    def answers_for(self, transcript: str) -> list[EntityArray]:
        with self._lock:
            return [a for a in self.answers if a.transcript == transcript]

    def send_image(
        self, rgb=ASTRONAUT, frame_id: str = "camera_optical", age_s: float = 0.0
    ) -> Image:
        stamp = self.node.get_clock().now() - rclpy.duration.Duration(seconds=age_s)
        msg = rgb_to_image(rgb, stamp.to_msg(), frame_id)
        self.send_raw_image(msg)
        return msg

    def send_raw_image(self, msg: Image, timeout: float = 15.0) -> None:
        """Publish until the node has counted the frame (its diagnostics come at 1 Hz)."""
        received = self.diagnostic_value("images_received")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.image_pub.publish(msg)
            if wait_for(lambda: self.diagnostic_value("images_received") > received, 1.5):
                return
        raise AssertionError("the entity node did not receive the image")

    def say(self, transcript: str, timeout: float = 30.0) -> EntityArray:
        """Publish a transcript and return its (first) answer."""
        self.transcript_pub.publish(String(data=transcript))
        assert wait_for(lambda: self.answers_for(transcript), timeout), (
            f"no answer for {transcript[:40]!r}"
        )
        return self.answers_for(transcript)[0]

    def diagnostic_value(self, key: str, default: int = 0) -> int:
        """Integer value of the latest entity-node diagnostic (``default`` if absent)."""
        with self._lock:
            arrays = list(self.diagnostics)
        status = self._latest_status(arrays)
        if status is None:
            return default
        values = {kv.key: kv.value for kv in status.values}
        return int(values.get(key, default))

    def latest_status(self):
        with self._lock:
            arrays = list(self.diagnostics)
        return self._latest_status(arrays)

    def _latest_status(self, arrays: list[DiagnosticArray]):
        for array in reversed(arrays):
            for status in array.status:
                if status.name == self.status_name:
                    return status
        return None

    def wait_diagnostic(self, key: str, at_least: int, timeout: float = 10.0) -> bool:
        return wait_for(lambda: self.diagnostic_value(key) >= at_least, timeout)

    def call(
        self, request: RecognizeEntities.Request, timeout: float = 30.0
    ) -> RecognizeEntities.Response:
        future = self.service.call_async(request)
        assert wait_for(future.done, timeout), "recognize_entities did not answer"
        return future.result()


def best_effort_publisher(node: Node, msg_type, topic: str):
    """A publisher whose QoS the node's reliable subscriptions cannot accept."""
    return node.create_publisher(
        msg_type, topic, QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
    )


def check_spans(answer: EntityArray) -> None:
    starts = [e.start for e in answer.entities]
    assert starts == sorted(starts)
    for entity in answer.entities:
        assert entity.text == answer.transcript[entity.start : entity.end]
        assert 0.0 <= entity.confidence <= 1.0
        assert entity.type in ("PER", "LOC", "ORG", "MISC")
        assert entity.has_box == answer.image_used


def entity_pairs(answer: EntityArray) -> set[tuple[str, str]]:
    return {(e.text, e.type) for e in answer.entities}
