"""MLNet model, CRF decoding, windowing and checkpoints, on tiny random models (CPU, seconds)."""
from __future__ import annotations

import itertools
import json
import shutil
import sys

import numpy as np
import pytest
import torch
import transformers
from safetensors.torch import save_file
from support.paths import SHIPPED_MODEL
from support.tiny_models import tiny_config, tiny_model, tiny_text_encoder
from transformers import AutoTokenizer

from mlnet_ros.core.base_weights import backbone_weights_file, text_encoder_dir
from mlnet_ros.core.checkpoint_files import ModelLoadError
from mlnet_ros.core.config import MLNetConfig, embedded_config, paper_config
from mlnet_ros.core.labels import LABELS, allowed_transition
from mlnet_ros.core.text_inputs import WordPieceTokenizer, make_windows
from mlnet_ros.inference.backends.torch_runner import TorchRunner
from mlnet_ros.inference.crf_decoding import marginals, viterbi
from mlnet_ros.inference.tagging import tag_words
from mlnet_ros.model.checkpoint import load_checkpoint, save_checkpoint
from mlnet_ros.model.crf import BioCRF
from mlnet_ros.model.modeling import MLNetModel, TextBatch
from mlnet_ros.model.pretrained import build_model, load_tokenizer, text_encoder_config
from training.data import DEFAULT_DATA_DIR

TWITTER2017_TEST = DEFAULT_DATA_DIR / "twitter2017" / "test.txt"
WORDS = ["Yesterday", "Barack", "Obama", "met", "Angela", "Merkel", "in", "Berlin", "to", "talk", "about", "NATO", "."]


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    return tiny_text_encoder(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="module")
def model(encoder_dir):
    return tiny_model(encoder_dir)


@pytest.fixture(scope="module")
def tokenizer(encoder_dir):
    return load_tokenizer(tiny_config(encoder_dir))


def batch_of(model, tokenizer, word_lists):
    c = model.config
    windows = [make_windows(tokenizer, w, c.max_length, c.window_stride, c.max_word_chars, c.char_vocab)[0][0]
               for w in word_lists]
    return TextBatch.collate(windows)


def test_config_json_round_trip():
    config = embedded_config()
    assert MLNetConfig.from_dict(json.loads(config.to_json())) == config
    with pytest.raises(ValueError, match="unknown config keys"):
        MLNetConfig.from_dict({**json.loads(config.to_json()), "bogus": 1})


def test_shapes_come_from_the_config_and_are_not_serialised():
    config = embedded_config()
    assert (config.crop_size, config.grid_size, config.cells_per_crop) == (224, 7, 49)
    assert config.num_regions == (config.num_crops + 1) * config.cells_per_crop
    assert not {"crop_size", "grid_size", "cells_per_crop", "num_regions"} & set(json.loads(config.to_json()))


def test_model_construction_reads_no_file_and_keeps_transformers_logging(encoder_dir):
    """MLNetModel(config, text encoder config) builds the architecture only: no base weights, no config read."""
    bert_config = text_encoder_config(tiny_config(encoder_dir))
    absent = encoder_dir / "absent"
    config = tiny_config(absent, image_backbone_weights=str(absent / "weights.pth"))
    opened, recording = [], [True]

    def record_open(event: str, args: tuple) -> None:
        if recording[0] and event == "open":
            opened.append(str(args[0]))

    sys.addaudithook(record_open)  # audit hooks cannot be removed: this one stops recording below
    verbosity = transformers.logging.get_verbosity()
    try:
        model = MLNetModel(config, bert_config)
    finally:
        recording[0] = False
    data_files = [path for path in opened if path.endswith((".safetensors", ".pth", ".pt", ".bin", ".json", ".txt"))]
    assert data_files == []
    assert transformers.logging.get_verbosity() == verbosity
    assert model.region_position.shape == (config.num_crops + 1, config.cells_per_crop, config.text_hidden)


