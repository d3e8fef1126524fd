"""Text inputs of the model: transcript → words with offsets, words → wordpiece windows + char ids."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

# Order matters: the first alternative that matches at a position wins.
_WORD_PATTERN = re.compile(
    r"https?://\S+|www\.\S+"  # URLs
    r"|[@#]\w+"  # @mentions, #hashtags
    r"|\d+(?:[.,:/]\d+)*"  # numbers, times, dates
    r"|\w+(?:['’\-]\w+)*"  # words with inner apostrophes or hyphens
    r"|[^\w\s]"  # any single other character (punctuation, emoji)
)


def split_words(transcript: str) -> list[tuple[str, int, int]]:
    """Split a free transcript into (word, start, end) with ``transcript[start:end] == word``."""
    return [(m.group(), m.start(), m.end()) for m in _WORD_PATTERN.finditer(transcript)]


def char_ids(word: str, max_chars: int, vocab_size: int) -> list[int]:
    """Case-sensitive character ids of a word (0 is padding; rare code points share ids)."""
    return [1 + ord(c) % (vocab_size - 1) for c in word[:max_chars]]


@dataclass
class Window:
    """One model input: a run of consecutive words that fits in ``max_length`` wordpieces."""

    first_word: int  # index of the window's first word in the whole word list
    input_ids: list[int]  # [CLS] pieces... [SEP]
    word_starts: list[int]  # position of each word's first wordpiece in input_ids
    char_ids: list[list[int]]


def word_pieces(tokenizer, words: list[str]) -> list[list[int]]:
    """WordPiece ids of each word (a word the tokenizer drops becomes [UNK])."""
    if not words:
        return []
    encoded = tokenizer(words, is_split_into_words=True, add_special_tokens=False)
    pieces: list[list[int]] = [[] for _ in words]
    for piece, word in zip(encoded["input_ids"], encoded.word_ids()):
        pieces[word].append(piece)
    return [p or [tokenizer.unk_token_id] for p in pieces]


def make_windows(
    tokenizer, words: list[str], max_length: int, stride: int, max_chars: int, char_vocab: int
) -> tuple[list[Window], list[int]]:
    """Cut words into overlapping windows of at most ``max_length`` wordpieces (never truncating).

    Returns the windows and, for each word, the index of the window that tags it: the one where
    the word is farthest from a window edge. A window's words are tagged exactly as if those words
    were the whole input.
    """
    budget = max_length - 2
    pieces = [p[:budget] for p in word_pieces(tokenizer, words)]
    offsets = np.cumsum([0] + [len(p) for p in pieces])
    spans: list[tuple[int, int]] = []
    start = 0
    while start < len(words):
        end = start + 1
        while end < len(words) and offsets[end + 1] - offsets[start] <= budget:
            end += 1
        spans.append((start, end))
        if end == len(words):
            break
        next_start = start + 1
        while next_start < end and offsets[next_start] - offsets[start] < stride:
            next_start += 1
        start = next_start
    windows = []
    for first, end in spans:
        ids = [tokenizer.cls_token_id]
        starts = []
        for p in pieces[first:end]:
            starts.append(len(ids))
            ids.extend(p)
        ids.append(tokenizer.sep_token_id)
        chars = [char_ids(w, max_chars, char_vocab) or [1] for w in words[first:end]]
        windows.append(Window(first, ids, starts, chars))
    owner = []
    for i in range(len(words)):
        margins = [min(i - a, b - 1 - i) if a <= i < b else -1 for a, b in spans]
        owner.append(int(np.argmax(margins)))
    return windows, owner
