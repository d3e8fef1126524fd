"""The installed ``mlnet_entity_node`` executable in a second process, under a namespace.

Stop it with ``stop()`` (the ``start_node`` fixture does, also when a test fails): SIGINT, then SIGABRT,
which makes Python's faulthandler print every thread's stack, so a hang shows where it hangs.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

NODE_EXECUTABLE = str(Path(sys.executable).with_name("mlnet_entity_node"))
NAMESPACE = "/test_ns"


class NodeProcess:
    """``mlnet_entity_node --ros-args ...`` with its stderr collected line by line."""

    def __init__(self, *ros_args: str) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [NODE_EXECUTABLE, "--ros-args", "-r", f"__ns:={NAMESPACE}", *ros_args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONFAULTHANDLER": "1"},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_exit(self, timeout: float = 60.0) -> int:
        code = self.process.wait(timeout)
        self._reader.join(5.0)
        return code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10.0)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGABRT)
                try:
                    self.process.wait(10.0)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(10.0)
        self._reader.join(5.0)