def test_build_model_loads_the_base_weights_quietly(encoder_dir, capfd):
    from transformers import BertModel

    config = embedded_config()  # MiniLM's checkpoint has pooler weights the model does not use
    verbosity = transformers.logging.get_verbosity()
    model = build_model(config)
    assert transformers.logging.get_verbosity() == verbosity
    assert "UNEXPECTED" not in capfd.readouterr().err
    reference = BertModel.from_pretrained(text_encoder_dir(config), add_pooling_layer=False, local_files_only=True)
    for name, tensor in reference.state_dict().items():
        assert torch.equal(model.text_encoder.state_dict()[name], tensor), name
    backbone = torch.load(backbone_weights_file(config), map_location="cpu", weights_only=True)
    assert torch.equal(model.backbone.features.net.state_dict()["_conv_stem.weight"], backbone["_conv_stem.weight"])
    assert torch.equal(model.backbone.classifier.weight, backbone["_fc.weight"])


@pytest.mark.skipif(not (SHIPPED_MODEL / "model.safetensors").is_file(), reason="no shipped model")
def test_shipped_checkpoint_keys_are_the_model_parameter_names():
    from safetensors import safe_open

    model, _ = load_checkpoint(SHIPPED_MODEL)
    with safe_open(str(SHIPPED_MODEL / "model.safetensors"), "pt") as stored:
        assert set(stored.keys()) == set(model.trainable_state_dict())


def transformers_word_pieces(tokenizer, words: list[str]) -> list[list[int]]:
    """Word pieces as the pipeline took them from a transformers tokenizer before tokenizers was used directly."""
    if not words:
        return []
    encoded = tokenizer(words, is_split_into_words=True, add_special_tokens=False)
    pieces: list[list[int]] = [[] for _ in words]
    for piece, word in zip(encoded["input_ids"], encoded.word_ids()):
        pieces[word].append(piece)
    return [p or [tokenizer.unk_token_id] for p in pieces]


def test_both_tokenizer_loaders_give_transformers_ids_on_all_twitter2017_test_words():
    from training.data import read_conll

    config = embedded_config()
    reference = AutoTokenizer.from_pretrained(text_encoder_dir(config), local_files_only=True)
    loaders = {
        "transformers backend (torch)": load_tokenizer(config),
        "tokenizer.json (onnxruntime)": WordPieceTokenizer.from_file(text_encoder_dir(config) / "tokenizer.json"),
    }
    sentences = read_conll(TWITTER2017_TEST)
    assert len(sentences) == 723
    for name, tokenizer in loaders.items():
        for sentence in sentences:
            assert tokenizer.word_pieces(sentence.tokens) == transformers_word_pieces(reference, sentence.tokens), name
        windows, _ = make_windows(tokenizer, sentences[0].tokens, 128, 64, 24, 512)
        assert windows[0].input_ids[0] == reference.cls_token_id and windows[0].input_ids[-1] == reference.sep_token_id
        assert tokenizer.mask_token_id == reference.mask_token_id


def test_a_vocab_txt_only_text_encoder_still_tokenizes(tmp_path):
    source = text_encoder_dir(embedded_config())
    for name in ("config.json", "vocab.txt"):
        shutil.copy(source / name, tmp_path / name)
    words = ["Héllo", "WORLD", "naïve", "☃", "#RT", "@nasa", "unbelievably"]
    reference = AutoTokenizer.from_pretrained(source, local_files_only=True)
    tokenizer = load_tokenizer(tiny_config(tmp_path))
    assert tokenizer.word_pieces(words) == transformers_word_pieces(reference, words)


def test_long_inputs_give_no_sequence_length_warning(tokenizer, encoder_dir, caplog):
    words = ("Yesterday Barack Obama met Angela Merkel in Berlin ." * 80).split()  # > 512 wordpieces
    transformers_word_pieces(AutoTokenizer.from_pretrained(encoder_dir), words)
    assert "Token indices sequence length is longer" in caplog.text  # what tokenising with transformers logs
    caplog.clear()
    windows, owner = make_windows(tokenizer, words, 128, 64, 24, 512)
    assert len(owner) == len(words) and len(windows) > 5
    assert "Token indices sequence length" not in caplog.text


