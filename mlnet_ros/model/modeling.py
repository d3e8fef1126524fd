"""MLNet (paper §3): text + image transformers, K/V fusion, cross-attention, matching gate, BiLSTM-CRF.

The forward pass is split into parts that other backends can export separately:
(a) ``encode_image``: crops → backbone grid features → ``tanh(W v + b)`` → image transformer → regions;
(b) ``forward``: wordpieces + chars (+ regions) → emissions, matching score, cross-attention;
(c) decoding: ``crf.decode`` (torch) or ``mlnet_ros.inference.crf_decoding`` (numpy).

``MLNetModel(config, text_encoder_config)`` builds the architecture with random weights and reads no
file; ``mlnet_ros.model.pretrained.build_model`` loads the frozen base weights into it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import BertConfig, BertModel

from mlnet_ros.core.config import MLNetConfig
from mlnet_ros.core.text_inputs import Window, WindowBatch
from mlnet_ros.model.backbone import ImageBackbone
from mlnet_ros.model.crf import BioCRF


@dataclass
class TextBatch:
    """Padded model inputs for a batch of windows."""

    input_ids: torch.Tensor  # (B, L)
    attention_mask: torch.Tensor  # (B, L)
    word_starts: torch.Tensor  # (B, W) first-wordpiece position of each word
    word_mask: torch.Tensor  # (B, W) bool
    char_ids: torch.Tensor  # (B, W, C)

    @classmethod
    def from_arrays(cls, batch: WindowBatch) -> TextBatch:
        return cls(*(torch.from_numpy(getattr(batch, f)) for f in cls.__dataclass_fields__))

    @classmethod
    def collate(cls, windows: list[Window]) -> TextBatch:
        return cls.from_arrays(WindowBatch.collate(windows))

    def to(self, device: torch.device | str) -> TextBatch:
        return TextBatch(*(getattr(self, f).to(device) for f in self.__dataclass_fields__))


@dataclass
class MLNetOutput:
    emissions: torch.Tensor  # (B, W, num_labels)
    match_score: torch.Tensor  # (B,) image–text matching probability; 0 where no image
    gate: torch.Tensor  # (B,) the gate applied: soft score in training, score > 0.5 at inference
    attention: torch.Tensor | None  # (B, W, regions) cross-attention of each word, head-averaged


class CharEncoder(nn.Module):
    """Character BiLSTM → one vector per word; the model's only case-sensitive input."""

    def __init__(self, config: MLNetConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.char_vocab, config.char_embedding, padding_idx=0)
        self.lstm = nn.LSTM(config.char_embedding, config.char_hidden, batch_first=True, bidirectional=True)
        self.out_dim = 2 * config.char_hidden

    def forward(self, char_ids: torch.Tensor, word_mask: torch.Tensor) -> torch.Tensor:
        batch, words, chars = char_ids.shape
        flat = char_ids[word_mask]  # (N, C) real words only
        lengths = (flat > 0).sum(dim=1).clamp(min=1)
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embedding(flat), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        _, (hidden, _) = self.lstm(packed)
        vectors = torch.cat([hidden[0], hidden[1]], dim=-1)
        out = vectors.new_zeros(batch, words, self.out_dim)
        out[word_mask] = vectors
        return out


