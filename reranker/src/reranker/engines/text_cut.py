"""Long texts are cut by characters before they reach a tokenizer.

A fast tokenizer encodes a whole text before it truncates, and keeps what it cut as overflow:
a 2.4-million-character document costs over a gigabyte of tokens (measured: ~530 bytes per
token) to keep 512 of them. The model only reads the first `max_length` tokens of a pair, and
those come from the first characters of each text: how many depends on how many characters a
token spans. The engines therefore read at most `CHARS_PER_TOKEN` x `max_length` characters of
a query or document (MAX_TEXT_CHARS sets another number).

Why 16: over 10,319 windows of 510 tokens of Python sources and English text (the
bert-base-uncased tokenizer of the bench model; code, with its indentation, is the wordiest
text tried), a token spanned 3.4 characters at the median, 4.95 at the 99th percentile and 8.2
at most: 16 leaves twice the worst. Tokenizers whose tokens can be byte pieces (byte-level
BPE, byte fallback) make tokens shorter than a character, never longer, so the bound only
grows safer. Only text that averages more than 16 characters per token before the model's last
token — long runs of white space, or a single unknown "word" of thousands of characters — can
score differently than uncut; MAX_TEXT_CHARS raises the cut for such data.
"""

from __future__ import annotations

CHARS_PER_TOKEN = 16


def max_chars_of(max_length: int, override: int | None = None) -> int:
    """Characters of a text an engine reads: MAX_TEXT_CHARS, else 16 x its token limit."""
    return override or CHARS_PER_TOKEN * max_length


def cut_texts(query: str, documents: list[str], limit: int) -> tuple[str, list[str]]:
    """The query and documents as the model reads them: each cut to its first `limit`
    characters. A text no longer than that is passed on as it is (a slice of a whole str is
    the same object: no copy on the common path)."""
    return query[:limit], [document[:limit] for document in documents]