def test_shapes_with_and_without_image(model, tokenizer):
    text = batch_of(model, tokenizer, [WORDS, WORDS[:4]])
    crops = torch.rand(2, model.config.num_crops + 1, 3, 224, 224) * 255
    with torch.no_grad():
        regions = model.encode_image(crops)
        with_image = model(text, regions)
        without = model(text)
    assert regions.shape == (2, 2, 49, 32)
    assert with_image.emissions.shape == without.emissions.shape == (2, len(WORDS), len(LABELS))
    assert with_image.attention.shape == (2, len(WORDS), model.config.num_regions)
    assert without.attention is None and torch.all(without.match_score == 0)
    assert torch.all((with_image.match_score >= 0) & (with_image.match_score <= 1))


def test_closed_gate_equals_text_only(model, tokenizer):
    text = batch_of(model, tokenizer, [WORDS])
    regions = model.encode_image(torch.rand(1, 2, 3, 224, 224) * 255)
    with torch.no_grad():
        text_only = model(text).emissions
        absent = model(text, regions, image_present=torch.tensor([False]))
        bias = model.match_head[-1].bias.clone()
        model.match_head[-1].bias.fill_(-100.0)  # score ~ 0: the gate closes
        closed = model(text, regions)
        model.match_head[-1].bias.copy_(bias)
        model.match_head[-1].bias.fill_(100.0)  # score ~ 1: the gate opens
        opened = model(text, regions)
        model.match_head[-1].bias.copy_(bias)
    assert torch.equal(absent.emissions, text_only) and absent.gate.item() == 0
    assert torch.equal(closed.emissions, text_only) and closed.gate.item() == 0
    assert opened.gate.item() == 1 and not torch.allclose(opened.emissions, text_only)


def test_viterbi_returns_only_valid_bio_and_matches_torchcrf(model):
    crf = model.crf.parameters_numpy()
    rng = np.random.default_rng(0)
    for length in (1, 2, 7, 30):
        emissions = rng.normal(scale=5.0, size=(length, len(LABELS)))
        path = viterbi(emissions, crf["start"], crf["end"], crf["transitions"])
        tags = ["O"] + [LABELS[k] for k in path]
        assert all(allowed_transition(a, b) for a, b in zip(tags, tags[1:]))
        torch_path = model.crf.decode(torch.tensor(emissions, dtype=torch.float32)[None], torch.ones(1, length, dtype=torch.bool))
        assert torch_path[0] == path


def test_marginals_match_brute_force():
    rng = np.random.default_rng(1)
    k, length = 3, 4
    emissions, start, end, trans = rng.normal(size=(length, k)), rng.normal(size=k), rng.normal(size=k), rng.normal(size=(k, k))
    expected = np.zeros((length, k))
    for path in itertools.product(range(k), repeat=length):
        score = start[path[0]] + end[path[-1]] + sum(emissions[t, p] for t, p in enumerate(path))
        score += sum(trans[a, b] for a, b in zip(path, path[1:]))
        for t, p in enumerate(path):
            expected[t, p] += np.exp(score)
    expected /= expected[0].sum()
    np.testing.assert_allclose(marginals(emissions, start, end, trans), expected, rtol=1e-9)


def test_long_input_is_windowed_never_truncated(encoder_dir, tokenizer):
    model = tiny_model(encoder_dir, max_length=12, window_stride=5)
    words = (WORDS * 4)[:45]
    windows, owner = make_windows(tokenizer, words, 12, 5, 24, 512)
    assert len(windows) > 3 and max(len(w.input_ids) for w in windows) <= 12
    [long] = tag_words(TorchRunner(model), tokenizer, [words], [None])
    assert len(long.tags) == len(words)
    # Each word's emissions are those of the short input made of its window's words alone.
    stitched = []
    for i, index in enumerate(owner):
        window = windows[index]
        short = words[window.first_word : window.first_word + len(window.word_starts)]
        with torch.no_grad():
            emissions = model(batch_of(model, tokenizer, [short])).emissions[0].double().numpy()
        stitched.append(emissions[i - window.first_word])
    crf = model.crf.parameters_numpy()
    assert long.tags == [LABELS[k] for k in viterbi(np.stack(stitched), crf["start"], crf["end"], crf["transitions"])]


