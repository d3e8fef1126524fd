"""mlnet_bench: the JSON contract on a short run that leaves the work tree as it was, one-line user
mistakes with exit status 2, the utterances it times, and where --append-docs puts the report."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from support.paths import MODEL_DIR

import mlnet_ros.cli.bench as bench
from mlnet_ros.cli.bench import BENCHMARKS_MD, BUILTIN_UTTERANCES, SECTION, append_report, main, utterances

REPO = Path(__file__).resolve().parents[1]
BENCH_EXECUTABLE = str(Path(sys.executable).with_name("mlnet_bench"))
FIGURES = (
    "text_only_p50_ms", "text_only_p95_ms", "with_image_p50_ms", "with_image_p95_ms",
    "batch32_utterances_per_s", "load_s", "first_inference_ms", "peak_rss_mb",
)

pytestmark = pytest.mark.slow
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}  # 2 torch threads on 2 busy cores stall (see BENCHMARKS.md)


def work_tree_status() -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True, check=True).stdout


def test_short_run_writes_one_object_per_backend_and_leaves_the_work_tree_alone(exported, tmp_path):
    status_before = work_tree_status()
    docs_before = BENCHMARKS_MD.read_text()
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [BENCH_EXECUTABLE, "--backends", "torch,onnxruntime", "--iterations", "2", "--model", str(MODEL_DIR),
         "--json", str(out)],
        capture_output=True, text=True, timeout=300, env=ONE_THREAD,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads(out.read_text())
    assert set(results) == {"torch", "onnxruntime", "machine"}
    for backend in ("torch", "onnxruntime"):
        assert all(results[backend][key] > 0 for key in FIGURES), results[backend]
    assert results["machine"]["cores"] >= 1
    assert "| onnxruntime |" in run.stdout
    assert work_tree_status() == status_before
    assert BENCHMARKS_MD.read_text() == docs_before


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--model", "{tmp}/absent"], "--model: {tmp}/absent: model directory does not exist"),
        (["--data", "{tmp}/absent.txt"], "--data: {tmp}/absent.txt: file not found"),
        (["--backends", "torch,cuda"], "--backends 'torch,cuda': choose one or more of tensorrt, onnxruntime, torch"),
        (["--backends", ","], "--backends ',': choose one or more of"),
        (["--iterations", "0"], "--iterations 0: must be at least 1"),
        (["--json", "{tmp}/no/such/dir/out.json"], "--json {tmp}/no/such/dir/out.json: directory {tmp}/no/such/dir"),
        (["--json", "{tmp}"], "--json {tmp}: is a directory"),
    ],
)
def test_user_mistakes_are_one_line_and_status_2(arguments, message, tmp_path, capsys):
    assert main([argument.format(tmp=tmp_path) for argument in arguments]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("mlnet_bench: error: " + message.format(tmp=tmp_path)), captured.err
    assert captured.err.count("\n") == 1 and captured.out == ""


@pytest.mark.skipif(importlib.util.find_spec("tensorrt") is not None, reason="TensorRT can run here")
def test_no_runnable_backend_is_one_line_and_status_1(capsys):
    assert main(["--backends", "tensorrt"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("mlnet_bench: error: no backend could run here: tensorrt (")
    assert captured.err.count("\n") == 1 and captured.out == ""


def test_entry_script_returns_the_status():
    run = subprocess.run([sys.executable, str(REPO / "bin" / "mlnet_bench"), "--iterations", "0"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2
    assert run.stderr == "mlnet_bench: error: --iterations 0: must be at least 1\n"


def test_append_docs_outside_a_source_tree_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench, "SOURCE_TREE", tmp_path)  # where an installed bench.py sits: no package.xml, no docs
    assert main(["--append-docs"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"mlnet_bench: error: --append-docs: this mlnet_bench runs from {tmp_path}, not from")
    assert error.count("\n") == 1


def test_utterances_come_from_data_or_the_built_in_sentences(monkeypatch, tmp_path):
    conll = tmp_path / "utterances.txt"
    conll.write_text("IMGID:1\nbring\tO\nit\tO\nto\tO\nAnna\tB-PER\n\ngo\tO\nto\tO\nParis\tB-LOC\n")
    assert utterances(conll) == (["bring it to Anna", "go to Paris"], f"2 sentences of {conll}")
    monkeypatch.setattr(bench, "DEFAULT_DATA", tmp_path / "absent" / "test.txt")
    texts, source = utterances(None)
    assert texts == list(BUILTIN_UTTERANCES)
    assert source.startswith(f"{len(BUILTIN_UTTERANCES)} built-in robot-style sentences") and "--data FILE" in source


def test_append_docs_writes_the_run_into_the_source_tree_docs(monkeypatch, tmp_path, capsys):
    """A source tree stand-in (package.xml, docs/BENCHMARKS.md) and a 2-sentence --data file: batches of
    32 cycle over them, the run lands at the end of its section, and the --json file is written."""
    (tmp_path / "package.xml").write_text("<package/>\n")
    (tmp_path / "docs").mkdir()
    docs = tmp_path / "docs" / "BENCHMARKS.md"
    docs.write_text(f"# Benchmarks\n\n{SECTION}\n\nintro\n\n## Later section\n")
    monkeypatch.setattr(bench, "SOURCE_TREE", tmp_path)
    monkeypatch.setattr(bench, "BENCHMARKS_MD", docs)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    conll = tmp_path / "two.txt"
    conll.write_text("bring\tO\nit\tO\nto\tO\nAnna\tB-PER\n\ngo\tO\nto\tO\nParis\tB-LOC\n")
    threads = torch.get_num_threads()
    try:
        status = main(["--backends", "torch", "--iterations", "1", "--model", str(MODEL_DIR), "--data", str(conll),
                       "--json", str(tmp_path / "out.json"), "--append-docs"])
    finally:
        torch.set_num_threads(threads)  # the FLOP count runs in this process on one thread
    assert status == 0, capsys.readouterr().err
    text = docs.read_text()
    assert text.index(SECTION) < text.index("intro") < text.index("### mlnet_bench run") < text.index("## Later section")
    assert f"Utterances: 2 sentences of {conll}." in text and "| torch |" in text and "--append-docs" in text
    assert json.loads((tmp_path / "out.json").read_text())["torch"]["batch32_utterances_per_s"] > 0


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
