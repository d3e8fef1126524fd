"""The NER training loss of one batch as a module, so that one forward pass (what DistributedDataParallel
wraps) covers everything that gets a gradient: image layers, text encoder, fusion, BiLSTM, CRF."""
from __future__ import annotations

import dataclasses

import torch
from torch import nn
from torch.nn import functional as F

from mlnet_ros.model.modeling import MLNetModel
from training.examples import Example, collate


class NerObjective(nn.Module):
    """CRF negative log-likelihood, plus ``match_weight`` × the matching loss of the examples that have a
    matching label; the CRF and the losses run in fp32 even under autocast."""

    def __init__(self, model: MLNetModel, match_weight: float):
        super().__init__()
        self.model = model
        self.match_weight = match_weight

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
        return loss


def batch_features(batch: list[Example], image_pool: torch.Tensor | None) -> torch.Tensor | None:
    """The rows of ``image_pool`` that the batch's examples use (batches never mix image and text-only examples)."""
    if batch[0].image is None:
        return None
    return image_pool[[e.image for e in batch]]
