"""Tagging word lists with a runner: windows → emissions per word → Viterbi + marginals (numpy)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlnet_ros.core.text_inputs import WindowBatch, WordPieceTokenizer, make_windows
from mlnet_ros.inference.crf_decoding import marginals, viterbi
from mlnet_ros.inference.runner import Runner


@dataclass
class WordTagging:
    """Model output for one word list."""

    tags: list[str]
    marginals: np.ndarray  # (words, labels) CRF posteriors
    attention: np.ndarray | None  # (words, regions) cross-attention, None without image
    match_score: float  # mean over windows; 0.0 without image
    image_used: bool


def tag_words(
    runner: Runner,
    tokenizer: WordPieceTokenizer,
    word_lists: list[list[str]],
    regions: list[np.ndarray | None],
    batch_size: int = 32,
) -> list[WordTagging]:
    """Tag each word list; ``regions[i]`` is an (s+1, cells, d) array for list i, or None (text only)."""
    config, crf = runner.config, runner.crf
    jobs = []  # (list index, window)
    owners = []
    for i, words in enumerate(word_lists):
        windows, owner = make_windows(
            tokenizer, words, config.max_length, config.window_stride, config.max_word_chars, config.char_vocab
        )
        owners.append(owner)
        jobs.extend((i, w) for w in windows)
    # Emissions per window, in batches of windows with the same image presence and word count:
    # without word padding, the BiLSTM gives every window the result it would give it alone.
    results = {}
    groups: dict[tuple[bool, int], list[int]] = {}
    for j, (i, window) in enumerate(jobs):
        groups.setdefault((regions[i] is not None, len(window.word_starts)), []).append(j)
    for (has_image, _), members in groups.items():
        for begin in range(0, len(members), batch_size):
            group = members[begin : begin + batch_size]
            batch = WindowBatch.collate([jobs[j][1] for j in group])
            image = np.stack([regions[jobs[j][0]] for j in group]) if has_image else None
            out = runner.run_text(batch, image)
            for row, j in enumerate(group):
                n = len(jobs[j][1].word_starts)
                results[j] = (
                    out.emissions[row, :n].astype(np.float64),
                    None if out.attention is None else out.attention[row, :n],
                    float(out.match_score[row]),
                    bool(out.gate[row] > 0),
                )
    taggings = []
    job_index = 0
    for i, words in enumerate(word_lists):
        window_jobs = []
        while job_index < len(jobs) and jobs[job_index][0] == i:
            window_jobs.append(job_index)
            job_index += 1
        if not words:
            taggings.append(WordTagging([], np.zeros((0, config.num_labels)), None, 0.0, False))
            continue
        rows, attention_rows = [], []
        for w, owner in enumerate(owners[i]):
            j = window_jobs[owner]
            local = w - jobs[j][1].first_word
            rows.append(results[j][0][local])
            if results[j][1] is not None:
                attention_rows.append(results[j][1][local])
        emissions = np.stack(rows)
        path = viterbi(emissions, crf.start, crf.end, crf.transitions)
        taggings.append(
            WordTagging(
                tags=[config.labels[k] for k in path],
                marginals=marginals(emissions, crf.start, crf.end, crf.transitions),
                attention=np.stack(attention_rows) if attention_rows else None,
                match_score=float(np.mean([results[j][2] for j in window_jobs])),
                image_used=any(results[j][3] for j in window_jobs),
            )
        )
    return taggings
