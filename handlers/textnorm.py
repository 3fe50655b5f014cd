"""Shared text normalisation for matching user messages (regions, FAQ)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

# One-to-one character replacements: the text keeps its length, so spans found in the
# unified text are valid in the original too.
_PUNCTUATION = str.maketrans(
    {
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2015": "-",  # horizontal bar
        "\u2212": "-",  # minus sign
        "\u00ad": "-",  # soft hyphen
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u00b4": "'",
        "`": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
    }
)

_DIACRITICS = str.maketrans(
    {
        "ä": "a",
        "ö": "o",
        "å": "a",
        "æ": "ae",
        "ø": "o",
        "ü": "u",
        "é": "e",
        "è": "e",
        "ê": "e",
        "á": "a",
        "à": "a",
        "â": "a",
        "í": "i",
        "ó": "o",
        "ú": "u",
        "š": "s",
        "ž": "z",
        "ß": "ss",
        "Ä": "A",
        "Ö": "O",
        "Å": "A",
        "Ü": "U",
        "É": "E",
        "Š": "S",
        "Ž": "Z",
    }
)

_SPACES = re.compile(r"\s+")
# A word: letters/digits, optionally joined into a compound by hyphens, or by a colon
# inside abbreviations such as "S:t" or "Hki:ssa".
WORD_RE = re.compile(r"[^\W_]+(?:[-:][^\W_]+)*")


def unify_punctuation(text: str) -> str:
    """Compose characters (NFC) and map dashes, quotes and odd spaces to plain ASCII."""
    return unicodedata.normalize("NFC", text).translate(_PUNCTUATION)


def fold_diacritics(text: str) -> str:
    """Strip diacritics: ä→a, ö→o, å→a, é→e and other accented Latin letters."""
    folded = text.translate(_DIACRITICS)
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def has_diacritics(text: str) -> bool:
    """Tell whether the text contains letters that fold_diacritics would change."""
    return not text.isascii() and fold_diacritics(text) != text


def normalize(text: str) -> str:
    """Lowercase, unify hyphens/dashes/quotes and collapse whitespace."""
    return _SPACES.sub(" ", unify_punctuation(text).lower()).strip()


def iter_words(text: str) -> Iterator[re.Match[str]]:
    """Yield word matches (hyphenated compounds as one word) over punctuation-unified text."""
    return WORD_RE.finditer(text)


def tokenize(text: str) -> list[str]:
    """Split into lowercase words; hyphenated compounds give the compound and its parts."""
    tokens: list[str] = []
    for match in WORD_RE.finditer(normalize(text)):
        word = match.group()
        tokens.append(word)
        if "-" in word or ":" in word:
            tokens.extend(part for part in re.split(r"[-:]", word) if part)
    return tokens
