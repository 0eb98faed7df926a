"""A small rule lemmatizer for English nouns and pronouns.

The spaCy model's own lemmatizer needs the tagger and attribute ruler (about 35 ms of a 500-word resume on
this machine), which the PII budget cannot afford; context words and the bias lexicon only need plural and
possessive folding, which rules do well enough.
"""

from __future__ import annotations

_IRREGULAR = {
    "men": "man",
    "women": "woman",
    "children": "child",
    "wives": "wife",
    "housewives": "housewife",
    "people": "person",
    "salesmen": "salesman",
    "chairmen": "chairman",
    "businessmen": "businessman",
    "firemen": "fireman",
    "policemen": "policeman",
    "foremen": "foreman",
    "craftsmen": "craftsman",
    "gentlemen": "gentleman",
    "spokesmen": "spokesman",
    "sisters": "sister",
    "brothers": "brother",
    "guys": "guy",
    "lads": "lad",
    "dudes": "dude",
    "grads": "grad",
    "is": "is",
    "was": "was",
    "has": "has",
    "does": "does",
    "this": "this",
    "its": "its",
    "us": "us",
    "yes": "yes",
    "always": "always",
}

# Endings where a final "s" is part of the word, not a plural.
_KEEP_S = ("ss", "us", "is", "ous", "ics", "sis", "ies_", "xs")


def lemma(word: str) -> str:
    """Lower-case `word` and fold plurals and possessives ("Mothers'" -> "mother")."""
    w = word.lower()
    if w.endswith(("'s", "’s")):
        w = w[:-2]
    elif w.endswith(("s'", "s’")):
        w = w[:-1]
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "sses", "xes", "zes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(_KEEP_S):
        return w[:-1]
    return w
