"""mlnet_demo: the whole pipeline once, with real ROS 2 messages.

Starts the entity node in this process (embedded default model), streams a photo on `image` like a
camera (10 Hz), says one transcript on `transcript` once the node has the image, and prints the
EntityArray that comes back on `entities`. Exit status 0 on an answer, 1 on failure or timeout,
2 for a bad --image.

The default photo is scikit-image's `astronaut`: Eileen Collins, NASA portrait (public domain).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image
from std_msgs.msg import String

from mlnet_ros.cli.tag import UsageError, read_rgb
from mlnet_ros.msg import EntityArray
from mlnet_ros.paths import default_model_dir
from mlnet_ros.ros.entity_node import EntityNode, activate
from mlnet_ros.ros.image_msgs import rgb_to_image
from mlnet_ros.ros.spinning import spin

DEFAULT_TRANSCRIPT = "This is the astronaut Eileen Collins"
IMAGE_STATUS = {
    EntityArray.IMAGE_USED: "used",
    EntityArray.IMAGE_NONE: "none",
    EntityArray.IMAGE_STALE: "stale",
    EntityArray.IMAGE_GATE_CLOSED: "ignored (match <= 0.5)",
    EntityArray.IMAGE_REJECTED: "rejected (see the node's last_image_rejection)",
}


class DemoClient(Node):
    """Camera + speaker stand-in: streams the image, says the transcript, keeps the answer."""

    def __init__(self, image: Image, transcript: str, node_name: str) -> None:
        super().__init__("mlnet_demo_client")
        self.transcript = transcript
        self.answer: EntityArray | None = None
        self.answered = threading.Event()
        self.latency_s = 0.0  # from saying the transcript to receiving its answer
        self._image = image
        self._node_status = f"{node_name}: entity recognition"
        self._said_at: float | None = None
        self._image_pub = self.create_publisher(Image, "image", 1)
        self._transcript_pub = self.create_publisher(String, "transcript", 10)
        self.create_subscription(EntityArray, "entities", self._on_entities, 10)
        self.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 10)
        self.create_timer(0.1, self._stream_image)

    def _stream_image(self) -> None:
        self._image.header.stamp = self.get_clock().now().to_msg()
        self._image_pub.publish(self._image)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        """Say the transcript once the node reports a received image."""
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            received = status.name == self._node_status and int(values.get("images_received", 0)) > 0
            if received and self._said_at is None:
                self._said_at = time.monotonic()
                self._transcript_pub.publish(String(data=self.transcript))

    def _on_entities(self, msg: EntityArray) -> None:
        if msg.transcript == self.transcript and not self.answered.is_set():
            self.latency_s = time.monotonic() - self._said_at
            self.answer = msg
            self.answered.set()


def describe(answer: EntityArray, image_name: str, latency_s: float) -> str:
    """The answer in a readable form."""
    inference_ms = answer.inference_time.sec * 1e3 + answer.inference_time.nanosec / 1e6
    lines = [
        f"Transcript: {answer.transcript!r}",
        f"Image:      {image_name}, frame '{answer.header.frame_id}': "
        f"{IMAGE_STATUS.get(answer.image_status, answer.image_status)}, "
        f"image-text match {answer.image_text_match:.2f}",
        f"Entities:   {len(answer.entities)}",
    ]
    for e in answer.entities:
        box = (
            f"box x={e.box.x_offset} y={e.box.y_offset} w={e.box.width} h={e.box.height}"
            if e.has_box
            else "no box"
        )
        lines.append(
            f"  {e.text!r:28} {e.type:5} [{e.start}:{e.end}]  confidence {e.confidence:.2f}  {box}"
        )
    lines.append(f"Model:      {answer.model} (backend {answer.backend})")
    lines.append(
        f"Latency:    inference {inference_ms:.0f} ms, "
        f"transcript to answer {latency_s * 1e3:.0f} ms"
    )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mlnet_demo", description=__doc__.splitlines()[0])
    parser.add_argument("--transcript", default=DEFAULT_TRANSCRIPT, help="what the speaker says")
    parser.add_argument("--image", type=Path, help="photo to stream (default: skimage astronaut)")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for the answer"
    )
    parser.add_argument(
        "--model-dir", type=Path, default=default_model_dir(), help="model directory"
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    if not args.transcript.strip():
        print("mlnet_demo: error: the transcript is empty", file=sys.stderr)
        return 2
    try:
        rgb = read_rgb(args.image) if args.image is not None else None
    except UsageError as error:
        print(f"mlnet_demo: error: {error}", file=sys.stderr)
        return 2
    if rgb is None:
        import skimage.data

        rgb, image_name = (
            skimage.data.astronaut(),
            "skimage astronaut (Eileen Collins, NASA, public domain)",
        )
    else:
        image_name = str(args.image)
    node = EntityNode(parameter_overrides=[Parameter("model_dir", value=str(args.model_dir))])
    client = DemoClient(
        rgb_to_image(rgb, frame_id="demo_camera"), args.transcript, node.get_fully_qualified_name()
    )
    executor = MultiThreadedExecutor(num_threads=4)
    executor.add_node(node)
    executor.add_node(client)
    spinner = threading.Thread(target=spin, args=(executor,), daemon=True)
    try:
        if not activate(node):
            print(
                "mlnet_demo: error: the entity node did not start (see the log line above)",
                file=sys.stderr,
            )
            return 1
        spinner.start()
        if not client.answered.wait(args.timeout):
            print(
                f"mlnet_demo: error: no EntityArray on {node.resolve_topic_name('entities')} "
                f"within {args.timeout:g} s",
                file=sys.stderr,
            )
            return 1
        print(describe(client.answer, image_name, client.latency_s))
        return 0
    finally:
        executor.shutdown()
        if spinner.is_alive():
            spinner.join(10.0)
        client.destroy_node()
        node.destroy_node()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rclpy.init()
    try:
        return run(args)
    except KeyboardInterrupt:
        return 1
    finally:
        rclpy.try_shutdown()


if __name__ == "__main__":
    sys.exit(main())