def test_short_input_equals_single_window(model, tokenizer):
    [tagged] = tag_words(TorchRunner(model), tokenizer, [WORDS], [None])
    with torch.no_grad():
        emissions = model(batch_of(model, tokenizer, [WORDS])).emissions[0]
    assert tagged.tags == [LABELS[k] for k in model.crf.decode(emissions[None], torch.ones(1, len(WORDS), dtype=torch.bool))[0]]


def test_checkpoint_round_trip_gives_identical_predictions(model, tokenizer, tmp_path):
    with torch.no_grad():  # checkpoints store fp16: round the in-memory weights the same way
        for p in model.parameters():
            if p.requires_grad:
                p.copy_(p.half().float())
    crops = (torch.rand(1, 2, 3, 224, 224) * 255).numpy()
    runner = TorchRunner(model)
    before = tag_words(runner, tokenizer, [WORDS, WORDS[:3]], [runner.encode_crops(crops)[0], None])
    save_checkpoint(model, tmp_path / "ckpt", {"note": "test"})
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["config.json", "labels.json", "model.safetensors"]
    loaded, loaded_tokenizer = load_checkpoint(tmp_path / "ckpt")
    loaded_runner = TorchRunner(loaded)
    after = tag_words(loaded_runner, loaded_tokenizer, [WORDS, WORDS[:3]], [loaded_runner.encode_crops(crops)[0], None])
    for a, b in zip(before, after):
        assert a.tags == b.tags
        np.testing.assert_allclose(a.marginals, b.marginals, atol=1e-6)


def test_bad_checkpoints_raise_one_line_errors(model, tmp_path):
    good = tmp_path / "good"
    save_checkpoint(model, good)

    def broken(name, edit):
        directory = tmp_path / name
        directory.mkdir()
        for f in good.iterdir():
            (directory / f.name).write_bytes(f.read_bytes())
        edit(directory)
        return directory

    document = json.loads((good / "config.json").read_text())
    cases = {
        tmp_path / "absent": "does not exist",
        broken("no_weights", lambda d: (d / "model.safetensors").unlink()): "model.safetensors: missing",
        broken("corrupt", lambda d: (d / "model.safetensors").write_bytes(b"garbage")): "unreadable safetensors",
        broken("labels", lambda d: (d / "labels.json").write_text('["O", "B-X"]')): "label set",
        broken("config", lambda d: (d / "config.json").write_text("{")): "not an MLNet config",
        broken("package", lambda d: (d / "config.json").write_text(
            json.dumps({**document, "base_weights": {"no-such-pkg": "1.0"}}))): "no-such-pkg is not installed",
        broken("shapes", lambda d: save_file({"classifier.bias": torch.zeros(3)}, str(d / "model.safetensors"))): "do not match",
    }
    for directory, message in cases.items():
        with pytest.raises(ModelLoadError, match=message) as error:
            load_checkpoint(directory)
        assert "\n" not in str(error.value)
    with pytest.raises(ModelLoadError, match="preset 'embedded', expected 'paper'"):
        load_checkpoint(good, expected_preset="paper")


