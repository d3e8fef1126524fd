"""int8 deploy bundles: recorded as such, and entity F1 within 0.3 points of the fp32 bundle on
Twitter-2017 test (all 723 tweets, text only and with an image)."""
from __future__ import annotations

import json

import onnx
import pytest
import skimage.data

from mlnet_ros.inference.backends import load_backend
from mlnet_ros.inference.export_format import IMAGE_GRAPH, SIDECAR, TEXT_GRAPH
from mlnet_ros.inference.tagging import tag_words
from training.data import DEFAULT_DATA_DIR, read_conll
from training.metrics import entity_scores

pytestmark = pytest.mark.slow
MAX_F1_DROP = 0.3  # entity F1 points, int8 text graph vs fp32


def test_int8_bundle_records_its_quantization(bundle, int8_bundle):
    sidecar, fp32_sidecar = (json.loads((b / SIDECAR).read_text()) for b in (int8_bundle, bundle))
    quantization = sidecar["quantization"][TEXT_GRAPH]
    assert quantization["method"] == "weight-only blockwise" and quantization["op_type"] == "MatMulNBits"
    assert quantization["weight_type"] == "int8" and quantization["block_size"] == 128
    assert sidecar["graphs"][IMAGE_GRAPH] == fp32_sidecar["graphs"][IMAGE_GRAPH]  # the image graph stays fp32
    assert sidecar["graphs"][TEXT_GRAPH]["sha256"] != fp32_sidecar["graphs"][TEXT_GRAPH]["sha256"]
    # MiniLM's 6 x (Q, K and V merged into one, output, feed-forward expansion and contraction), the
    # fusion's key and value projections (merged) and the emission layer; no constant-weight MatMul is left.
    assert quantization["quantized_nodes"] == 26
    graph = onnx.load(str(int8_bundle / TEXT_GRAPH), load_external_data=False).graph
    assert sum(node.op_type == "MatMulNBits" for node in graph.node) == 26
    constants = {init.name for init in graph.initializer}
    assert not [node.name for node in graph.node if node.op_type == "MatMul" and node.input[1] in constants]
    # MiniLM's 10.6 M weights shrink from 4 bytes to 1 (plus a scale per 128): about 31 MB of the fp32 graph.
    assert (int8_bundle / TEXT_GRAPH).stat().st_size < (bundle / TEXT_GRAPH).stat().st_size - 28_000_000


def test_int8_keeps_entity_f1_on_twitter2017_test(bundle, int8_bundle):
    sentences = read_conll(DEFAULT_DATA_DIR / "twitter2017" / "test.txt")
    gold, words = [s.tags for s in sentences], [s.tokens for s in sentences]
    recognizers = {"fp32": load_backend(bundle, "onnxruntime"), "int8": load_backend(int8_bundle, "onnxruntime")}
    regions = recognizers["fp32"].encode_image(skimage.data.astronaut()).regions
    for image in (None, regions):
        f1 = {
            name: entity_scores(gold, [t.tags for t in tag_words(r.runner, r.tokenizer, words, [image] * len(words))])[
                "overall"]["f1"]
            for name, r in recognizers.items()
        }
        print(f"image={image is not None}: entity F1 fp32 {f1['fp32']:.2f}, int8 {f1['int8']:.2f}")
        assert f1["fp32"] > 70.0  # the trained model, not a broken graph
        assert f1["fp32"] - f1["int8"] <= MAX_F1_DROP
