"""mlnet_bench: the JSON contract on a short run, and where the report lands in BENCHMARKS.md."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from onnx_support import MODEL_DIR, exported, needs_model, onnx_cache  # noqa: F401 (fixtures)

from mlnet_ros.cli.bench import BENCHMARKS_MD, SECTION, append_report

BENCH_EXECUTABLE = str(Path(sys.executable).with_name("mlnet_bench"))
FIGURES = (
    "text_only_p50_ms", "text_only_p95_ms", "with_image_p50_ms", "with_image_p95_ms",
    "batch32_utterances_per_s", "load_s", "first_inference_ms", "peak_rss_mb",
)


@needs_model
def test_short_run_writes_one_object_per_backend(exported, tmp_path):
    before = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else None
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [BENCH_EXECUTABLE, "--backends", "torch,onnxruntime", "--iterations", "2", "--model", str(MODEL_DIR),
         "--json", str(out), "--no-append"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},  # 2 torch threads on 2 busy cores stall (see BENCHMARKS.md)
    )
    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads(out.read_text())
    for backend in ("torch", "onnxruntime"):
        assert all(results[backend][key] > 0 for key in FIGURES), results[backend]
    assert results["machine"]["cores"] >= 1
    assert "| onnxruntime |" in run.stdout
    assert (BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else None) == before


def test_report_goes_at_the_end_of_its_section(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## Setup\ntext\n")
    append_report("### run 1\n", path)
    append_report("### run 2\n", path)
    path.write_text(path.read_text() + "\n## Later section\nmore\n")
    append_report("### run 3\n", path)
    text = path.read_text()
    assert text.count(SECTION) == 1
    assert text.index("## Setup") < text.index(SECTION) < text.index("### run 1") < text.index("### run 2")
    assert text.index("### run 2") < text.index("### run 3") < text.index("## Later section")
