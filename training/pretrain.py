"""Pretraining (paper §3.2): masked language modelling (MLM), masked visual modelling (MVM) and
visual–language matching (VLM), each switchable.

- MLM: 15 % of the wordpieces of the training text (CoNLL files and/or captions) become [MASK]; a
  BERT-style head (dense, GELU, LayerNorm, decoder initialised from the word embeddings) predicts them.
- MVM: one crop per image has its pixels set to −1 (a black crop for mean = std = 0.5); a linear
  head on that crop's image-transformer output predicts its class. The label source is said in
  the log and the checkpoint: with ``--detector`` (captions only), the detector's class of the
  crop (cross-entropy, eq. 6); otherwise the backbone's ImageNet class distribution of the unmasked
  crop (cross-entropy to its arg-max label, eq. 6, plus KL to the distribution, eq. 7).
- VLM: matching score on matched / mismatched pairs: with ``--captions``, each caption with its
  image and with another caption's image; otherwise the generated visual pairs and, given tweet
  images (``--images``), each tweet with its own image and with another tweet's image.
The heads are dropped afterwards, and the checkpoint has no entity types (its label set is just O):
continue with ``python -m training train --init OUT``, which adds the training files' types.
"""
from __future__ import annotations

import dataclasses
import logging
import random
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from mlnet_ros.core.config import MLNetConfig
from mlnet_ros.core.labels import bio_labels
from mlnet_ros.model.checkpoint import save_checkpoint
from mlnet_ros.model.modeling import MLNetModel
from mlnet_ros.model.pretrained import build_model, load_tokenizer
from training.captions import CaptionImages
from training.data import Sentence
from training.devices import Precision
from training.examples import batches, collate, make_examples
from training.train import parameter_groups, set_seed
from training.tweet_images import TweetImages
from training.visual_check import build_visual_set

log = logging.getLogger("training")
MASK_RATE = 0.15


class MaskedLMHead(nn.Module):
    """BERT's MLM head (dense, GELU, LayerNorm, decoder); the decoder starts from the input word embeddings."""

    def __init__(self, word_embeddings: nn.Embedding):
        super().__init__()
        d = word_embeddings.embedding_dim
        self.transform = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.LayerNorm(d))
        self.decoder = nn.Linear(d, word_embeddings.num_embeddings)
        with torch.no_grad():
            self.decoder.weight.copy_(word_embeddings.weight)
            self.decoder.bias.zero_()

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.transform(hidden))


@dataclass
class PretrainSettings:
    steps: int = 1000
    batch_size: int = 16
    lr: float = 5e-5
    mlm: bool = True
    mvm: bool = True
    vlm: bool = True
    seed: int = 13
    precision: str = "fp32"


def mask_wordpieces(input_ids: torch.Tensor, attention: torch.Tensor, mask_id: int, rng: torch.Generator):
    """(masked ids, labels with −100 where nothing was masked); [CLS]/[SEP]/padding are never masked."""
    special = attention == 0
    special[:, 0] = True
    special[torch.arange(len(input_ids)), attention.sum(1) - 1] = True
    chosen = (torch.rand(input_ids.shape, generator=rng) < MASK_RATE) & ~special
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    return torch.where(chosen, torch.full_like(input_ids, mask_id), input_ids), labels


def tweet_pairs(images: TweetImages, rng: random.Random) -> list[tuple[int, int, float]]:
    """VLM pairs (sentence, image row, label): each sentence with its own image (1.0) and with another
    sentence's image (0.0)."""
    distinct = sorted({row for row in images.rows if row is not None})
    pairs = []
    for i, row in enumerate(images.rows):
        if row is None:
            continue
        pairs.append((i, row, 1.0))
        if len(distinct) > 1:
            other = rng.choice(distinct)
            while other == row:
                other = rng.choice(distinct)
            pairs.append((i, other, 0.0))
    return pairs


def untagged(tokens: list[str]) -> tuple[list[str], list[str]]:
    """(tokens, all "O"): pretraining uses no entity tags."""
    return tokens, ["O"] * len(tokens)


