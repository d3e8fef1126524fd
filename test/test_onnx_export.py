"""ONNX export of the shipped model, and onnxruntime parity with torch on Twitter-2017 test tweets."""
from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys

import numpy as np
import onnx
import pytest
import skimage.data
import torch
from support.paths import MODEL_DIR
from support.runners import RecordingRunner

from mlnet_ros.inference.backends import load_backend
from mlnet_ros.inference.backends.onnxruntime_runner import onnxruntime_runner
from mlnet_ros.inference.backends.torch_runner import TorchRunner
from mlnet_ros.inference.export_format import (
    IMAGE_GRAPH,
    SIDECAR,
    TEXT_GRAPH,
    Export,
    ExportError,
    checkpoint_hash,
    sha256_file,
    verify_export,
)
from mlnet_ros.inference.image_crops import image_crops
from mlnet_ros.inference.onnx_export import OPSET, ensure_export
from mlnet_ros.inference.region_proposals import SaliencyProposer
from mlnet_ros.inference.tagging import tag_words
from mlnet_ros.model.checkpoint import load_checkpoint
from training.data import DEFAULT_DATA_DIR, read_conll

pytestmark = pytest.mark.slow

EMISSION_TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def torch_model():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 torch threads on 2 shared cores stall behind other processes
    model, tokenizer = load_checkpoint(MODEL_DIR)
    yield model, tokenizer
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def sentences():
    return read_conll(DEFAULT_DATA_DIR / "twitter2017" / "test.txt")  # all 723 tweets


def test_export_is_valid_and_described_by_its_sidecar(exported):
    sidecar = exported.sidecar
    assert sidecar["opset"] == OPSET
    assert sidecar["checkpoint_sha256"] == checkpoint_hash(MODEL_DIR) == sha256_file(MODEL_DIR / "model.safetensors")
    for graph in (IMAGE_GRAPH, TEXT_GRAPH):
        onnx.checker.check_model(str(exported.graph(graph)), full_check=True)
        assert sidecar["graphs"][graph]["sha256"] == sha256_file(exported.graph(graph))
    text_graph = sidecar["graphs"][TEXT_GRAPH]
    text = {v["name"]: v["shape"] for v in text_graph["inputs"] + text_graph["outputs"]}
    assert text["input_ids"] == ["batch", "pieces"] and text["char_ids"] == ["batch", "words", "chars"]
    # The cell axis is dynamic: a text-only call passes one zero region instead of a crop of 49.
    assert text["regions"] == ["batch", "crops", "cells", sidecar["config"]["text_hidden"]]
    assert exported.text_only_cells() == 1
    # Exported with eager attention: no NaN guards of the SDPA decomposition in the encoder layers.
    assert not any(node.op_type == "IsNaN" for node in onnx.load(str(exported.graph(TEXT_GRAPH))).graph.node)
    assert text["emissions"] == ["batch", "words", len(sidecar["config"]["labels"])]
    image = sidecar["graphs"][IMAGE_GRAPH]
    assert image["inputs"][0]["shape"] == ["images", sidecar["config"]["num_crops"] + 1, 3, 224, 224]


def assert_same_tagging(runner, graph_runner, tokenizer, sentences, regions):
    """tag_words with both runners: identical tags and gates, emissions within EMISSION_TOLERANCE."""
    word_lists = [s.tokens for s in sentences]
    expected_runner, actual_runner = RecordingRunner(runner), RecordingRunner(graph_runner)
    expected = tag_words(expected_runner, tokenizer, word_lists, regions)
    actual = tag_words(actual_runner, tokenizer, word_lists, regions)
    worst = max(np.abs(e - a).max() for e, a in zip(expected_runner.emissions, actual_runner.emissions))
    assert worst <= EMISSION_TOLERANCE
    assert [t.tags for t in actual] == [t.tags for t in expected]
    assert [t.image_used for t in actual] == [t.image_used for t in expected]
    assert any(tag != "O" for t in expected for tag in t.tags)


def test_onnxruntime_matches_torch_text_only(exported, torch_model, sentences):
    model, tokenizer = torch_model
    assert_same_tagging(TorchRunner(model), onnxruntime_runner(exported), tokenizer, sentences, [None] * len(sentences))


def test_a_crop_of_49_zero_cells_as_older_exports_pass_gives_the_same_text_only_tags(exported, torch_model, sentences):
    fixed = copy.deepcopy(exported.sidecar)  # the sidecar of an export whose cell axis is fixed
    next(i for i in fixed["graphs"][TEXT_GRAPH]["inputs"] if i["name"] == "regions")["shape"][2] = 49
    assert Export(exported.directory, fixed).text_only_cells() == 49
    one_cell, all_cells = onnxruntime_runner(exported), onnxruntime_runner(exported)
    all_cells.text_only_cells = 49
    sample = sentences[:200]
    assert_same_tagging(all_cells, one_cell, torch_model[1], sample, [None] * len(sample))


