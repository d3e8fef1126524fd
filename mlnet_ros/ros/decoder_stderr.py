"""What image decoders write to stderr, captured so that it becomes a counted reason.

libjpeg ("Corrupt JPEG data: ..."), libpng ("libpng error: ...") and OpenCV ("[ WARN:0@...]")
print to file descriptor 2 for every corrupt frame: fed garbage at 30 Hz, the node's log would
fill with third-party lines. While a decoder runs, file descriptor 2 goes to a temporary file;
afterwards the decoder's lines are returned, and the lines that other threads logged meanwhile
(ROS log lines: "[INFO] ...", "[WARN] ...") are written to the real stderr, so none is lost.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_ROS_LOG_LINE = re.compile(r"\[(DEBUG|INFO|WARN|ERROR|FATAL)\]")
_lock = threading.Lock()  # one capture at a time: file descriptor 2 is process-wide


@contextmanager
def decoder_stderr() -> Iterator[list[str]]:
    """Capture file descriptor 2 while the block runs; the yielded list then holds the lines
    written by the decoder (empty when it wrote nothing)."""
    lines: list[str] = []
    with _lock, tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            yield lines
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            others = []
            for line in capture.read().decode("utf-8", "replace").splitlines():
                (others if _ROS_LOG_LINE.match(line) else lines).append(line)
            if others:
                os.write(2, ("\n".join(others) + "\n").encode())
