"""Frozen base weights into a built model, and the text encoder's tokenizer: the steps that read the
base packages (or local paths) named in the config (see ``mlnet_ros.core.base_weights``)."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import torch
import transformers
from safetensors import SafetensorError
from safetensors.torch import load_file
from transformers import AutoTokenizer, BertConfig, BertModel

from mlnet_ros.core.base_weights import BaseWeightsError, backbone_weights_file, text_encoder_dir
from mlnet_ros.core.config import MLNetConfig
from mlnet_ros.core.text_inputs import WordPieceTokenizer
from mlnet_ros.model.backbone import ImageBackbone, resnet
from mlnet_ros.model.modeling import MLNetModel


@contextmanager
def quiet_transformers():
    """transformers' warnings (unused pooler weights, load reports) and progress bars off, then restored."""
    verbosity = transformers.logging.get_verbosity()
    progress_bar = transformers.utils.logging.is_progress_bar_enabled()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    try:
        yield
    finally:
        transformers.logging.set_verbosity(verbosity)
        if progress_bar:
            transformers.logging.enable_progress_bar()


def text_encoder_config(config: MLNetConfig) -> BertConfig:
    """The BERT configuration of the base text encoder."""
    return BertConfig.from_pretrained(text_encoder_dir(config), local_files_only=True)


def load_text_encoder_weights(model: MLNetModel) -> None:
    """Copy the base text encoder's weights into ``model.text_encoder``."""
    with quiet_transformers():
        pretrained = BertModel.from_pretrained(
            text_encoder_dir(model.config), add_pooling_layer=False, local_files_only=True
        )
    model.text_encoder.load_state_dict(pretrained.state_dict())


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from a ``.safetensors`` file or a torch file (never unpickling arbitrary objects)."""
    if path.suffix == ".safetensors":
        return load_file(str(path))
    return torch.load(path, map_location="cpu", weights_only=True)


def load_backbone_weights(backbone: ImageBackbone, config: MLNetConfig) -> None:
    """Load the frozen image backbone's weights file (its package's, or the configured local path)."""
    path = backbone_weights_file(config)
    try:
        state = read_weights(path)
        if config.image_backbone == "efficientnet-lite0":
            backbone.features.net.load_state_dict(state)
            return
        net = resnet(config.image_backbone)  # takes torchvision's key names, then hands the weights over
        net.load_state_dict(state)
    except (OSError, RuntimeError, ValueError, SafetensorError) as error:
        raise BaseWeightsError(f"{path}: cannot load {config.image_backbone} weights ({str(error).splitlines()[0]})") from None
    backbone.features.load_state_dict(torch.nn.Sequential(*list(net.children())[:-2]).state_dict())
    backbone.classifier.load_state_dict(net.fc.state_dict())


def build_model(config: MLNetConfig) -> MLNetModel:
    """An MLNetModel with its frozen base weights loaded (the trainable layers start random)."""
    model = MLNetModel(config, text_encoder_config(config))
    load_text_encoder_weights(model)
    load_backbone_weights(model.backbone, config)
    return model


def load_tokenizer(config: MLNetConfig) -> WordPieceTokenizer:
    """The text encoder's tokenizer via transformers' fast tokenizer (also for a directory with only vocab.txt)."""
    with quiet_transformers():
        fast = AutoTokenizer.from_pretrained(text_encoder_dir(config), local_files_only=True, use_fast=True)
    return WordPieceTokenizer(fast.backend_tokenizer, fast.cls_token, fast.sep_token, fast.unk_token, fast.mask_token)
