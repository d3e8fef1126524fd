"""The recognizer API on the shipped default model (models/embedded) and on a tiny random model."""
from __future__ import annotations

import numpy as np
import pytest
import skimage.data
from support.paths import SHIPPED_MODEL

from mlnet_ros.core.checkpoint_files import ModelLoadError
from mlnet_ros.core.results import Box, ImageFeatures, Recognition
from mlnet_ros.core.text_inputs import split_words
from mlnet_ros.inference.backends import load_backend


def test_split_words_keeps_offsets():
    transcript = "RT @nasa: Kelso's mid-size #launch at 10:30 in St. Louis!! https://t.co/x1 ok?"
    words = split_words(transcript)
    assert all(transcript[a:b] == w for w, a, b in words)
    assert [w for w, _, _ in words] == ["RT", "@nasa", ":", "Kelso's", "mid-size", "#launch", "at", "10:30", "in", "St",
                                        ".", "Louis", "!", "!", "https://t.co/x1", "ok", "?"]


def test_an_entity_points_at_the_proposal_crop_its_words_attend_to_most():
    crops = (Box(0, 0, 300, 300), Box(30, 60, 90, 120), Box(150, 10, 100, 100))
    image = ImageFeatures(np.zeros((3, 4, 8), np.float32), crops, 300, 300)
    attention = np.zeros((2, 12), np.float32)  # two words, three crops of four cells
    attention[0, 0:4] = 0.2  # the global image gets the most weight, but is not a proposal
    attention[0, 5] = 0.1
    attention[1, 8:10] = 0.08
    assert image.attended_crop(attention) == crops[2]  # 0.16 over the two words against 0.1
    assert image.attended_crop(attention[:1]) == crops[1]


@pytest.fixture(scope="module")
def tiny_recognizer(tiny_checkpoint):
    return load_backend(tiny_checkpoint, "torch")


def test_recognizer_contract_on_tiny_model(tiny_recognizer):
    image = tiny_recognizer.encode_image(skimage.data.astronaut())
    assert isinstance(image, ImageFeatures) and image.regions.shape == (2, 49, 32)
    assert image.regions.dtype == np.float32 and tiny_recognizer.backend == "torch"
    assert image.crop_boxes[0].width == 512 and image.image_height == 512
    transcript = "  Anna and Bob flew from New York to Paris  "
    for result in tiny_recognizer.recognize_batch([transcript, transcript], [image, None]):
        assert isinstance(result, Recognition) and result.transcript == transcript
        for entity in result.entities:
            assert entity.text == transcript[entity.start : entity.end]
            assert 0.0 <= entity.confidence <= 1.0
            assert (entity.box is not None) == result.image_used
    empty = tiny_recognizer.recognize("   ")
    assert empty.entities == () and not empty.image_used and empty.image_text_match == 0.0
    with pytest.raises(ValueError, match="uint8"):
        tiny_recognizer.encode_image(np.zeros((4, 4), np.float32))


def test_load_errors_are_model_load_errors(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_backend(tmp_path / "nothing", "torch")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="config.json: missing"):
        load_backend(tmp_path / "empty", "torch")




@pytest.fixture(scope="module")
def shipped():
    return load_backend(SHIPPED_MODEL, "torch")


def test_shipped_model_is_small_and_tags_a_clear_sentence(shipped):
    assert (SHIPPED_MODEL / "model.safetensors").stat().st_size <= 40_000_000  # the size limit of issue 15
    transcript = "Barack Obama visited London with Michelle yesterday ."
    result = shipped.recognize(transcript)
    assert [(e.text, e.type) for e in result.entities] == [("Barack Obama", "PER"), ("London", "LOC"), ("Michelle", "PER")]
    assert all(e.confidence > 0.5 and e.box is None for e in result.entities)


def test_shipped_model_long_transcript_matches_short(shipped):
    sentence = "Barack Obama visited London yesterday ."
    short = shipped.recognize(sentence)
    long_transcript = " ".join([sentence] * 40)  # about 280 wordpieces: several windows
    long = shipped.recognize(long_transcript)
    assert len(long.entities) == 40 * len(short.entities)
    assert [(e.text, e.type) for e in long.entities] == [(e.text, e.type) for e in short.entities] * 40


def test_shipped_model_uses_the_image_for_ambiguous_names(shipped):
    person = shipped.encode_image(skimage.data.astronaut())
    result = shipped.recognize("I saw Kelso yesterday", person)
    assert result.image_used and result.image_text_match > 0.5
    [entity] = result.entities
    assert entity.text == "Kelso" and entity.type == "PER" and entity.box is not None
    box = entity.box
    assert box.x >= 0 and box.x + box.width <= 512 and box.y >= 0 and box.y + box.height <= 512
    unrelated = shipped.recognize("my phone battery died again", person)
    assert not unrelated.image_used
