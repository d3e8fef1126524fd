"""Deploy bundles: `mlnet_export --out` writes one; `mlnet_tag` and the node run it with torch and
transformers unimportable and answer as the torch backend does; damaged bundles are one-line errors."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from support.bundles import BIN
from support.node_process import NodeProcess
from support.paths import MODEL_DIR
from support.ros_client import ASTRONAUT, SENTENCE, entity_pairs, wait_for

from mlnet_ros.core.checkpoint_files import ModelLoadError
from mlnet_ros.inference.backends import load_backend
from mlnet_ros.inference.bundle import BUNDLE_FILES, verify_bundle
from mlnet_ros.inference.export_format import SIDECAR, TEXT_GRAPH, checkpoint_hash, sha256_file

pytestmark = [pytest.mark.ros, pytest.mark.slow]
UTTERANCE = "Ask Tim Cook whether Apple ships to Berlin"
BLOCK = '''import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "transformers"}:
            raise ImportError(f"{name} is blocked (torch-free runtime test)")
        return None
sys.meta_path.insert(0, _Block())
'''


@pytest.fixture(scope="session")
def torch_free_env(tmp_path_factory) -> dict:
    """The environment of a process in which importing torch or transformers raises ImportError."""
    directory = tmp_path_factory.mktemp("block")
    (directory / "sitecustomize.py").write_text(BLOCK)
    path = os.pathsep.join(p for p in (str(directory), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


def tag(model: Path, env: dict | None = None, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BIN / "mlnet_tag", "--model", model, *args], capture_output=True, text=True, timeout=300,
                          env=env)


def test_bundle_holds_every_file_with_its_sha256(bundle):
    assert sorted(p.name for p in bundle.iterdir()) == sorted((*BUNDLE_FILES, SIDECAR))
    sidecar = json.loads((bundle / SIDECAR).read_text())
    assert sidecar["checkpoint_sha256"] == checkpoint_hash(MODEL_DIR)
    assert sidecar["opset"] == 18 and sidecar["quantization"] is None and set(sidecar["crf"]) >= {"transitions"}
    for name in BUNDLE_FILES:
        recorded = sidecar["files"].get(name) or sidecar["graphs"][name]["sha256"]
        assert recorded == sha256_file(bundle / name), name


def test_blocked_import_really_blocks(torch_free_env):
    run = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, text=True, env=torch_free_env)
    assert run.returncode == 1 and "torch is blocked" in run.stderr


def test_mlnet_tag_on_a_bundle_without_torch_answers_as_torch(bundle, torch_free_env, tmp_path):
    photo = tmp_path / "astronaut.png"
    cv2.imwrite(str(photo), cv2.cvtColor(ASTRONAUT, cv2.COLOR_RGB2BGR))
    for args in ([UTTERANCE], [SENTENCE, "--image", str(photo)]):
        lean = tag(bundle, torch_free_env, *args)
        assert lean.returncode == 0, lean.stderr[-3000:]
        reference = tag(MODEL_DIR, None, *args, "--backend", "torch")
        assert reference.returncode == 0, reference.stderr[-3000:]
        lean_json, reference_json = json.loads(lean.stdout), json.loads(reference.stdout)
        assert lean_json["backend"] == "onnxruntime" and reference_json["backend"] == "torch"
        assert lean_json["entities"], lean.stdout
        assert [(e["text"], e["type"], e["start"], e["end"]) for e in lean_json["entities"]] == [
            (e["text"], e["type"], e["start"], e["end"]) for e in reference_json["entities"]
        ]
        for lean_entity, reference_entity in zip(lean_json["entities"], reference_json["entities"]):
            assert lean_entity["confidence"] == pytest.approx(reference_entity["confidence"], abs=2e-3)


def test_node_on_a_bundle_without_torch(bundle, torch_free_env, client, monkeypatch, request):
    monkeypatch.setattr(os, "environ", torch_free_env)  # NodeProcess passes os.environ on
    node = NodeProcess("-p", f"model_dir:={bundle}", "-p", "backend:=onnxruntime")
    request.addfinalizer(node.stop)
    monkeypatch.undo()
    assert wait_for(lambda: client.transcript_pub.get_subscription_count() > 0, 120.0), node.output()
    answer = client.say(UTTERANCE, timeout=60.0)
    assert entity_pairs(answer) == {("Tim Cook", "PER"), ("Apple", "ORG"), ("Berlin", "LOC")}, node.output()
    assert "backend onnxruntime" in node.output() and "Traceback" not in node.output()


def damaged(bundle: Path, tmp_path: Path, damage) -> Path:
    copy = tmp_path / "damaged"
    shutil.copytree(bundle, copy)
    damage(copy)
    return copy


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def edit_sidecar(directory: Path, change) -> None:
    sidecar = json.loads((directory / SIDECAR).read_text())
    change(sidecar)
    (directory / SIDECAR).write_text(json.dumps(sidecar))


@pytest.mark.parametrize(
    "damage, named, words",
    [
        (lambda d: (d / TEXT_GRAPH).unlink(), TEXT_GRAPH, "missing"),
        (lambda d: truncate(d / "image.onnx"), "image.onnx", "sha256 differs"),
        (lambda d: (d / "labels.json").write_text('["O"]'), "labels.json", "sha256 differs"),
        (lambda d: (d / "tokenizer.json").write_text("{}"), "tokenizer.json", "sha256 differs"),
        (lambda d: (d / SIDECAR).write_text("{"), SIDECAR, "not a deploy bundle"),
        (lambda d: edit_sidecar(d, lambda s: s.update(opset=99)), SIDECAR, "opset 99"),
        (lambda d: edit_sidecar(d, lambda s: s["config"].update(text_hidden=7)), "config.json", "not the model"),
    ],
    ids=["missing_graph", "truncated_graph", "altered_labels", "other_tokenizer", "broken_sidecar", "unknown_opset",
         "other_checkpoint"],
)
def test_damaged_bundle_is_one_line_naming_the_file(bundle, tmp_path, damage, named, words):
    copy = damaged(bundle, tmp_path, damage)
    with pytest.raises(ModelLoadError, match=words) as error:
        verify_bundle(copy)
    assert named in str(error.value) and "\n" not in str(error.value)
    run = tag(copy, None, UTTERANCE)
    assert run.returncode == 2 and run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlnet_tag: error:") and named in lines[0], run.stderr


def test_read_only_bundle_loads_and_stays_unchanged(bundle, tmp_path):
    copy = damaged(bundle, tmp_path, lambda d: None)
    before = {p.name: sha256_file(p) for p in copy.iterdir()}
    for path in (*copy.iterdir(), copy):
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH | (stat.S_IXUSR if path.is_dir() else 0))
    try:
        recognition = load_backend(copy, "onnxruntime").recognize(UTTERANCE)
    finally:
        copy.chmod(0o755)
    assert {(e.text, e.type) for e in recognition.entities} == {("Tim Cook", "PER"), ("Apple", "ORG"), ("Berlin", "LOC")}
    assert {p.name: sha256_file(p) for p in copy.iterdir()} == before


def test_torch_backend_on_a_bundle_is_one_line(bundle):
    run = tag(bundle, None, UTTERANCE, "--backend", "torch")
    assert run.returncode == 2
    assert run.stderr.strip() == (
        f"mlnet_tag: error: {bundle} is a deploy bundle (ONNX graphs, no torch weights): "
        "use the onnxruntime or tensorrt backend"
    )


def test_mlnet_bench_on_a_bundle_writes_start_to_first_answer(bundle, tmp_path):
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [BIN / "mlnet_bench", "--backends", "torch,onnxruntime", "--iterations", "2", "--model", bundle,
         "--bundle", bundle, "--json", out],
        capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(out.read_text())
    assert set(results) == {"onnxruntime", "onnxruntime (fp32 bundle)", "machine"}
    for name in ("onnxruntime", "onnxruntime (fp32 bundle)"):
        figures = results[name]
        assert all(figures[key] > 0 for key in ("text_only_p50_ms", "with_image_p50_ms", "load_s", "peak_rss_mb"))
        assert figures["load_s"] < figures["start_to_first_answer_s"] < 600
    assert "deploy bundle" in results["machine"]["backends_not_run"]["torch"]
    assert "| onnxruntime (fp32 bundle) |" in run.stdout


def test_mlnet_bench_with_a_damaged_bundle_is_one_line(bundle, tmp_path):
    copy = damaged(bundle, tmp_path, lambda d: truncate(d / TEXT_GRAPH))
    run = subprocess.run([BIN / "mlnet_bench", "--backends", "onnxruntime", "--bundle", copy],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.startswith(f"mlnet_bench: error: --bundle: {copy / TEXT_GRAPH}: sha256 differs")
    assert run.stderr.count("\n") == 1
