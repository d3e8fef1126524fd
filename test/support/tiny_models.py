"""Helpers shared by the model, training and recognizer tests: tiny random models (no tests here)."""
from __future__ import annotations

import shutil
from pathlib import Path

import torch
from transformers import BertConfig, BertModel

from mlnet_ros.core.base_weights import text_encoder_dir
from mlnet_ros.core.config import MLNetConfig, embedded_config
from mlnet_ros.model.modeling import MLNetModel
from mlnet_ros.model.pretrained import build_model


def tiny_text_encoder(directory: Path) -> Path:
    """A 2-layer, hidden-32 random BERT with MiniLM's uncased WordPiece tokenizer, saved in ``directory``."""
    torch.manual_seed(0)
    bert = BertModel(BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                                max_position_embeddings=512), add_pooling_layer=False)
    bert.save_pretrained(directory)
    source = text_encoder_dir(embedded_config())
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(source / name, directory / name)
    return directory


def tiny_config(text_encoder: Path, **changes) -> MLNetConfig:
    """Embedded-preset structure at toy sizes (EfficientNet-Lite0 stays: it is the only frozen CNN packaged)."""
    config = embedded_config()
    config.text_encoder = str(text_encoder)
    config.text_hidden = 32
    config.text_trainable_layers = 1
    config.num_crops = 1
    config.image_heads = 4
    config.image_intermediate = 64
    config.cross_heads = 4
    config.char_embedding = 8
    config.char_hidden = 8
    config.lstm_hidden = 16
    for key, value in changes.items():
        setattr(config, key, value)
    return config


def tiny_model(text_encoder: Path, seed: int = 0, **changes) -> MLNetModel:
    torch.manual_seed(seed)
    return build_model(tiny_config(text_encoder, **changes)).eval()
