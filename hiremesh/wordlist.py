"""Ordinary English words, from Webster's Second International word list (public domain; `english-words` package).

The list keeps case: proper nouns are capitalised ("London", "Aaron"), ordinary words are lower case ("reading",
"mobile", "details"). A word whose lower-case form is in it is an ordinary word, which is evidence against reading
a capitalised occurrence as a person's name or a place without context. The list is generous (235,000 words,
archaic ones included), so callers treat membership as evidence, never as proof.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["is_common_word"]


@lru_cache(maxsize=1)
def _words() -> frozenset[str]:
    from english_words import get_english_words_set

    return frozenset(w for w in get_english_words_set(["web2"], lower=False) if w.islower())


def is_common_word(token: str) -> bool:
    """Whether `token` (any case) is an ordinary lower-case English word ("Testing" yes, "Hyderabad" no)."""
    word = token.strip(" .,;:'’\"()").lower()
    if len(word) < 2:
        return False
    words = _words()
    if word in words:
        return True
    # The list has few inflected forms: fold plurals ("skills", "activities", "classes").
    return word.endswith("s") and (
        word[:-1] in words
        or (word.endswith("ies") and word[:-3] + "y" in words)
        or (word.endswith("es") and word[:-2] in words)
    )
