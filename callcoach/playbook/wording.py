"""The wording guard: lines callcoach refuses to show, in whatever words they are put.

Four kinds of claim are refused:

- ``lie``: that someone lies, hides something or is dishonest, or that a face can tell (a facial cue is no
  evidence of deception);
- ``diagnosis``: a medical or psychological diagnosis, condition or symptom;
- ``manipulation``: pressuring, cornering, tricking or exploiting the other person;
- ``face``: in a line said aloud, telling the other person what their face showed or what they feel.

The check works on word stems and short patterns over a normalised text (lower case, straight quotes,
contractions spelled out, hyphens as spaces), not on a list of fixed sentences, so "they might be fibbing",
"maybe a liar" and "a deceitful smile" are all one rule. A claim is excused when its own clause denies it
("not a lie detector", "never pressure them", "avoid exploiting"); a hedge ("maybe", "might", "could") does
not excuse anything. A remark on someone's face is not excused by a negation ("you don't look convinced"
still tells them what their face showed), only by a condition ("if you feel unsure, say so").
The corpus this was tuned on is tests/data/wording_corpus.yaml; docs/playbook.md explains the rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callcoach.playbook.types import Suggestion
from callcoach.playbook.wording_rules import RULES, Kind

KIND_LABEL: dict[str, str] = {
    "lie": "a claim about lying or deception",
    "diagnosis": "a medical or diagnostic claim",
    "manipulation": "a manipulative move",
    "face": "a remark on the other person's face or feelings",
}
KIND_REASON: dict[str, str] = {
    "lie": "a facial cue is no evidence that anyone lies or hides something, and callcoach never says so",
    "diagnosis": "a facial cue says nothing about anyone's health, and callcoach makes no medical claim",
    "manipulation": "callcoach is for understanding people, never for pressuring, tricking or exploiting them",
    "face": "a line said aloud must not tell people what their face showed or what they feel; "
    "answer what was said instead",
}


@dataclass(frozen=True)
class Refusal:
    """One refused phrase: its kind, the words that triggered it (normalised), and why."""

    kind: Kind
    phrase: str

    @property
    def message(self) -> str:
        return f"{KIND_LABEL[self.kind]} ({self.phrase!r}): {KIND_REASON[self.kind]}"


# --- normalising ----------------------------------------------------------------------------------------

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
_CONTRACTIONS = (
    (re.compile(r"\bcan't\b|\bcannot\b"), "can not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bshan't\b"), "shall not"),
    (re.compile(r"\bain't\b"), "is not"),
    (re.compile(r"(\w)n't\b"), r"\1 not"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"\bi'm\b"), "i am"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"\b(he|she|it|that|there|what|who|this|everyone|someone|somebody)'s\b"), r"\1 is"),
)


def normalise(text: str) -> str:
    """Lower case, straight quotes, contractions spelled out, hyphens and runs of space as one space."""
    out = text.translate(_QUOTES).lower()
    for pattern, repl in _CONTRACTIONS:
        out = pattern.sub(repl, out)
    out = re.sub(r"(?<=\w)-(?=\w)", " ", out)
    return re.sub(r"[ \t]+", " ", out)


# --- clause scope: negations and conditions -------------------------------------------------------------

# A clause ends at punctuation, a quote, a blank line or a new list item, so a distant "not" excuses nothing.
_CLAUSE_END = re.compile(r"[.,;:!?()\"\[\]—–]|\n\s*\n|\n\s*(?:[-*#|>]|\d+\.)")
_NEGATION = re.compile(
    r"\b(?:no|not|never|nor|without|neither|none|nothing|nobody|avoid\w*|refus\w*|reject\w*|forbid\w*|"
    r"ban|bans|banned|stop|instead of|rather than|against|resist\w*)\b"
)
# "not sure whether they are lying" and "no doubt they are lying" raise the claim rather than deny it.
_NOT_A_DENIAL = re.compile(
    r"\b(?:(?:no|not)\s+(?:sure|certain|convinced|doubt|question|only|just|wonder)|never\s+mind"
    r"|(?:nothing|none)\s+(?:but|other\s+than))\b"
)
_CONDITION = re.compile(r"\b(?:if|unless|whether|in case|hope|hopefully|wish|want|wants|when|whenever|should)\b")
_QUESTION_START = re.compile(r"(?:^|\s)(?:do|did|does|are|were|would|will|have|had|how|why|what)\s*$")
_WORDS_BACK = 8


def _clause_before(text: str, start: int) -> str:
    before = text[max(0, start - 160) : start]
    ends = list(_CLAUSE_END.finditer(before))
    clause = before[ends[-1].end() :] if ends else before
    return " ".join(clause.split()[-_WORDS_BACK:])


def _negated(text: str, start: int) -> bool:
    clause = _NOT_A_DENIAL.sub(" ", _clause_before(text, start))
    return bool(_NEGATION.search(clause))


def _line_of(text: str, start: int) -> str:
    begin = text.rfind("\n", 0, start) + 1
    end = text.find("\n", start)
    return text[begin : end if end >= 0 else len(text)]


def _conditional(text: str, start: int) -> bool:
    clause = _clause_before(text, start)
    if re.search(r"\b(?:why|how come)\b", clause):
        return False  # "why do you look so upset?" takes the look for granted: a remark, not a question
    return bool(_CONDITION.search(clause) or _QUESTION_START.search(clause))


_SPOKEN_ONLY = frozenset({"face"})


def refusals(text: str, *, spoken: bool = False) -> list[Refusal]:
    """Every refused phrase in ``text``; ``spoken`` adds the remarks-on-their-face rules (lines said aloud)."""
    norm = normalise(text)
    found: list[Refusal] = []
    for rule in RULES:
        if rule.kind in _SPOKEN_ONLY and not spoken:
            continue
        for m in rule.pattern.finditer(norm):
            if rule.needs is not None and not rule.needs.search(_line_of(norm, m.start())):
                continue
            if rule.excuse == "negation" and _negated(norm, m.start()):
                continue
            if rule.excuse == "condition" and _conditional(norm, m.start()):
                continue
            if rule.unless_before is not None and rule.unless_before.search(_clause_before(norm, m.start())):
                continue
            found.append(Refusal(rule.kind, " ".join(m.group(0).split())))
    return found


def first_refusal(text: str, *, spoken: bool = False) -> Refusal | None:
    found = refusals(text, spoken=spoken)
    return found[0] if found else None


def allowed(text: str, *, spoken: bool = False) -> bool:
    return not refusals(text, spoken=spoken)


def suggestion_refusal(suggestion: Suggestion) -> Refusal | None:
    """The first refused phrase in what the card would show (the cue in words, the move or the reason to say
    nothing, the repair line), with the rules for lines said aloud, as the playbook checks its fields."""
    for text in (suggestion.plain, suggestion.move, suggestion.repair):
        refused = first_refusal(text, spoken=True)
        if refused is not None:
            return refused
    return None


def note_refusal(message: str) -> Refusal | None:
    """The first refused phrase in a note about the user's own face (shown only to the user, never said)."""
    return first_refusal(message)
