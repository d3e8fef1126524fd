"""Load test of mlnet_entity_node: a 30 Hz 1280x720 camera and 5 Hz transcripts for 60 s.

Starts the node as a separate process (the installed executable), streams frames (rgb8, or JPEG
on image/compressed with --compressed) and transcripts at it, and reports transcripts sent vs
answered, answer latency (publish to receipt) p50/p95, the node's RSS at start, after the
warm-up and at the end (sampled every 30 s), and its CPU use. As a soak (issue 10), a share of
the frames are broken (--bad-frames) and a share of the transcripts odd (--odd-transcripts: RTL,
emoji floods, NUL, 4096 characters, and ones the node must reject: empty and over
max_transcript_chars); every other transcript must be answered exactly once.

    .venv/bin/python scripts/bench_node_load.py [--seconds 60] [--camera-hz 30] [--transcript-hz 5]
    .venv/bin/python scripts/bench_node_load.py --seconds 600 --warm-up 60 --compressed \
        --bad-frames 0.1 --odd-transcripts 0.05
"""

from __future__ import annotations

import argparse
import array
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import String

from mlnet_ros.msg import EntityArray
from mlnet_ros.ros.image_msgs import rgb_to_image

TRANSCRIPTS = [
    "Eileen Collins flew on the space shuttle Columbia for NASA",
    "Barack Obama met Angela Merkel in Berlin",
    "put the red cup next to the laptop in the kitchen",
    "Lionel Messi scored for Barcelona against Real Madrid",
]