class MLNetModel(nn.Module):
    """The whole MLNet tagger, built with random weights (see ``mlnet_ros.model.pretrained`` for the
    base weights). ``text_encoder_config`` describes the BERT-style text encoder."""

    def __init__(self, config: MLNetConfig, text_encoder_config: BertConfig):
        super().__init__()
        self.config = config
        d = config.text_hidden
        if text_encoder_config.hidden_size != d:
            raise ValueError(f"text encoder hidden size {text_encoder_config.hidden_size} != config {d}")
        # Its random initial weights are replaced by the base weights: they leave the random
        # stream untouched, so a seed gives the other layers the same initial weights as ever.
        with torch.random.fork_rng(devices=[]):
            self.text_encoder = BertModel(text_encoder_config, add_pooling_layer=False)
        self.text_encoder.embeddings.requires_grad_(False)
        layers = self.text_encoder.encoder.layer
        for layer in layers[: len(layers) - config.text_trainable_layers]:
            layer.requires_grad_(False)
        self.char_encoder = CharEncoder(config) if config.use_char_rnn else None
        char_dim = self.char_encoder.out_dim if self.char_encoder else 0

        self.backbone = ImageBackbone(config)
        self.region_projection = nn.Linear(config.image_channels, d)
        self.region_position = nn.Parameter(torch.zeros(config.num_crops + 1, config.cells_per_crop, d))
        layer = nn.TransformerEncoderLayer(
            d, config.image_heads, config.image_intermediate, dropout=0.1, activation="gelu", batch_first=True
        )
        self.image_transformer = nn.TransformerEncoder(layer, config.image_layers, enable_nested_tensor=False)

        self.fuse_key = nn.Linear(2 * d, d)
        self.fuse_value = nn.Linear(2 * d, d)
        self.cross_attention = nn.MultiheadAttention(d, config.cross_heads, dropout=0.1, batch_first=True)
        self.cross_norm = nn.LayerNorm(d)
        self.match_head = nn.Sequential(nn.Linear(3 * d, config.match_hidden), nn.Tanh(), nn.Linear(config.match_hidden, 1))

        self.input_dropout = nn.Dropout(config.dropout)
        self.bilstm = nn.LSTM(2 * d + char_dim, config.lstm_hidden, batch_first=True, bidirectional=True)
        self.output_dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(2 * config.lstm_hidden, config.num_labels)
        self.crf = BioCRF(config.labels)

    # (a) image path -------------------------------------------------------------------------
    def backbone_features(self, crops: torch.Tensor) -> torch.Tensor:
        """(N, s+1, 3, crop, crop) crops in 0..255 → frozen (N, s+1, C, grid, grid) backbone features."""
        n, k = crops.shape[:2]
        with torch.no_grad():
            features = self.backbone(self.backbone.normalize(crops.flatten(0, 1)))
        return features.view(n, k, *features.shape[1:])

    def regions_from_features(self, features: torch.Tensor) -> torch.Tensor:
        """(N, s+1, C, grid, grid) backbone features → (N, s+1, cells, d) regions after the image transformer."""
        n, k, c = features.shape[:3]
        cells = features.flatten(3).transpose(2, 3)  # (N, s+1, cells, C)
        projected = torch.tanh(self.region_projection(cells)) + self.region_position
        encoded = self.image_transformer(projected.view(n, k * self.config.cells_per_crop, -1))
        return encoded.view(n, k, self.config.cells_per_crop, -1)

    def encode_image(self, crops: torch.Tensor) -> torch.Tensor:
        """Part (a): (N, s+1, 3, crop, crop) crops → (N, s+1, cells, d) regions (cacheable per image)."""
        return self.regions_from_features(self.backbone_features(crops))

    # (b) text, fusion, BiLSTM → emissions --------------------------------------------------
    def forward(
        self, text: TextBatch, regions: torch.Tensor | None = None, image_present: torch.Tensor | None = None
    ) -> MLNetOutput:
        """Part (b). ``regions``: (B, s+1, cells, d) or None; ``image_present``: (B,) bool, rows without an image."""
        hidden = self.text_encoder(input_ids=text.input_ids, attention_mask=text.attention_mask).last_hidden_state
        words = torch.gather(hidden, 1, text.word_starts.unsqueeze(-1).expand(-1, -1, hidden.shape[-1]))
        mask = text.word_mask.unsqueeze(-1).float()
        pooled_text = (words * mask).sum(1) / mask.sum(1).clamp(min=1)

        batch = words.shape[0]
        visual = torch.zeros_like(words)
        score = words.new_zeros(batch)
        gate = words.new_zeros(batch)
        attention = None
        if regions is not None:
            flat = regions.flatten(1, 2)  # (B, R, d)
            if self.config.use_fusion:
                context = torch.cat([flat, pooled_text.unsqueeze(1).expand_as(flat)], dim=-1)
                keys, values = self.fuse_key(context), self.fuse_value(context)
                attended, attention = self.cross_attention(words, keys, values, need_weights=True)
                visual = self.cross_norm(attended)
            else:
                visual = flat.mean(1, keepdim=True).expand_as(words)
            pooled_visual = (visual * mask).sum(1) / mask.sum(1).clamp(min=1)
            features = torch.cat([pooled_text, pooled_visual, pooled_text * pooled_visual], dim=-1)
            score = torch.sigmoid(self.match_head(features)).squeeze(-1)
            present = torch.ones_like(score) if image_present is None else image_present.float()
            score = score * present
            gate = score if self.training else (score > 0.5).float()
            visual = visual * gate.view(-1, 1, 1)

        parts = [words, visual]
        if self.char_encoder is not None:
            parts.append(self.char_encoder(text.char_ids, text.word_mask))
        lstm_out, _ = self.bilstm(self.input_dropout(torch.cat(parts, dim=-1)))
        emissions = self.classifier(self.output_dropout(lstm_out))
        return MLNetOutput(emissions, score, gate, attention)

    def ner_loss(self, output: MLNetOutput, tags: torch.Tensor, word_mask: torch.Tensor) -> torch.Tensor:
        """CRF negative log-likelihood of gold tag ids (B, W)."""
        return self.crf.negative_log_likelihood(output.emissions, tags, word_mask)

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """Only the parameters that training changes (the checkpoint's content)."""
        return {name: p.detach() for name, p in self.named_parameters() if p.requires_grad}
