"""Text inputs of the model: transcript → words with offsets, words → wordpiece windows + char ids →
padded arrays."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

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


class WordPieceTokenizer:
    """The text encoder's ``tokenizers.Tokenizer``, never truncating or padding, and the ids of its
    special tokens."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        cls_token: str = "[CLS]",
        sep_token: str = "[SEP]",
        unk_token: str = "[UNK]",
        mask_token: str = "[MASK]",
    ):
        self._tokenizer = Tokenizer.from_str(tokenizer.to_str())  # a copy: the caller's settings stay
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.cls_token_id, self.sep_token_id, self.unk_token_id, self.mask_token_id = (
            self._special_id(token) for token in (cls_token, sep_token, unk_token, mask_token)
        )

    @classmethod
    def from_file(cls, path: Path) -> WordPieceTokenizer:
        """Load a ``tokenizer.json`` with BERT's special tokens; ValueError if it is missing or unusable."""
        try:
            return cls(Tokenizer.from_file(str(path)))
        except Exception as error:  # tokenizers raises a bare Exception for missing and unparsable files
            raise ValueError(f"{path}: not a usable tokenizer file ({error})") from None

    def _special_id(self, token: str) -> int:
        token_id = self._tokenizer.token_to_id(token)
        if token_id is None:
            raise ValueError(f"special token {token} is not in the tokenizer's vocabulary")
        return token_id

    def word_pieces(self, words: list[str]) -> list[list[int]]:
        """WordPiece ids of each word (a word the tokenizer drops becomes [UNK])."""
        if not words:
            return []
        encoding = self._tokenizer.encode(words, is_pretokenized=True, add_special_tokens=False)
        pieces: list[list[int]] = [[] for _ in words]
        for piece, word in zip(encoding.ids, encoding.word_ids):
            pieces[word].append(piece)
        return [p or [self.unk_token_id] for p in pieces]


def make_windows(
    tokenizer: WordPieceTokenizer, words: list[str], max_length: int, stride: int, max_chars: int, char_vocab: int
) -> tuple[list[Window], list[int]]:
    """Cut words into overlapping windows of at most ``max_length`` wordpieces (never truncating).

    Returns the windows and, for each word, the index of the window that tags it: the one where
    the word is farthest from a window edge. A window's words are tagged exactly as if those words
    were the whole input.
    """
    budget = max_length - 2
    pieces = [p[:budget] for p in tokenizer.word_pieces(words)]
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


@dataclass
class WindowBatch:
    """Windows padded into arrays: the text inputs of the model and of its exported text graph."""

    input_ids: np.ndarray  # (B, L) int64
    attention_mask: np.ndarray  # (B, L) int64
    word_starts: np.ndarray  # (B, W) int64, first-wordpiece position of each word
    word_mask: np.ndarray  # (B, W) bool
    char_ids: np.ndarray  # (B, W, C) int64

    @classmethod
    def collate(cls, windows: list[Window]) -> WindowBatch:
        length = max(len(w.input_ids) for w in windows)
        words = max(len(w.word_starts) for w in windows)
        chars = max(len(c) for w in windows for c in w.char_ids)
        input_ids = np.zeros((len(windows), length), dtype=np.int64)
        attention = np.zeros((len(windows), length), dtype=np.int64)
        starts = np.zeros((len(windows), words), dtype=np.int64)
        word_mask = np.zeros((len(windows), words), dtype=bool)
        char_ids = np.zeros((len(windows), words, chars), dtype=np.int64)
        for i, w in enumerate(windows):
            input_ids[i, : len(w.input_ids)] = w.input_ids
            attention[i, : len(w.input_ids)] = 1
            starts[i, : len(w.word_starts)] = w.word_starts
            word_mask[i, : len(w.word_starts)] = True
            for j, c in enumerate(w.char_ids):
                char_ids[i, j, : len(c)] = c
        return cls(input_ids, attention, starts, word_mask, char_ids)