def pretrain(
    config: MLNetConfig, sentences: list[Sentence], out_dir: Path, settings: PretrainSettings,
    images: TweetImages | None = None, command: str = "", captions: CaptionImages | None = None,
    device: str | torch.device = "cpu",
) -> list[float]:
    """Run ``settings.steps`` steps of the enabled objectives, save the model (without heads); returns the step losses.

    MLM reads ``sentences`` and the captions. MVM and VLM use the ``captions`` corpus when given
    (each caption with its image, and with another caption's image); otherwise the generated visual
    pairs and, when ``images`` are given, the tweets with their own image (matched) and with another
    tweet's image (mismatched). MVM predicts, for the masked crop, the detector's class of that crop
    when the captions' crops carry detector classes, else the backbone's ImageNet classes.
    """
    set_seed(settings.seed)
    device = torch.device(device)
    precision = Precision(settings.precision, device)
    config = dataclasses.replace(config, labels=bio_labels(()))  # no entity types: `train --init` adds them
    model = build_model(config)
    tokenizer = load_tokenizer(config)
    d = config.text_hidden
    crop_labels = captions.crop_labels if captions is not None else None
    if crop_labels is not None:
        mvm_source, mvm_classes = f"the detector's {captions.detector_classes} classes", captions.detector_classes
    else:
        mvm_source, mvm_classes = "the backbone's ImageNet classes", model.backbone.classifier.out_features
    if settings.mvm:
        log.info("MVM targets: %s", mvm_source)
    mlm_head = MaskedLMHead(model.text_encoder.embeddings.word_embeddings)
    mvm_head = nn.Linear(d, mvm_classes)
    rng = random.Random(settings.seed)
    texts = [s.tokens for s in sentences] + (captions.words if captions is not None else [])
    text_examples = make_examples(tokenizer, config, [untagged(words) for words in texts])
    pair_examples, pools = [], []
    if (settings.mvm or settings.vlm) and captions is not None:
        pairs = tweet_pairs(TweetImages(captions.features, captions.rows), rng)
        pair_examples = make_examples(tokenizer, config, [untagged(captions.words[i]) for i, _, _ in pairs],
                                      [row for _, row, _ in pairs], [match for _, _, match in pairs])
        pools.append(captions.features)
    elif settings.mvm or settings.vlm:
        visual = build_visual_set(model, "train", 800, settings.seed)
        pair_examples = make_examples(tokenizer, config, [untagged(t) for t in visual.tokens], visual.image,
                                      visual.match)
        pools.append(visual.features)
        if images is not None:
            pairs = tweet_pairs(images, rng)
            offset = len(visual.features)
            pair_examples += make_examples(tokenizer, config, [untagged(sentences[i].tokens) for i, _, _ in pairs],
                                           [offset + row for _, row, _ in pairs], [match for _, _, match in pairs])
            pools.append(images.features)
    image_pool = torch.cat(pools) if pools else None
    for module in (model, mlm_head, mvm_head):
        module.to(device)
    parameters = [p for p in model.parameters() if p.requires_grad]
    heads = [*mlm_head.parameters(), *mvm_head.parameters()]
    optimizer = torch.optim.AdamW(parameter_groups(model, settings.lr, 1e-3, heads), weight_decay=0.01)
    scaler = precision.grad_scaler()
    black = torch.zeros(1, 3, config.crop_size, config.crop_size, device=device)  # pixels −1 after normalisation
    with torch.no_grad():
        masked_features = model.backbone(model.backbone.normalize(black))[0]
    generator = torch.Generator().manual_seed(settings.seed)
    text_batches, pair_batches = [], []
    losses = []
    model.train()
    for step in tqdm(range(settings.steps), desc="pretrain", mininterval=30):
        with precision.autocast():
            loss = torch.zeros((), device=device)
            if settings.mlm:
                text_batches = text_batches or batches(text_examples, settings.batch_size, rng)
                text, _ = collate(text_batches.pop())
                ids, labels = mask_wordpieces(text.input_ids, text.attention_mask, tokenizer.mask_token_id, generator)
                ids, labels, attention = ids.to(device), labels.to(device), text.attention_mask.to(device)
                hidden = model.text_encoder(input_ids=ids, attention_mask=attention).last_hidden_state
                picked = labels != -100
                if picked.any():
                    loss = loss + F.cross_entropy(mlm_head(hidden[picked]).float(), labels[picked])
            if pair_examples:
                pair_batches = pair_batches or batches(pair_examples, settings.batch_size, rng)
                batch = pair_batches.pop()
                image_rows = [e.image for e in batch]
                features = image_pool[image_rows].to(device).float()
                if settings.mvm:
                    loss = loss + masked_visual_loss(model, mvm_head, features, masked_features, generator,
                                                     None if crop_labels is None else crop_labels[image_rows])
                if settings.vlm:
                    text, _ = collate(batch)
                    output = model(text.to(device), model.regions_from_features(features))
                    labels = torch.tensor([e.match for e in batch], device=device)
                    score = output.match_score.float().clamp(1e-6, 1 - 1e-6)
                    with torch.autocast(device.type, enabled=False):
                        loss = loss + F.binary_cross_entropy(score, labels)
        if not loss.requires_grad:  # no wordpiece drawn for masking and no image objective
            continue
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(parameters, 5.0)
        scaler.step(optimizer)
        scaler.update()
        losses.append(loss.item())
        if step % 100 == 0:
            log.info("pretrain step %d loss %.4f", step, loss.item())
    info = {"pretrain": settings.__dict__, "sentences": len(sentences), "command": command,
            "captions": len(captions.words) if captions is not None else 0,
            "mvm_targets": mvm_source if settings.mvm else None}
    save_checkpoint(model, out_dir, info)
    return losses


def masked_visual_loss(model: MLNetModel, head: nn.Module, features: torch.Tensor, masked_features: torch.Tensor,
                       generator: torch.Generator, crop_labels: torch.Tensor | None) -> torch.Tensor:
    """MVM: one crop per image replaced by a black crop's features; the head predicts that crop's class.

    ``crop_labels`` (B, s+1): the detector's class of each crop (-1: none; only labelled crops are
    masked, images without one are skipped); None: the backbone's ImageNet distribution of the
    unmasked crop is the target (cross-entropy to its arg-max, eq. 6, plus KL, eq. 7).
    """
    batch, crops = features.shape[:2]
    if crop_labels is None:
        chosen = torch.arange(batch)
        crop = torch.randint(0, crops, (batch,), generator=generator)
    else:
        scores = torch.rand(crop_labels.shape, generator=generator).masked_fill(crop_labels < 0, -1.0)
        chosen = torch.nonzero(scores.max(1).values >= 0).flatten()
        crop = scores[chosen].argmax(1)
        if not len(chosen):
            return features.new_zeros(())
    masked = features.clone()
    masked[chosen, crop] = masked_features
    logits = head(model.regions_from_features(masked)[chosen, crop].mean(1)).float()
    with torch.autocast(features.device.type, enabled=False):
        if crop_labels is not None:
            return F.cross_entropy(logits, crop_labels[chosen, crop].to(logits.device))
        with torch.no_grad():
            target = F.softmax(model.backbone.classify(features[chosen, crop]).float(), dim=-1)
        return F.cross_entropy(logits, target.argmax(-1)) + F.kl_div(F.log_softmax(logits, -1), target,
                                                                     reduction="batchmean")