def test_paper_preset_constructs_and_runs(encoder_dir, tokenizer, tmp_path):
    import torchvision

    weights = tmp_path / "resnet50.safetensors"
    save_file(torchvision.models.resnet50(weights=None).state_dict(), str(weights))
    config = paper_config(str(encoder_dir), str(weights))
    config.text_hidden, config.image_layers, config.image_heads, config.image_intermediate, config.cross_heads = 32, 1, 4, 64, 4
    model = build_model(config).eval()
    assert config.num_crops == 4 and config.image_channels == 2048
    text = batch_of(model, tokenizer, [WORDS])
    with torch.no_grad():
        out = model(text, model.encode_image(torch.rand(1, 5, 3, 224, 224) * 255))
    assert out.emissions.shape == (1, len(WORDS), len(LABELS)) and out.attention.shape == (1, len(WORDS), 5 * 49)


def test_proposers_return_exactly_s_boxes_inside_the_image(tmp_path):
    import skimage.data
    import torchvision

    from mlnet_ros.inference.region_proposals import SaliencyProposer, TorchvisionDetectorProposer

    rgb = skimage.data.coffee()
    weights = tmp_path / "detector.pt"
    torch.save(torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(
        weights=None, weights_backbone=None).state_dict(), weights)
    for proposer in (SaliencyProposer(), TorchvisionDetectorProposer("fasterrcnn_mobilenet_v3_large_320_fpn", str(weights))):
        boxes = proposer.propose(rgb, 3)
        assert len(boxes) == 3
        assert all(b.x >= 0 and b.x + b.width <= 600 and b.y >= 0 and b.y + b.height <= 400 for b in boxes)


def test_onnx_detector_proposer_orders_by_score_clips_and_pads(tmp_path):
    from mlnet_ros.core.results import Box
    from mlnet_ros.inference.region_proposals import OnnxDetectorProposer, fallback_boxes

    class FixedDetector(torch.nn.Module):
        """Four xyxy boxes (one too small, one past the image edge) with unsorted scores."""

        def forward(self, pixels: torch.Tensor):
            boxes = torch.tensor([[10.0, 10.0, 20.0, 20.0], [100.0, 50.0, 300.0, 250.0],
                                  [500.0, 300.0, 700.0, 480.0], [0.0, 0.0, 50.0, 60.0]])
            scores = torch.tensor([0.99, 0.2, 0.9, 0.5])
            return boxes + 0 * pixels.mean(), scores

    path = tmp_path / "detector.onnx"
    torch.onnx.export(FixedDetector(), (torch.zeros(1, 3, 400, 600),), str(path), input_names=["image"],
                      output_names=["boxes", "scores"], dynamic_axes={"image": {2: "h", 3: "w"}}, dynamo=False)
    proposer = OnnxDetectorProposer(str(path))
    rgb = np.zeros((400, 600, 3), np.uint8)
    assert proposer.propose(rgb, 3) == [Box(500, 300, 100, 100), Box(0, 0, 50, 60), Box(100, 50, 200, 200)]
    assert proposer.propose(rgb, 4)[3] in fallback_boxes(400, 600)


def test_marginals_hold_with_forbidden_transitions_and_large_emissions():
    """The model's BIO constraints (forbidden transitions far below zero) and emissions of ±100: the
    scaled recursion against a log-space brute force over all 9^5 paths."""
    crf = BioCRF(LABELS).parameters_numpy()
    start, end, trans = crf["start"], crf["end"], crf["transitions"]
    rng = np.random.default_rng(2)
    length, k = 5, len(LABELS)
    emissions = rng.normal(scale=40.0, size=(length, k)).clip(-100, 100)
    paths = np.array(list(itertools.product(range(k), repeat=length)))
    scores = start[paths[:, 0]] + end[paths[:, -1]] + emissions[np.arange(length), paths].sum(axis=1)
    scores += trans[paths[:, :-1], paths[:, 1:]].sum(axis=1)
    log_z = np.logaddexp.reduce(scores)
    expected = np.zeros((length, k))
    for t in range(length):
        for tag in range(k):
            chosen = scores[paths[:, t] == tag]
            expected[t, tag] = np.exp(np.logaddexp.reduce(chosen) - log_z) if len(chosen) else 0.0
    got = marginals(emissions, start, end, trans)
    np.testing.assert_allclose(got, expected, atol=1e-9)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-12)