def test_onnxruntime_matches_torch_with_image(exported, torch_model, sentences):
    model, tokenizer = torch_model
    runner, graph_runner = TorchRunner(model), onnxruntime_runner(exported)
    crops, _ = image_crops(skimage.data.astronaut(), SaliencyProposer(), model.config.num_crops)
    regions = runner.encode_crops(crops[None])
    assert np.abs(graph_runner.encode_crops(crops[None]) - regions).max() <= EMISSION_TOLERANCE
    sample = sentences[:300]
    assert_same_tagging(runner, graph_runner, tokenizer, sample, [regions[0]] * len(sample))


def test_recognizers_agree_on_astronaut(exported):
    torch_recognizer, onnx_recognizer = load_backend(MODEL_DIR, "torch"), load_backend(MODEL_DIR, "onnxruntime")
    assert onnx_recognizer.backend == "onnxruntime"
    photo = skimage.data.astronaut()
    expected_image, actual_image = torch_recognizer.encode_image(photo), onnx_recognizer.encode_image(photo)
    assert actual_image.crop_boxes == expected_image.crop_boxes
    assert np.abs(actual_image.regions - expected_image.regions).max() <= EMISSION_TOLERANCE
    transcripts = ["Eileen Collins flew on the space shuttle Columbia for NASA", "Obama met Merkel in Berlin"]
    for images in ([None, None], [expected_image, expected_image]):
        expected = torch_recognizer.recognize_batch(transcripts, images)
        actual = onnx_recognizer.recognize_batch(transcripts, images)
        assert all(r.entities for r in expected)
        for e, a in zip(expected, actual):
            assert [(x.text, x.type, x.start, x.end, x.box) for x in a.entities] == [
                (x.text, x.type, x.start, x.end, x.box) for x in e.entities
            ]
            assert a.image_used == e.image_used and abs(a.image_text_match - e.image_text_match) <= 1e-4
            assert np.allclose([x.confidence for x in a.entities], [x.confidence for x in e.entities], atol=1e-4)


def test_damaged_or_foreign_exports_are_refused_before_any_runtime(exported, tmp_path):
    copy = tmp_path / "export"
    shutil.copytree(exported.directory, copy)
    source_hash = exported.sidecar["checkpoint_sha256"]
    assert verify_export(copy, source_hash).sidecar == exported.sidecar
    with pytest.raises(ExportError, match="exported from checkpoint"):
        verify_export(copy, "0" * 64)
    text = copy / TEXT_GRAPH
    text.write_bytes(text.read_bytes()[: text.stat().st_size // 2])  # truncated
    with pytest.raises(ExportError, match="text.onnx: sha256 differs"):
        verify_export(copy, source_hash)
    text.unlink()
    with pytest.raises(ExportError, match="text.onnx: missing"):
        verify_export(copy, source_hash)
    (copy / SIDECAR).write_text("{not json")
    with pytest.raises(ExportError, match="not an export sidecar"):
        verify_export(copy, source_hash)


def test_damaged_export_is_exported_again(exported, tmp_path, monkeypatch):
    copy = tmp_path / "export"
    shutil.copytree(exported.directory, copy)
    (copy / IMAGE_GRAPH).write_bytes(b"\x00" * 100)
    exports = []

    def export_again(model_dir, out_dir):  # stands in for the minute-long export
        exports.append(out_dir)
        shutil.copy(exported.graph(IMAGE_GRAPH), out_dir / IMAGE_GRAPH)

    monkeypatch.setattr("mlnet_ros.inference.onnx_export.export_onnx", export_again)
    assert ensure_export(MODEL_DIR, copy).directory == copy and exports == [copy]
    assert json.loads((copy / SIDECAR).read_text()) == exported.sidecar


def test_auto_uses_onnxruntime_only_once_exported(exported, monkeypatch, tmp_path):
    assert load_backend(MODEL_DIR, "auto").backend == "onnxruntime"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # an empty cache: no export to use
    assert load_backend(MODEL_DIR, "auto").backend == "torch"


def test_onnxruntime_answers_without_torch_transformers_or_onnx(exported):
    code = (
        "import sys\n"
        "from mlnet_ros.inference.backends import load_backend\n"
        f"recognizer = load_backend({str(MODEL_DIR)!r}, 'onnxruntime')\n"
        "result = recognizer.recognize('Barack Obama visited London yesterday .')\n"
        "print([e.text for e in result.entities])\n"
        "print(sorted({'torch', 'transformers', 'onnx'} & set(sys.modules)))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    entities, heavy = run.stdout.strip().splitlines()[-2:]
    assert "'Barack Obama'" in entities
    assert heavy == "[]"
