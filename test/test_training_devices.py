"""Devices, precision and the image-feature pipeline (DataLoader workers, on-disk feature cache)."""
from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from support.tiny_models import tiny_config, tiny_text_encoder
from support.training_files import photo_folder

from mlnet_ros.model.pretrained import build_model
from training.data import Sentence
from training.devices import Precision, cpu_runs_bf16_lstm, resolve_device
from training.errors import UsageError
from training.feature_cache import FeatureCache
from training.train import TrainSettings, train
from training.tweet_images import tweet_images

SENTENCES = [
    Sentence("p0", ["Eileen", "Collins", "flew"], ["B-PER", "I-PER", "O"]),
    Sentence("p1", ["coffee", "in", "Paris"], ["O", "O", "B-LOC"]),
    Sentence("bad", ["at", "NASA"], ["O", "B-ORG"]),
    Sentence("p0", ["again", "Eileen"], ["O", "B-PER"]),
    Sentence(None, ["no", "image"], ["O", "O"]),
]


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return tiny_config(tiny_text_encoder(tmp_path_factory.mktemp("bert")))


def test_devices_and_precisions():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(UsageError, match="use auto, cpu, cuda or cuda:N"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="--device cuda:1: no CUDA device is available"):
            resolve_device("cuda:1")
    with pytest.raises(UsageError, match="fp16: needs a CUDA device"):
        Precision("fp16", torch.device("cpu"))


def test_feature_cache_serves_the_second_pass_and_workers_change_nothing(config, tmp_path, caplog):
    folder = photo_folder(tmp_path / "photos", 2)
    model = build_model(config)
    cache = FeatureCache(tmp_path / "cache", config, "saliency")
    with caplog.at_level(logging.INFO, logger="training"):
        cold = tweet_images(model, SENTENCES, [folder], cache, workers=2)
        warm = tweet_images(model, SENTENCES, [folder], cache, workers=0)
    assert "3 files: 0 from the cache, 2 computed, 1 unreadable" in caplog.text
    assert "3 files: 2 from the cache, 0 computed, 1 unreadable" in caplog.text
    assert cold.rows == warm.rows == [0, 1, None, 0, None]
    assert (cold.counts.used, cold.counts.unreadable, cold.counts.without_imgid) == (3, 1, 1)
    uncached = tweet_images(model, SENTENCES, [folder])
    assert torch.equal(cold.features, warm.features) and torch.equal(cold.features, uncached.features)
    # Another proposer or crop count is another key; a damaged entry is recomputed.
    other = FeatureCache(tmp_path / "cache", tiny_config(config.text_encoder, num_crops=2), "saliency")
    data = (folder / "p0.jpg").read_bytes()
    assert len({cache.key(data), other.key(data), FeatureCache(tmp_path / "cache", config, "detector").key(data)}) == 3
    entry = next((tmp_path / "cache").rglob("*.safetensors"))
    entry.write_bytes(b"damaged")
    assert torch.equal(tweet_images(model, SENTENCES, [folder], cache).features, cold.features)


@pytest.mark.skipif(not cpu_runs_bf16_lstm(), reason="this CPU has no bf16 LSTM kernel (no AVX-512 BF16 or AMX)")
def test_bf16_training_on_the_cpu(config, tmp_path):
    with Precision("bf16", torch.device("cpu")).autocast():
        assert torch.nn.Linear(4, 4)(torch.ones(1, 4)).dtype == torch.bfloat16
    images = tweet_images(build_model(config), SENTENCES, [photo_folder(tmp_path / "photos", 2)])
    torch.manual_seed(0)
    _, _, history = train(config, SENTENCES, SENTENCES, tmp_path / "run", TrainSettings(epochs=1, batch_size=2,
                          precision="bf16"), train_images=images, valid_images=images, device="cpu")
    assert len(history["step_loss"]) == 3 and all(np.isfinite(history["step_loss"]))


@pytest.mark.skipif(cpu_runs_bf16_lstm(), reason="this CPU runs bf16 LSTMs")
def test_bf16_on_a_cpu_without_it_is_refused_before_training():
    with pytest.raises(UsageError, match="--precision bf16: this CPU has no bf16 LSTM kernel"):
        Precision("bf16", torch.device("cpu"))
    assert Precision("fp32", torch.device("cpu")).name == "fp32"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_training_on_cuda(config, tmp_path, precision):
    images = tweet_images(build_model(config).cuda(), SENTENCES, [photo_folder(tmp_path / "photos", 2)])
    model, _, history = train(config, SENTENCES, SENTENCES, tmp_path / "run", TrainSettings(epochs=2, batch_size=2,
                              precision=precision), train_images=images, valid_images=images, device="cuda")
    assert next(model.parameters()).is_cuda and all(np.isfinite(history["step_loss"]))
