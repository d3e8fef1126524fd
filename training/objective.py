"""The NER training loss of one batch as a module, so that one forward pass (what DistributedDataParallel
wraps) covers everything that gets a gradient: image layers, text encoder, fusion, BiLSTM, CRF."""
from __future__ import annotations

import dataclasses

import torch
from torch import nn
from torch.nn import functional as F

from mlnet_ros.model.modeling import MLNetModel
from training.examples import Example, collate


def grounding_loss(attention: torch.Tensor, batch: list[Example], labels: tuple[str, ...], cells: int) -> torch.Tensor | None:
    """Mean −log of the cross-attention mass (``attention``: (B, W, crops × cells)) that each word of a
    grounded entity puts on its target crops; None when the batch has no grounded word. In training
    mode torch returns the weights after attention dropout (rescaled by 1/(1−p)), so a mass can
    slightly exceed 1 and the loss dip below 0."""
    rows, words, targets = [], [], []
    for row, example in enumerate(batch):
        for word, tag in enumerate(example.tag_ids if example.grounding else ()):
            crops = example.grounding.get(labels[tag][2:])
            if crops:
                rows.append(row)
                words.append(word)
                targets.append(crops)
    if not rows:
        return None
    mask = torch.zeros(len(rows), attention.shape[-1], device=attention.device)
    for i, crops in enumerate(targets):
        for crop in crops:
            mask[i, crop * cells : (crop + 1) * cells] = 1.0
    mass = (attention[rows, words].float() * mask).sum(-1)
    return -torch.log(mass.clamp(min=1e-6)).mean()


class NerObjective(nn.Module):
    """CRF negative log-likelihood, plus ``match_weight`` × the matching loss of the examples that have a
    matching label, plus ``grounding_weight`` × the grounding loss of composed scenes' entity words;
    the CRF and the losses run in fp32 even under autocast."""

    def __init__(self, model: MLNetModel, match_weight: float, grounding_weight: float = 1.0):
        super().__init__()
        self.model = model
        self.match_weight = match_weight
        self.grounding_weight = grounding_weight

    def forward(self, batch: list[Example], features: torch.Tensor | None) -> torch.Tensor:
        """Loss of ``batch``; ``features``: the batch's (B, s+1, C, grid, grid) backbone features (`batch_features`)."""
        device = next(self.model.parameters()).device
        text, tags = collate(batch)
        text, tags = text.to(device), tags.to(device)
        regions = None
        if features is not None:
            regions = self.model.regions_from_features(features.to(device).float())
        output = self.model(text, regions)
        with torch.autocast(device.type, enabled=False):
            output = dataclasses.replace(output, emissions=output.emissions.float(),
                                         match_score=output.match_score.float())
            loss = self.model.ner_loss(output, tags, text.word_mask)
            labelled = [i for i, e in enumerate(batch) if e.match is not None]
            if regions is not None and labelled:
                scores = output.match_score[labelled].clamp(1e-6, 1 - 1e-6)
                labels = torch.tensor([batch[i].match for i in labelled], device=device)
                loss = loss + self.match_weight * F.binary_cross_entropy(scores, labels)
            if output.attention is not None and self.grounding_weight:
                grounded = grounding_loss(output.attention, batch, self.model.config.labels,
                                          self.model.config.cells_per_crop)
                if grounded is not None:
                    loss = loss + self.grounding_weight * grounded
        return loss


def batch_features(batch: list[Example], image_pool: torch.Tensor | None) -> torch.Tensor | None:
    """The rows of ``image_pool`` that the batch's examples use (batches never mix image and text-only examples)."""
    if batch[0].image is None:
        return None
    return image_pool[[e.image for e in batch]]
