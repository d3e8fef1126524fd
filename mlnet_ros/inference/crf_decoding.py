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


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    peak = x.max(axis=axis, keepdims=True)
    return np.squeeze(peak, axis) + np.log(np.exp(x - peak).sum(axis=axis))


def marginals(emissions: np.ndarray, start: np.ndarray, end: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """Posterior p(tag_t = k | emissions) for every position, by forward-backward: (T, K)."""
    length = len(emissions)
    alpha = np.zeros_like(emissions, dtype=np.float64)
    beta = np.zeros_like(emissions, dtype=np.float64)
    alpha[0] = start + emissions[0]
    for t in range(1, length):
        alpha[t] = _logsumexp(alpha[t - 1][:, None] + transitions, axis=0) + emissions[t]
    beta[-1] = end
    for t in range(length - 2, -1, -1):
        beta[t] = _logsumexp(transitions + (emissions[t + 1] + beta[t + 1])[None, :], axis=1)
    log_z = _logsumexp(alpha[-1] + end, axis=0)
    return np.exp(alpha + beta - log_z)
