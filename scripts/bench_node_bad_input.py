"""Bad-input campaign against mlnet_entity_node (issue 10): prints the figures of docs/NODE.md.

Starts the installed node as its own process (compressed images, max_image_age 5 s) and feeds it,
in order: impossible PNG headers, decompression bombs, a 1 MB transcript followed by 150 short
ones, odd transcripts, a corpus of broken compressed frames, a burst of 100 transcripts, the
longest accepted transcript, and lifecycle cycles under load. Reports transcripts sent/answered
per phase, the node's peak RSS growth per bomb (VmHWM, reset before each), its VmRSS over the
campaign, and every line the node printed that is not a ROS log line (third-party output).

    .venv/bin/python scripts/bench_node_bad_input.py [-- -p device:=cuda]
"""

from __future__ import annotations

import argparse
import array
import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import rclpy
import skimage.data
from diagnostic_msgs.msg import DiagnosticArray
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage
from std_msgs.msg import String

from mlnet_ros.msg import EntityArray

NS = "/bench_bad"
SHORT = "Eileen Collins flew for NASA"


def status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def rss_mb(pid: int) -> float:
    return status_kb(pid, "VmRSS") / 1024


def png(width: int, height: int, bit_depth: int = 8, colour: int = 2, idat: bytes = b"") -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    body = chunk(b"IHDR", header) + (chunk(b"IDAT", idat) if idat else b"") + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def one_bit_png(width: int, height: int) -> bytes:
    """A black 1-bit PNG: a few KB that decode to width x height pixels."""
    row = b"\x00" + bytes((width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return png(width, height, bit_depth=1, colour=0, idat=idat)


def broken_frames(jpeg: bytes) -> dict[str, bytes]:
    corrupt = bytearray(jpeg)
    for index in range(len(corrupt) // 3, len(corrupt) - 2, 997):
        corrupt[index] ^= 0x5A
    return {
        "truncated_jpeg": jpeg[: len(jpeg) // 2],
        "corrupt_jpeg": bytes(corrupt),
        "empty": b"",
        "random_bytes": np.random.default_rng(0).bytes(5000),
        "png_header_only": png(640, 480),
        "bmp_huge_header": b"BM" + bytes(12) + struct.pack("<Iii", 40, 100_000, 100_000) + bytes(40),
        "gif_huge_header": b"GIF89a" + struct.pack("<HH", 65535, 65535) + bytes(20),
        "tiff_huge_header": b"II*\x00" + struct.pack("<IH", 8, 2)
        + struct.pack("<HHII", 256, 4, 1, 100_000) + struct.pack("<HHII", 257, 4, 1, 100_000),
        "jpeg2000": b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(100),
    }


class Campaign:
    def __init__(self, node_args: list[str]) -> None:
        # the node's output, read during the whole campaign and closed with it
        self.log = tempfile.NamedTemporaryFile("w+", prefix="mlnet_node_", suffix=".log")  # noqa: SIM115
        executable = str(Path(sys.executable).with_name("mlnet_entity_node"))
        self.process = subprocess.Popen(
            [executable, "--ros-args", "-r", f"__ns:={NS}", "-p", "use_compressed_image:=true",
             "-p", "max_image_age:=5.0", *node_args],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.client = rclpy.create_node("mlnet_bench_bad_input")
        self.lock = threading.Lock()
        self.answers: dict[str, list[EntityArray]] = {}
        self.values: dict[str, str] = {}
        reliable = QoSProfile(depth=200, reliability=ReliabilityPolicy.RELIABLE)
        self.image_pub = self.client.create_publisher(CompressedImage, f"{NS}/image/compressed", 1)
        self.transcript_pub = self.client.create_publisher(String, f"{NS}/transcript", reliable)
        self.client.create_subscription(EntityArray, f"{NS}/entities", self._on_answer, reliable)
        self.client.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 10)
        self.change_state = self.client.create_client(
            ChangeState, f"{NS}/mlnet_entity_node/change_state"
        )
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.client)
        self.spinner = threading.Thread(target=self.executor.spin, daemon=True)
        self.spinner.start()

    def _on_answer(self, msg: EntityArray) -> None:
        with self.lock:
            self.answers.setdefault(msg.transcript, []).append(msg)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if "entity recognition" in status.name:
                with self.lock:
                    self.values = {kv.key: kv.value for kv in status.values}

    def wait(self, predicate, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    def connected(self) -> bool:
        return (
            self.image_pub.get_subscription_count() > 0
            and self.transcript_pub.get_subscription_count() > 0
        )

    def frame(self, data: bytes, fmt: str = "jpeg") -> None:
        msg = CompressedImage(format=fmt)
        msg.header.stamp = self.client.get_clock().now().to_msg()
        msg.data = array.array("B", data)
        self.image_pub.publish(msg)

    def say(self, texts: list[str], rate_hz: float = 0.0) -> None:
        for text in texts:
            self.transcript_pub.publish(String(data=text))
            if rate_hz:
                time.sleep(1.0 / rate_hz)

    def answered(self, texts: list[str], timeout: float) -> list[int]:
        """Number of answers per text (received, after waiting up to ``timeout``)."""
        received = text_keys(texts)
        self.wait(lambda: all(self.answers.get(t) for t in received), timeout)
        time.sleep(1.0)  # a late duplicate would show up here
        with self.lock:
            return [len(self.answers.get(t, [])) for t in received]

    def statuses(self, texts: list[str]) -> dict[str, int]:
        names = {v: k for k, v in vars(EntityArray).items() if k.startswith("IMAGE_")}
        counts: dict[str, int] = {}
        with self.lock:
            for text in text_keys(texts):
                for answer in self.answers.get(text, []):
                    name = names.get(answer.image_status, str(answer.image_status))
                    counts[name] = counts.get(name, 0) + 1
        return counts

    def max_inference_s(self, texts: list[str]) -> float:
        with self.lock:
            times = [a.inference_time.sec + a.inference_time.nanosec / 1e9
                     for t in text_keys(texts) for a in self.answers.get(t, [])]
        return max(times, default=float("nan"))

    def counter(self, key: str) -> str:
        with self.lock:
            return self.values.get(key, "0")

    def transition(self, transition_id: int) -> bool:
        future = self.change_state.call_async(
            ChangeState.Request(transition=Transition(id=transition_id))
        )
        self.wait(future.done, 20.0)
        return future.done() and future.result().success

    def third_party_lines(self) -> list[str]:
        self.log.flush()
        self.log.seek(0)
        return [line.rstrip() for line in self.log if line.strip() and not line.startswith("[")]

    def close(self) -> None:
        self.executor.shutdown()
        self.spinner.join(10.0)
        self.client.destroy_node()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def text_keys(texts: list[str]) -> list[str]:
    return [t.split("\0")[0] for t in texts]  # a NUL ends a ROS string


def peak_growth_mb(campaign: Campaign, send) -> tuple[float, float]:
    """(peak RSS growth while ``send()`` runs and its transcript is answered, seconds)."""
    pid = campaign.process.pid
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = status_kb(pid, "VmHWM")
    started = time.monotonic()
    text = send()
    campaign.answered([text], 60.0)
    return (status_kb(pid, "VmHWM") - before) / 1024, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ros_args", nargs="*", help="extra node arguments after --")
    args = parser.parse_args()
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.setdefault("FASTDDS_BUILTIN_TRANSPORTS", "UDPv4")
    os.environ.setdefault("ROS_DOMAIN_ID", "43")
    rclpy.init(args=[])
    campaign = Campaign(args.ros_args)
    pid = campaign.process.pid
    rgb = cv2.resize(skimage.data.astronaut(), (1280, 720))
    jpeg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].tobytes()
    ok = True

    def report(name: str, texts: list[str], counts: list[int], extra: str = "") -> None:
        nonlocal ok
        answered_once = sum(c == 1 for c in counts)
        lost, doubled = sum(c == 0 for c in counts), sum(c > 1 for c in counts)
        ok &= lost == 0 and doubled == 0
        print(f"{name}: sent {len(texts)}, answered once {answered_once}, lost {lost}, "
              f"answered twice {doubled}; {campaign.statuses(texts)} {extra}"
              f" [node VmRSS {rss_mb(pid):.0f} MB]", flush=True)

    try:
        if not campaign.wait(campaign.connected, 180.0):
            print("the node did not come up", file=sys.stderr)
            return 1
        time.sleep(1.0)
        warm = [f"{SHORT} warm-up {i}" for i in range(5)]
        campaign.frame(jpeg)
        campaign.say(warm)
        campaign.answered(warm, 60.0)
        rss_start = rss_mb(pid)
        print(f"node VmRSS after warm-up {rss_start:.0f} MB", flush=True)

        # 1. A 45-byte PNG claiming 100000 x 100000, after a good frame and then alone.
        impossible = png(100_000, 100_000)
        campaign.frame(jpeg)
        time.sleep(0.3)
        campaign.frame(impossible, "png")
        texts = [f"{SHORT} after an impossible header {i}" for i in range(20)]
        campaign.say(texts, rate_hz=10)
        report("impossible PNG header after a good frame", texts, campaign.answered(texts, 60.0))
        for _ in range(180):  # 6 s of impossible frames at 30 Hz: the good frame ages out
            campaign.frame(impossible, "png")
            time.sleep(1 / 30)
        texts = [f"{SHORT} only impossible headers {i}" for i in range(20)]
        campaign.say(texts, rate_hz=10)
        report("impossible PNG headers only", texts, campaign.answered(texts, 60.0),
               f"last_image_rejection={campaign.counter('last_image_rejection')!r}")

        # 2. Bombs: 48 KB 1-bit PNG of 20000 x 20000 (over the limit), 7680 x 4320 (within it).
        for name, bomb in (("20000x20000", one_bit_png(20_000, 20_000)),
                           ("7680x4320", one_bit_png(7680, 4320))):
            def send(bomb=bomb, name=name) -> str:
                campaign.frame(bomb, "png")
                time.sleep(0.2)
                text = f"{SHORT} after the {name} bomb"
                campaign.say([text])
                return text
            time.sleep(6.0)  # the encoded frame ages out: the bomb is the frame to pair
            growth, seconds = peak_growth_mb(campaign, send)
            print(f"PNG bomb {name} ({len(bomb)} bytes): peak RSS growth {growth:.0f} MB, "
                  f"answered in {seconds:.2f} s [node VmRSS {rss_mb(pid):.0f} MB]", flush=True)

        # 3. A 1 MB transcript, then 150 short ones at 20 Hz.
        huge = "Eileen Collins flew for NASA. " * 35_000
        texts = [f"{SHORT} behind the huge one {i}" for i in range(150)]
        started = time.monotonic()
        campaign.say([huge])
        campaign.say(texts, rate_hz=20)
        report("150 transcripts behind a 1 MB one", texts, campaign.answered(texts, 120.0),
               f"in {time.monotonic() - started:.1f} s; "
               f"rejected.transcript_too_long={campaign.counter('rejected.transcript_too_long')}")

        # 4. Odd transcripts.
        odd = [
            "Eileen Collins 🚀" * 400, "👩‍🚀" * 1000, "‏مرحبا Eileen Collins في ناسا‏ " * 50,
            "Eileen\u0000 Collins", "e\u0301" * 2000, "\u200b" * 3000 + "NASA", "A" * 4096,
            "Eileen Collins " + "\U0001F600" * 4000, "\t".join(["NASA"] * 800), "ß" * 4096,
        ]
        odd = [f"{text} #{i}" if len(text) < 4090 else text[:4090] + f" #{i}"
               for i, text in enumerate(odd)]
        campaign.say(odd)
        counts = campaign.answered(odd, 180.0)
        report("odd transcripts", odd, counts,
               f"inference time max {campaign.max_inference_s(odd):.2f} s")

        # 5. Broken compressed frames: each followed by a transcript.
        for name, data in broken_frames(jpeg).items():
            time.sleep(6.0 if name == "truncated_jpeg" else 0.0)  # the encoded frame ages out
            campaign.frame(data, "png" if name == "truncated_jpeg" else "jpeg")
            time.sleep(0.3)
            text = f"{SHORT} after {name}"
            campaign.say([text])
            counts = campaign.answered([text], 60.0)
            report(f"frame {name}", [text], counts)

        # 6. A burst of 100 at once; the longest accepted transcript.
        burst = [f"{SHORT} burst {i}" for i in range(100)]
        started = time.monotonic()
        campaign.say(burst)
        report("burst of 100", burst, campaign.answered(burst, 120.0),
               f"in {time.monotonic() - started:.1f} s")
        longest = [("Eileen Collins flew for NASA in Houston. " * 100)[:4090] + f" {i}"
                   for i in range(5)]
        campaign.say(longest)
        counts = campaign.answered(longest, 120.0)
        report("4096-character transcripts", longest, counts,
               f"inference time max {campaign.max_inference_s(longest):.2f} s")

        # 7. Lifecycle cycles under load (frames and transcripts keep coming).
        cycles_ok = 0
        for cycle in range(5):
            campaign.frame(jpeg)
            campaign.say([f"{SHORT} cycle {cycle} {i}" for i in range(3)])
            if campaign.transition(Transition.TRANSITION_DEACTIVATE) and campaign.transition(
                Transition.TRANSITION_ACTIVATE
            ):
                cycles_ok += 1
        campaign.wait(campaign.connected, 30.0)
        time.sleep(1.0)
        after = [f"{SHORT} after the cycles {i}" for i in range(5)]
        campaign.say(after)
        report(f"after {cycles_ok}/5 lifecycle cycles", after, campaign.answered(after, 60.0))
        ok &= cycles_ok == 5

        time.sleep(2.0)
        rss_end = rss_mb(pid)
        print(f"node VmRSS {rss_start:.0f} MB after warm-up, {rss_end:.0f} MB at the end: "
              f"{rss_end - rss_start:+.0f} MB over the campaign", flush=True)
        alive = campaign.process.poll() is None
        ok &= alive
        print(f"node alive: {alive}")
        with campaign.lock:
            rejected = {k: v for k, v in campaign.values.items() if k.startswith("rejected")}
        print(f"node counters: {rejected}")
        lines = campaign.third_party_lines()
        ok &= not lines
        print(f"non-ROS lines in the node's output: {len(lines)}")
        for line in lines[:10]:
            print(f"  {line}")
    finally:
        campaign.close()
        rclpy.try_shutdown()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
