"""Runners for tests: a wrapper that records what a real runner computes."""
from __future__ import annotations


class RecordingRunner:
    """A runner that keeps the emissions of the real words of every batch its ``runner`` computes."""

    def __init__(self, runner):
        self.runner, self.config, self.crf = runner, runner.config, runner.crf
        self.emissions = []

    def encode_crops(self, crops):
        return self.runner.encode_crops(crops)

    def run_text(self, batch, regions):
        out = self.runner.run_text(batch, regions)
        self.emissions.append(out.emissions[batch.word_mask])
        return out
