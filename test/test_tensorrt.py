"""Real TensorRT engines on a CUDA GPU: fp32 and fp16 parity with torch and the fp32 export on
Twitter-2017 test, the engine cache on disk. Skipped with the reason where ``tensorrt`` does not
import or no GPU exists (the CI machine); ``scripts/gpu_check.sh`` runs them on a GPU machine.
The backend's own logic is also tested without TensorRT: test_tensorrt_fallback.py, test_engine_cache.py."""
from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import torch
from support.paths import MODEL_DIR
from support.runners import RecordingRunner

from mlnet_ros.inference.backends import BackendUnavailable, load_backend
from mlnet_ros.inference.backends.loading import graph_tokenizer
from mlnet_ros.inference.backends.onnxruntime_runner import onnxruntime_runner
from mlnet_ros.inference.backends.tensorrt_backend import import_tensorrt
from mlnet_ros.inference.tagging import tag_words
from training.data import DEFAULT_DATA_DIR, read_conll
from training.metrics import entity_scores

MAX_F1_DROP = 0.3  # entity F1 points against the fp32 export
MAX_EMISSION_DIFF = {"fp32": 1e-2, "fp16": 0.1}  # fp32 engines may use TF32 matrix products


def tensorrt_unavailable() -> str | None:
    try:
        import_tensorrt()
    except BackendUnavailable as error:
        return str(error)
    return None


UNAVAILABLE = tensorrt_unavailable()
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(bool(UNAVAILABLE), reason=f"tensorrt: {UNAVAILABLE}")]


@pytest.mark.parametrize("fp16", [False, True])
def test_tensorrt_matches_torch_on_the_astronaut(exported, fp16):
    torch_recognizer = load_backend(MODEL_DIR, "torch")
    engine_recognizer = load_backend(MODEL_DIR, "tensorrt", device="cuda", fp16=fp16)
    photo = skimage.data.astronaut()
    expected_image, actual_image = torch_recognizer.encode_image(photo), engine_recognizer.encode_image(photo)
    region_diff = np.abs(actual_image.regions - expected_image.regions).max()
    print(f"tensorrt {'fp16' if fp16 else 'fp32'}: max region diff vs torch {region_diff:.4f}")
    assert region_diff <= (0.1 if fp16 else 1e-2)
    transcripts = ["Eileen Collins flew on the space shuttle Columbia for NASA", "Obama met Merkel in Berlin"]
    for images in ([None, None], [expected_image, expected_image]):
        expected = torch_recognizer.recognize_batch(transcripts, images)
        actual = engine_recognizer.recognize_batch(transcripts, images)
        for e, a in zip(expected, actual):
            assert [(x.text, x.type) for x in a.entities] == [(x.text, x.type) for x in e.entities]


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_tensorrt_f1_on_twitter2017_test(exported, precision):
    """Entity F1 of the engine within MAX_F1_DROP of the fp32 export (onnxruntime CPU), text only."""
    sentences = read_conll(DEFAULT_DATA_DIR / "twitter2017" / "test.txt")
    engine = load_backend(MODEL_DIR, "tensorrt", device="cuda", fp16=precision == "fp16").runner
    reference = onnxruntime_runner(exported)
    tokenizer = graph_tokenizer(MODEL_DIR, reference.config)
    words, gold = [s.tokens for s in sentences], [s.tags for s in sentences]
    recorded = {name: RecordingRunner(runner) for name, runner in (("fp32 export", reference), (precision, engine))}
    f1 = {}
    for name, runner in recorded.items():
        tagged = tag_words(runner, tokenizer, words, [None] * len(words))
        f1[name] = entity_scores(gold, [t.tags for t in tagged])["overall"]["f1"]
    emission_diff = max(float(np.abs(e - a).max()) for e, a in zip(*(m.emissions for m in recorded.values())))
    print(f"tensorrt {precision}: entity F1 {f1[precision]:.2f} (fp32 export {f1['fp32 export']:.2f}), "
          f"max emission diff {emission_diff:.4f}")
    assert f1["fp32 export"] - f1[precision] <= MAX_F1_DROP
    assert emission_diff <= MAX_EMISSION_DIFF[precision]


def test_tensorrt_engine_is_cached_and_rebuilt_on_request(exported):
    load_backend(MODEL_DIR, "tensorrt", device="cuda")
    engine = exported.directory / "tensorrt" / "text.fp16.engine"
    built = engine.stat().st_mtime_ns
    load_backend(MODEL_DIR, "tensorrt", device="cuda")
    assert engine.stat().st_mtime_ns == built
    load_backend(MODEL_DIR, "tensorrt", device="cuda", force_engine_rebuild=True)
    assert engine.stat().st_mtime_ns != built


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs a second CUDA device")
def test_engines_run_on_the_requested_device(exported):
    recognizer = load_backend(MODEL_DIR, "tensorrt", device="cuda:1")
    assert recognizer.runner.executor.gpu.device == torch.device("cuda", 1)
    assert recognizer.recognize("Obama met Merkel in Berlin").entities
