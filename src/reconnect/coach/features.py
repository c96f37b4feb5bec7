"""The terms the light model counts in a text: words and pairs of words, and runs of
two to five characters inside words (which carry typos, contractions and word endings).

Training hands this same function to scikit-learn, so the shipped model and its numpy
inference see exactly the same terms.
"""

from __future__ import annotations

import itertools
import re

_TOKEN = re.compile(r"(?u)\b\w\w*\b")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})
CHAR_SIZES = range(2, 6)


def terms(text: str) -> list[str]:
    """Word unigrams and bigrams (``w:``) and character 2- to 5-grams within words (``c:``)."""
    lowered = text.lower().translate(_APOSTROPHES)
    words = _TOKEN.findall(lowered.replace("'", ""))
    found = [f"w:{w}" for w in words]
    found += [f"w:{a} {b}" for a, b in itertools.pairwise(words)]
    for chunk in lowered.split():
        padded = f" {chunk} "
        for size in CHAR_SIZES:
            if size > len(padded):
                break
            found += [f"c:{padded[i : i + size]}" for i in range(len(padded) - size + 1)]
    return found