# Odd transcripts the node answers (a NUL ends a ROS string: the text before it is answered).
ODD_ANSWERED = [
    "‏مرحبا Eileen Collins في ناسا‏",
    "Eileen Collins 🚀 flew with NASA 👩‍🚀 to the ISS " * 20,
    "Eileen\u0000 Collins met Barack Obama",
    "e\u0301" * 500 + " NASA",
    "\u200b" * 1000 + " Barack Obama in Paris",
    ("Eileen Collins flew for NASA in Houston. " * 100)[:4080],
]
# Odd transcripts the node rejects with a counted reason: (text, counter).
ODD_REJECTED = [(" \t\n ", "empty_transcript"), ("NASA " * 1000, "transcript_too_long")]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bad_frames(compressed: bool, good: Image | CompressedImage) -> list:
    """Broken frames of the kind the node subscribes to, each small to make."""
    if compressed:
        jpeg = bytes(good.data)
        corrupt = bytearray(jpeg)
        for index in range(len(corrupt) // 3, len(corrupt) - 2, 997):
            corrupt[index] ^= 0x5A
        impossible = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(
            [0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0, 8, 2, 0, 0, 0]
        )
        datas = [impossible, jpeg[: len(jpeg) // 2], bytes(corrupt), b"",
                 np.random.default_rng(1).bytes(4000)]
        frames = []
        for data in datas:
            msg = CompressedImage(format="png")
            msg.data = array.array("B", data)
            frames.append(msg)
        return frames
    short = rgb_to_image(np.zeros((720, 1280, 3), np.uint8))
    short.data = short.data[:-1]
    yuv = rgb_to_image(np.zeros((72, 128, 3), np.uint8))
    yuv.encoding = "yuv422"
    huge = Image(width=100_000, height=100_000, encoding="rgb8", step=300_000)
    return [short, yuv, huge, Image(width=0, height=10, encoding="rgb8")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--camera-hz", type=float, default=30.0)
    parser.add_argument("--transcript-hz", type=float, default=5.0)
    parser.add_argument("--warm-up", type=float, default=10.0, help="s before the RSS baseline")
    parser.add_argument("--compressed", action="store_true", help="JPEG on image/compressed")
    parser.add_argument("--bad-frames", type=float, default=0.0, help="share of broken frames")
    parser.add_argument("--odd-transcripts", type=float, default=0.0, help="share of odd ones")
    parser.add_argument(
        "ros_args", nargs="*", help="extra node arguments after --, e.g. -p device:=cuda"
    )
    args = parser.parse_args()

    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.setdefault("ROS_DOMAIN_ID", "42")
    executable = str(Path(sys.executable).with_name("mlnet_entity_node"))
    compressed = ["-p", "use_compressed_image:=true"] if args.compressed else []
    node_process = subprocess.Popen(
        [executable, "--ros-args", "-p", "max_image_age:=1.0", *compressed, *args.ros_args],
        stderr=subprocess.PIPE,
        text=True,
    )
    node_lines: list[str] = []
    reader = threading.Thread(
        target=lambda: node_lines.extend(line.rstrip("\n") for line in node_process.stderr),
        daemon=True,
    )
    reader.start()
    rclpy.init(args=[])
    client = rclpy.create_node("mlnet_bench_load")
    sent: dict[str, float] = {}
    latencies: list[float] = []
    answered: set[str] = set()
    duplicates = 0
    counters: dict[str, str] = {}
    expected_rejections: dict[str, int] = {}

    def on_answer(msg: EntityArray) -> None:
        nonlocal duplicates
        if msg.transcript in answered:
            duplicates += 1
            return
        answered.add(msg.transcript)
        if msg.transcript in sent:
            latencies.append(time.monotonic() - sent[msg.transcript])

    def on_diagnostics(msg: DiagnosticArray) -> None:
        for status in msg.status:
            if "entity recognition" in status.name:
                counters.update({kv.key: kv.value for kv in status.values})

    if args.compressed:
        image_pub = client.create_publisher(CompressedImage, "image/compressed", 1)
    else:
        image_pub = client.create_publisher(Image, "image", 1)
    transcript_pub = client.create_publisher(String, "transcript", 100)
    client.create_subscription(EntityArray, "entities", on_answer, 100)
    client.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, 10)
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
        pixels = np.random.default_rng(0).integers(0, 256, (720, 1280, 3), np.uint8)
        if args.compressed:
            frame = CompressedImage(format="jpeg")
            frame.data = array.array("B", cv2.imencode(".jpg", pixels)[1].tobytes())
        else:
            frame = rgb_to_image(pixels)
        frame.header.frame_id = "bench_camera"
        broken = bad_frames(args.compressed, frame)
        rng = np.random.default_rng(2)
        rss_start, cpu_start = rss_mb(node_process.pid), cpu_seconds(node_process.pid)
        started = time.monotonic()
        next_frame = next_transcript = next_sample = started
        count = frames_sent = broken_sent = 0
        rss_warm = None  # RSS once the first frames and transcripts went through (allocator warm-up)
        samples: list[tuple[float, float]] = []
        while time.monotonic() - started < args.seconds:
            now = time.monotonic()
            if rss_warm is None and now - started >= args.warm_up:
                rss_warm = rss_mb(node_process.pid)
            if now >= next_sample:
                samples.append((now - started, rss_mb(node_process.pid)))
                next_sample += 30.0
            if now >= next_frame:
                msg = frame
                if rng.random() < args.bad_frames:
                    msg = broken[broken_sent % len(broken)]
                    broken_sent += 1
                msg.header.stamp = client.get_clock().now().to_msg()
                image_pub.publish(msg)
                frames_sent += 1
                next_frame += 1.0 / args.camera_hz
            if now >= next_transcript:
                text = f"{TRANSCRIPTS[count % len(TRANSCRIPTS)]} ({count})"
                if rng.random() < args.odd_transcripts:
                    odd = int(rng.integers(len(ODD_ANSWERED) + len(ODD_REJECTED)))
                    if odd < len(ODD_ANSWERED):
                        text = f"({count}) {ODD_ANSWERED[odd]}"
                    else:
                        text, reason = ODD_REJECTED[odd - len(ODD_ANSWERED)]
                        expected_rejections[reason] = expected_rejections.get(reason, 0) + 1
                if text not in (t for t, _ in ODD_REJECTED):
                    sent[text.split("\0")[0]] = time.monotonic()
                transcript_pub.publish(String(data=text))
                count += 1
                next_transcript += 1.0 / args.transcript_hz
            time.sleep(max(0.0, min(next_frame, next_transcript) - time.monotonic()))
        elapsed = time.monotonic() - started
        drain_deadline = time.monotonic() + 60
        while len(answered) < len(sent) and time.monotonic() < drain_deadline:
            time.sleep(0.1)
        time.sleep(2.0)  # the last diagnostics, and a late duplicate
        cpu = (cpu_seconds(node_process.pid) - cpu_start) / elapsed
        rss_end = rss_mb(node_process.pid)
        samples.append((time.monotonic() - started, rss_end))
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
        reader.join(5.0)

    ms = np.array(latencies) * 1e3
    kind = "JPEG (image/compressed)" if args.compressed else "rgb8"
    print(
        f"duration {elapsed:.0f} s, camera {args.camera_hz:g} Hz 1280x720 {kind} "
        f"({frames_sent} frames, {broken_sent} broken), transcripts {args.transcript_hz:g} Hz"
    )
    lost = len(set(sent) - answered)
    print(
        f"transcripts to answer {len(sent)}, answered {len(answered & set(sent))}, "
        f"lost {lost}, duplicates {duplicates}"
    )
    rejected_ok = all(
        int(counters.get(f"rejected.{reason}", 0)) == n for reason, n in expected_rejections.items()
    )
    print(
        "rejected as expected: "
        + ", ".join(
            f"{reason} sent {n}, counted {counters.get(f'rejected.{reason}', 0)}"
            for reason, n in sorted(expected_rejections.items())
        )
        + f"; node counters: rejected {counters.get('rejected', 0)}, "
        + ", ".join(f"{k} {v}" for k, v in sorted(counters.items()) if k.startswith("rejected."))
    )
    third_party = [line for line in node_lines if line.strip() and not line.startswith("[")]
    print(f"node output lines that are not ROS log lines: {len(third_party)}")
    for line in third_party[:5]:
        print(f"  {line}")
    print("node VmRSS every 30 s: " + ", ".join(f"{t:.0f}s {mb:.0f}" for t, mb in samples))
    if len(ms):
        print(
            f"latency p50 {np.percentile(ms, 50):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, "
            f"max {ms.max():.0f} ms"
        )
    warm = rss_warm or float("nan")
    print(
        f"node RSS {rss_start:.0f} MB at start, {warm:.0f} MB after "
        f"{args.warm_up:.0f} s, {rss_end:.0f} MB at end ({rss_end - warm:+.0f} MB after the "
        f"warm-up); CPU {cpu * 100:.0f}% of one core"
    )
    return 0 if lost == 0 and duplicates == 0 and rejected_ok and not third_party else 1


if __name__ == "__main__":
    sys.exit(main())
