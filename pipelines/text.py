"""Text helpers shared by the entity and event layer: transliteration folding and
sentence splitting.

Arabic (and Persian, Pashto, Kurdish…) place names reach English news in many
romanisations: al-Sukhna, Sukhneh, As Sukhnah; Deir Ezzor, Deir ez-Zor, Deir el-Zour.
Two keys make them meet:

* ``fold``: case, accents, apostrophes/ayn marks, hyphens, the Arabic article
  (al-/el-/as-/ash-/ez-… and "Al " with a space) and a final -ah/-eh are removed.
  Exact-enough to be trusted on its own.
* ``skeleton``: the folded key reduced to its consonants (q→k, doubled letters
  collapsed, vowels and y/w dropped), so Qaryatain / al-Qaraytan / Al Qaryatayn
  all give "krtn". Lossy: the gazetteer only trusts it with context.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

# Arabic definite article and its sun-letter assimilations, as romanised in news copy.
ARABIC_ARTICLES = frozenset({
    "al", "el", "il", "ul", "as", "ash", "es", "ad", "adh", "ed", "ar", "er", "az", "ez",
    "at", "ath", "et", "an", "en", "ud", "un", "ur", "us", "ut", "uz",
})

# Apostrophes, ayn/hamza marks and modifier letters dropped without a space.
_DROP = re.compile(r"['’‘`´ʼʻʿʾ\u02bc\u02bf\u02be]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_FINAL_H = re.compile(r"(?<=[aeiu])h$")
# An article glued to a sun letter: "Ezzor" (ez-Zor), "Assukhna" -> "zor", "sukhna".
_GLUED_ARTICLE = re.compile(r"^e([dnrstz])\1(?=[a-z]{2})")
_DOUBLE = re.compile(r"(.)\1+")
_VOWELS = re.compile(r"[aeiouyw]")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold_tokens(text: str) -> list[str]:
    """Lower-cased ASCII tokens, article prefixes and final -h removed."""
    plain = _DROP.sub("", strip_accents(text).lower())
    tokens = [t for t in _NON_ALNUM.split(plain) if t]
    # Drop an article only when something follows it: "Al" alone is a name.
    kept = [t for i, t in enumerate(tokens) if not (t in ARABIC_ARTICLES and i + 1 < len(tokens))]
    return [_FINAL_H.sub("", _GLUED_ARTICLE.sub(r"\1", t)) for t in kept]


# fold and skeleton run on every capitalised run and every candidate place name of
# every article, mostly the same few thousand strings: remembered (~10 MB at most).
@functools.lru_cache(maxsize=2**16)
def fold(text: str) -> str:
    return " ".join(fold_tokens(text))


def _skeleton_token(token: str) -> str:
    t = token.replace("ch", "sh").replace("ph", "f").replace("dh", "d").replace("th", "t")
    t = t.replace("gh", "g").replace("ck", "k").replace("q", "k").replace("c", "k")
    # Drop an initial vowel-particle glued to the name: "ezzor" -> "zzor".
    t = _VOWELS.sub("", t)
    return _DOUBLE.sub(r"\1", t)


@functools.lru_cache(maxsize=2**16)
def skeleton(text: str) -> str:
    return " ".join(s for s in (_skeleton_token(t) for t in fold_tokens(text)) if s)


def is_ascii_latin(text: str) -> bool:
    """True when a name is written in Latin script (possibly with accents)."""
    return strip_accents(text).isascii()


# Sentence splitting: good enough for news copy, and cheap. A full stop ends a
# sentence unless it follows a known abbreviation or a single capital (initials).
_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "col", "gen", "lt", "maj", "capt", "sgt", "brig", "st", "no",
    "u.s", "u.k", "u.n", "jan", "feb", "mar", "apr", "aug", "sept", "sep", "oct", "nov", "dec",
    "e.g", "i.e", "vs", "approx", "gov", "rep", "sen", "prof", "jr", "inc", "co", "corp",
})
_BOUNDARY = re.compile(r"([.!?])([\"”’')\]]*)\s+(?=[\"“‘(\[]?[A-Z0-9])")


def unwrap(lines: Iterable[str]) -> list[str]:
    """Lines with hard-wrapped ones joined: a line that does not end a sentence, followed
    by one that starts in lower case ("Islamist rebels" / "in Syria have retaken …", as
    wire copy and e-mail bulletins wrap), continues it."""
    out: list[str] = []
    for line in lines:
        line = line.strip()
        if out and out[-1] and line[:1].islower() and not out[-1].endswith(_LINE_ENDS):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


_LINE_ENDS = (".", "!", "?", ":", ";", '"', "”", "'", "’", ")")


def split_sentences(text: str) -> list[str]:
    """Sentences in order; a line break ends a sentence (extracted pages put headlines,
    captions and paragraphs on lines of their own) unless the text is hard-wrapped there
    (``unwrap``)."""
    sentences: list[str] = []
    for line in unwrap(text.splitlines()):
        if not line:
            continue
        start = 0
        for m in _BOUNDARY.finditer(line):
            before = line[start:m.start(1)]
            last_word = before.rsplit(None, 1)[-1].lower() if before.split() else ""
            if last_word.rstrip(".") in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last_word):
                continue
            sentences.append(line[start:m.end(2)].strip())
            start = m.end()
        tail = line[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences
