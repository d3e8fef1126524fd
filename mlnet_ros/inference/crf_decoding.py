"""Decoding a linear-chain CRF in numpy, for every backend: Viterbi and forward-backward marginals.

The parameters are those of ``mlnet_ros.model.crf.BioCRF`` (``parameters_numpy``), or the copy an
ONNX export's sidecar records.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CRFParameters:
    """Start (K,), end (K,) and pairwise (previous, current) (K, K) transition scores, float64."""

    start: np.ndarray
    end: np.ndarray
    transitions: np.ndarray

    @classmethod
    def from_dict(cls, values: dict) -> CRFParameters:
        """From ``{"start", "end", "transitions"}`` arrays or nested lists."""
        return cls(*(np.asarray(values[name], dtype=np.float64) for name in ("start", "end", "transitions")))


def viterbi(emissions: np.ndarray, start: np.ndarray, end: np.ndarray, transitions: np.ndarray) -> list[int]:
    """Best tag sequence for (T, K) emissions."""
    if len(emissions) == 0:
        return []
    score = start + emissions[0]
    history = []
    for emission in emissions[1:]:
        candidates = score[:, None] + transitions  # (previous, current)
        history.append(candidates.argmax(axis=0))
        score = candidates.max(axis=0) + emission
    best = [int((score + end).argmax())]
    for back in reversed(history):
        best.append(int(back[best[-1]]))
    return best[::-1]


def marginals(emissions: np.ndarray, start: np.ndarray, end: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """Posterior p(tag_t = k | emissions) for every position, by forward-backward: (T, K).

    Computed in probability space with every step's vector rescaled to sum 1 (the scaled
    forward-backward of HMMs): the posterior is the row-normalised product of the two passes, so the
    scales cancel. Same result as the log-space recursion to ~1e-13, at half its cost.
    """
    length = len(emissions)
    weights = np.exp(transitions - transitions.max())
    scaled = np.exp(emissions - emissions.max(axis=1, keepdims=True))
    alpha = np.empty_like(scaled)
    beta = np.empty_like(scaled)
    forward = np.exp(start - start.max()) * scaled[0]
    alpha[0] = forward / forward.sum()
    for t in range(1, length):
        forward = (alpha[t - 1] @ weights) * scaled[t]
        alpha[t] = forward / forward.sum()
    backward = np.exp(end - end.max())
    beta[-1] = backward / backward.sum()
    for t in range(length - 2, -1, -1):
        backward = weights @ (scaled[t + 1] * beta[t + 1])
        beta[t] = backward / backward.sum()
    posterior = alpha * beta
    return posterior / posterior.sum(axis=1, keepdims=True)
