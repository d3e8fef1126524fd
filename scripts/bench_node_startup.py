"""Start-up of mlnet_entity_node: process start → first answer on entities, and the node's peak RSS.

Starts the installed executable (autostart: configure with warm-up, then activate) on each model
directory given, --runs times each, with a client (started beforehand, already discovered nothing)
that publishes one transcript every 50 ms until an answer arrives; prints one line per run and the
median per model. ``--block-torch`` runs the node with torch and transformers unimportable (a
sitecustomize.py that blocks them), as on a lean runtime.

    .venv/bin/python scripts/bench_node_startup.py models/embedded /tmp/bundle /tmp/bundle_int8 --runs 3
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import rclpy
from rclpy.executors import SingleThreadedExecutor
from std_msgs.msg import String

from mlnet_ros.msg import EntityArray

NODE = str(Path(sys.executable).with_name("mlnet_entity_node"))
TRANSCRIPT = "Ask Tim Cook whether Apple ships to Berlin"
BLOCK = '''import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "transformers"}:
            raise ImportError(f"{name} is blocked")
        return None
sys.meta_path.insert(0, _Block())
'''


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one_run(node, publisher, answers: list, model_dir: Path, backend: str, env: dict) -> tuple[float, float]:
    answers.clear()
    started = time.perf_counter()
    process = subprocess.Popen([NODE, "--ros-args", "-p", f"model_dir:={model_dir}", "-p", f"backend:={backend}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        while not answers:
            if process.poll() is not None:
                raise SystemExit(f"the node exited with status {process.returncode}: {process.stderr.read()[-2000:]}")
            if time.perf_counter() - started > 120:
                raise SystemExit("no answer within 120 s")
            publisher.publish(String(data=TRANSCRIPT))
            time.sleep(0.05)
        elapsed = answers[0] - started
        return elapsed, peak_rss_mb(process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path, nargs="+", help="checkpoint or deploy bundle directories")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backend", default="onnxruntime")
    parser.add_argument("--block-torch", action="store_true", help="torch and transformers unimportable in the node")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.block_torch:
        directory = tempfile.mkdtemp()
        Path(directory, "sitecustomize.py").write_text(BLOCK)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (directory, env.get("PYTHONPATH")) if p)
    rclpy.init()
    node = rclpy.create_node("startup_bench_client")
    answers: list[float] = []
    node.create_subscription(EntityArray, "entities", lambda msg: answers.append(time.perf_counter()), 10)
    publisher = node.create_publisher(String, "transcript", 10)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    for model_dir in args.models:
        figures = []
        for run in range(args.runs):
            seconds, rss = one_run(node, publisher, answers, model_dir, args.backend, env)
            figures.append((seconds, rss))
            print(f"{model_dir} run {run + 1}: start → first answer {seconds:.2f} s, node peak RSS {rss:.0f} MB")
        print(f"{model_dir}: median start → first answer {statistics.median(f[0] for f in figures):.2f} s, "
              f"median node peak RSS {statistics.median(f[1] for f in figures):.0f} MB ({args.backend})")
    executor.shutdown()
    spinner.join(10.0)
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
