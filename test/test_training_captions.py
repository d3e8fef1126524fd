"""Pretraining on an image–caption corpus (JSON lines or COCO): MLM, MVM (ImageNet or detector classes), VLM."""
from __future__ import annotations

import json
import logging

import cv2
import numpy as np
import pytest
import skimage.data
import torch
import torchvision
from support.paths import SHIPPED_MODEL
from support.tiny_models import tiny_config, tiny_text_encoder

from mlnet_ros.model.pretrained import build_model
from training.__main__ import main
from training.captions import DetectorCrops, caption_images, read_captions
from training.data import DataError
from training.pretrain import PretrainSettings, pretrain

PHOTOS = {  # 5 photos, 4 captions each: 20 pairs
    "astronaut": ["an astronaut in a white suit", "a woman in a space suit smiling", "NASA astronaut portrait",
                  "Eileen Collins posing with a flag"],
    "coffee": ["a cup of coffee on a saucer", "latte art in a white cup", "coffee with a spoon",
               "a hot drink on the table"],
    "chelsea": ["a ginger cat looking up", "Chelsea the cat", "a tabby cat close up", "a cat with green eyes"],
    "rocket": ["a rocket on the launch pad", "a Falcon rocket before launch", "SpaceX rocket at the tower",
               "a rocket under a blue sky"],
    "motorcycle": ["a red motorcycle", "a parked motorbike", "a motorcycle seen from the side",
                   "a bike with chrome parts"],
}


def photo(name: str) -> np.ndarray:
    return skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """images/<name>.jpg, captions.jsonl (20 lines, relative paths) and coco.json (the same, COCO style)."""
    root = tmp_path_factory.mktemp("captions")
    (root / "images").mkdir()
    lines, images, annotations = [], [], []
    for i, (name, texts) in enumerate(PHOTOS.items()):
        cv2.imwrite(str(root / "images" / f"{name}.jpg"), cv2.cvtColor(photo(name), cv2.COLOR_RGB2BGR))
        images.append({"id": i, "file_name": f"{name}.jpg"})
        for text in texts:
            lines.append(json.dumps({"image": f"images/{name}.jpg", "text": text}))
            annotations.append({"image_id": i, "id": len(annotations), "caption": text})
    (root / "captions.jsonl").write_text("\n".join(lines) + "\n")
    (root / "coco.json").write_text(json.dumps({"images": images, "annotations": annotations}))
    return root


def test_reading_json_lines_and_coco(corpus, tmp_path, caplog):
    lines = read_captions(corpus / "captions.jsonl")
    coco = read_captions(corpus / "coco.json", corpus / "images")
    assert len(lines) == len(coco) == 20 and lines == coco
    assert lines[4].words == ["a", "cup", "of", "coffee", "on", "a", "saucer"]
    extra = tmp_path / "more.jsonl"
    extra.write_text((corpus / "captions.jsonl").read_text().replace("images/", f"{corpus}/images/")
                     + '{"image": "gone.jpg", "text": "a lost photo"}\n')
    with caplog.at_level(logging.INFO, logger="training"):
        assert len(read_captions(extra)) == 20
    assert "21 captions, 1 of them without their image file (left out)" in caplog.text
    for content, message in [('{"image": "a.jpg"}\n', "more.jsonl:1: empty caption"),
                             ('{"text": "x"}\n{"image": "a.jpg", "text": "y"}\n', "more.jsonl:1: no image path"),
                             ('{"image": "a.jpg", "text": "y"}\nnot json\n', "more.jsonl:2: not a JSON object")]:
        extra.write_text(content)
        with pytest.raises(DataError, match=message):
            read_captions(extra)


@pytest.mark.skipif(not (SHIPPED_MODEL / "model.safetensors").exists(), reason="no shipped model")
def test_pretrain_command_on_captions_uses_all_three_objectives(corpus, tmp_path, caplog):
    out = tmp_path / "pretrained"
    with caplog.at_level(logging.INFO, logger="training"):
        code = main(["pretrain", "--captions", str(corpus / "captions.jsonl"), "--out", str(out), "--steps", "4",
                     "--batch-size", "4", "--device", "cpu", "--workers", "1", "--feature-cache", str(tmp_path / "c")])
    assert code == 0
    assert "image features of 5 files: 0 from the cache, 5 computed, 0 unreadable" in caplog.text
    assert "MVM targets: the backbone's ImageNet classes" in caplog.text
    training = json.loads((out / "config.json").read_text())["training"]
    assert training["captions"] == 20 and training["mvm_targets"] == "the backbone's ImageNet classes"
    assert json.loads((out / "labels.json").read_text()) == ["O"]
    losses = json.loads((tmp_path / "pretrained_history.json").read_text())["step_loss"]
    assert len(losses) == 4 and all(np.isfinite(losses))


def test_mvm_on_a_detector_s_classes(corpus, tmp_path, caplog):
    torch.manual_seed(0)
    state = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(weights=None,
                                                                             weights_backbone=None).state_dict()
    state["roi_heads.box_predictor.cls_score.bias"][7] = 20.0  # every box it finds is of class 7
    torch.save(state, tmp_path / "detector.pt")
    detector = DetectorCrops("fasterrcnn_mobilenet_v3_large_320_fpn", tmp_path / "detector.pt")
    config = tiny_config(tiny_text_encoder(tmp_path / "bert"), num_crops=2)
    images = caption_images(build_model(config), read_captions(corpus / "captions.jsonl"), detector=detector)
    assert images.detector_classes == 91 and images.crop_labels.shape == (5, 3)
    assert (images.crop_labels[:, 0] == -1).all() and (images.crop_labels[:, 1:] == 7).all()
    settings = PretrainSettings(steps=3, batch_size=4, mlm=False, vlm=False)
    with caplog.at_level(logging.INFO, logger="training"):
        losses = pretrain(config, [], tmp_path / "pre", settings, captions=images)
    assert "MVM targets: the detector's 91 classes" in caplog.text
    assert len(losses) == 3 and all(np.isfinite(losses))
