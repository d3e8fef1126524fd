"""Load test of mlnet_entity_node: a 30 Hz 1280x720 camera and 5 Hz transcripts for 60 s.

Starts the node as a separate process (the installed executable), streams rgb8 frames and
transcripts at it, and reports transcripts sent vs answered, answer latency (publish to receipt)
p50/p95, the node's RSS at start and end, and its CPU use.

    .venv/bin/python scripts/bench_node_load.py [--seconds 60] [--camera-hz 30] [--transcript-hz 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import rclpy
from mlnet_ros.msg import EntityArray
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import Image
from std_msgs.msg import String

from mlnet_ros.ros.image_msgs import rgb_to_image

TRANSCRIPTS = [
    "Eileen Collins flew on the space shuttle Columbia for NASA",
    "Barack Obama met Angela Merkel in Berlin",
    "put the red cup next to the laptop in the kitchen",
    "Lionel Messi scored for Barcelona against Real Madrid",
]

WARM_UP_S = 10.0  # RSS is also sampled here: growth after it would be a leak


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--camera-hz", type=float, default=30.0)
    parser.add_argument("--transcript-hz", type=float, default=5.0)
    parser.add_argument(
        "ros_args", nargs="*", help="extra node arguments after --, e.g. -p device:=cuda"
    )
    args = parser.parse_args()

    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.setdefault("ROS_DOMAIN_ID", "42")
    executable = str(Path(sys.executable).with_name("mlnet_entity_node"))
    node_process = subprocess.Popen(
        [executable, "--ros-args", "-p", "max_image_age:=1.0", *args.ros_args]
    )
    rclpy.init(args=[])
    client = rclpy.create_node("mlnet_bench_load")
    sent: dict[str, float] = {}
    latencies: list[float] = []
    answered: set[str] = set()
    duplicates = 0

    def on_answer(msg: EntityArray) -> None:
        nonlocal duplicates
        if msg.transcript in answered:
            duplicates += 1
            return
        answered.add(msg.transcript)
        if msg.transcript in sent:
            latencies.append(time.monotonic() - sent[msg.transcript])

    image_pub = client.create_publisher(Image, "image", 1)
    transcript_pub = client.create_publisher(String, "transcript", 10)
    client.create_subscription(EntityArray, "entities", on_answer, 100)
    executor = SingleThreadedExecutor()
    executor.add_node(client)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        deadline = time.monotonic() + 120
        while (
            transcript_pub.get_subscription_count() == 0 or image_pub.get_subscription_count() == 0
        ):
            if time.monotonic() > deadline or node_process.poll() is not None:
                print("the node did not come up", file=sys.stderr)
                return 1
            time.sleep(0.1)
        time.sleep(1.0)
        frame = rgb_to_image(
            np.random.default_rng(0).integers(0, 256, (720, 1280, 3), np.uint8),
            frame_id="bench_camera",
        )
        rss_start, cpu_start = rss_mb(node_process.pid), cpu_seconds(node_process.pid)
        started = time.monotonic()
        next_frame = next_transcript = started
        count = 0
        rss_warm = None  # RSS once the first frames and transcripts went through (allocator warm-up)
        while time.monotonic() - started < args.seconds:
            now = time.monotonic()
            if rss_warm is None and now - started >= WARM_UP_S:
                rss_warm = rss_mb(node_process.pid)
            if now >= next_frame:
                frame.header.stamp = client.get_clock().now().to_msg()
                image_pub.publish(frame)
                next_frame += 1.0 / args.camera_hz
            if now >= next_transcript:
                text = f"{TRANSCRIPTS[count % len(TRANSCRIPTS)]} ({count})"
                sent[text] = time.monotonic()
                transcript_pub.publish(String(data=text))
                count += 1
                next_transcript += 1.0 / args.transcript_hz
            time.sleep(max(0.0, min(next_frame, next_transcript) - time.monotonic()))
        elapsed = time.monotonic() - started
        drain_deadline = time.monotonic() + 30
        while len(answered) < len(sent) and time.monotonic() < drain_deadline:
            time.sleep(0.1)
        cpu = (cpu_seconds(node_process.pid) - cpu_start) / elapsed
        rss_end = rss_mb(node_process.pid)
    finally:
        executor.shutdown()
        spinner.join(10.0)
        client.destroy_node()
        rclpy.try_shutdown()
        node_process.send_signal(signal.SIGINT)
        try:
            node_process.wait(15)
        except subprocess.TimeoutExpired:
            node_process.kill()

    ms = np.array(latencies) * 1e3
    print(
        f"duration {elapsed:.0f} s, camera {args.camera_hz:g} Hz 1280x720 rgb8, "
        f"transcripts {args.transcript_hz:g} Hz"
    )
    print(f"transcripts sent {len(sent)}, answered {len(answered)}, duplicates {duplicates}")
    if len(ms):
        print(
            f"latency p50 {np.percentile(ms, 50):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, "
            f"max {ms.max():.0f} ms"
        )
    print(
        f"node RSS {rss_start:.0f} MB at start, {rss_warm or float('nan'):.0f} MB after "
        f"{WARM_UP_S:.0f} s, {rss_end:.0f} MB at end; CPU {cpu * 100:.0f}% of one core"
    )
    return 0 if len(answered) == len(sent) and duplicates == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
