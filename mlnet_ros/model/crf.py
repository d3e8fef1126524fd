"""Linear-chain CRF over BIO tags: the torch layer (training, torch decoding). Every backend decodes
with ``mlnet_ros.inference.crf_decoding`` on ``BioCRF.parameters_numpy()``.

Transitions that BIO forbids (O → I-X, B-X/I-X → I-Y, start → I-X) are fixed at ``FORBIDDEN``
and receive no gradient, so Viterbi only ever returns valid BIO sequences.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torchcrf import CRF

from mlnet_ros.core.labels import allowed_transition

FORBIDDEN = -10000.0


def transition_masks(labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of allowed (start → tag) and (previous tag → tag) transitions."""
    start = np.array([allowed_transition("O", tag) for tag in labels])
    pairs = np.array([[allowed_transition(a, b) for b in labels] for a in labels])
    return start, pairs


class BioCRF(nn.Module):
    """pytorch-crf's CRF with the BIO-forbidden transitions pinned to ``FORBIDDEN``."""

    def __init__(self, labels: tuple[str, ...]):
        super().__init__()
        self.crf = CRF(len(labels), batch_first=True)
        start, pairs = transition_masks(labels)
        self.register_buffer("start_allowed", torch.from_numpy(start), persistent=False)
        self.register_buffer("pairs_allowed", torch.from_numpy(pairs), persistent=False)
        self.pin_forbidden()
        self.crf.start_transitions.register_hook(lambda g: g * self.start_allowed)
        self.crf.transitions.register_hook(lambda g: g * self.pairs_allowed)

    @torch.no_grad()
    def pin_forbidden(self) -> None:
        """Reset forbidden transitions (call after loading weights or an optimiser step)."""
        self.crf.start_transitions.masked_fill_(~self.start_allowed, FORBIDDEN)
        self.crf.transitions.masked_fill_(~self.pairs_allowed, FORBIDDEN)

    def negative_log_likelihood(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of −log p(tags | emissions); ``mask`` must start with True."""
        return -self.crf(emissions, tags, mask=mask, reduction="mean")

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        return self.crf.decode(emissions, mask=mask)

    def parameters_numpy(self) -> dict[str, np.ndarray]:
        """start, end and pairwise transition scores as float64 arrays (see ``inference.crf_decoding``)."""
        return {
            "start": self.crf.start_transitions.detach().double().cpu().numpy(),
            "end": self.crf.end_transitions.detach().double().cpu().numpy(),
            "transitions": self.crf.transitions.detach().double().cpu().numpy(),
        }
