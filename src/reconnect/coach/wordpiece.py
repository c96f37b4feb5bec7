"""Word pieces the way MiniLM's own (uncased BERT) tokenizer cuts text, in plain Python.

The static model looks each piece up in a table, so it must cut text exactly as the
encoder it was distilled from did; ``tests/coach/test_static.py`` compares the two on
the whole corpus. No special tokens are added and nothing is cut for length.

    >>> pieces = WordPieces(["[UNK]", "i", "'", "m", "sorry", "un", "##fair"])
    >>> pieces.split("I'm SORRY, unfair")
    ['i', "'", 'm', 'sorry', '[UNK]', 'un', '##fair']
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

UNKNOWN = "[UNK]"
LONGEST_WORD = 100
"""Characters; a longer word is one unknown piece (as BERT's tokenizer does)."""


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    # Every ASCII symbol counts, "$" and "^" too, though Unicode does not call them
    # punctuation; BERT was trained so.
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def words(text: str) -> list[str]:
    """BERT's basic cut: control characters dropped, lower case without accents, and
    every punctuation mark and CJK character a word of its own."""
    kept: list[str] = []
    for char in text:
        code = ord(char)
        if code in (0, 0xFFFD):
            continue
        category = unicodedata.category(char)
        if char in "\t\n\r" or category == "Zs":
            kept.append(" ")
        elif category in ("Cc", "Cf", "Co", "Cs"):
            continue
        elif _is_cjk(code):
            kept.append(f" {char} ")
        else:
            kept.append(char)
    result: list[str] = []
    for word in "".join(kept).split():
        # Lower case letter by letter, as MiniLM's tokenizer does: str.lower() alone
        # would turn a word-final capital sigma into the final form, "ς", not "σ".
        lowered = "".join(c.lower() for c in word)
        plain = "".join(
            c for c in unicodedata.normalize("NFD", lowered) if unicodedata.category(c) != "Mn"
        )
        current = ""
        for char in plain:
            if _is_punctuation(char):
                if current:
                    result.append(current)
                    current = ""
                result.append(char)
            else:
                current += char
        if current:
            result.append(current)
    return result


class WordPieces:
    """Greedy longest-match word pieces over a fixed vocabulary."""

    def __init__(self, vocabulary: Sequence[str]) -> None:
        self.index = {piece: i for i, piece in enumerate(vocabulary)}
        self.unknown = self.index[UNKNOWN]

    def split(self, text: str) -> list[str]:
        pieces: list[str] = []
        for word in words(text):
            pieces.extend(self._pieces(word))
        return pieces

    def ids(self, text: str) -> list[int]:
        return [self.index[piece] for piece in self.split(text)]

    def _pieces(self, word: str) -> list[str]:
        if len(word) > LONGEST_WORD:
            return [UNKNOWN]
        found: list[str] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else f"##{word[start:end]}"
                if piece in self.index:
                    break
                end -= 1
            else:
                return [UNKNOWN]
            found.append(piece)
            start = end
        return found
