"""The timed recognition test as plain logic: which stimulus comes next, how long it flashes, how an answer scores.

No OpenCV, no Textual: a presenter (``callcoach.practice.window`` or the headless one here) shows a trial and
says how long it was really on screen; an answer source gives the user's words; a clock (injected) times
the answer. The same seed gives the same labels in the same order and the same rest times; flash lengths
also follow the answers (a staircase), so the same seed *and* answers give the same run.

Scoring (see docs/practice.md):

- a trial is correct when the answer is its label; for a trial with no expression (label ``none``) the
  right answer is ``none``;
- accuracy = correct trials / all trials;
- false-positive rate = trials without an expression where an expression was named / trials without one
  (None when the run had none);
- the staircase moves to the next shorter flash after ``STEP_DOWN_AFTER`` right answers in a row on trials
  with an expression, and one step longer after any miss; a miss asks for a slow-motion replay.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal, Protocol

import numpy as np

from callcoach.cues.vocabulary import EMOTIONS
from callcoach.errors import CallcoachError, UsageError

Mode = Literal["emotions", "cues"]
NONE = "none"
#: The flash lengths of the staircase, longest first (67 ms is four frames at 60 Hz, 40 ms one at 25 Hz).
DURATIONS_MS: tuple[float, ...] = (500.0, 200.0, 100.0, 67.0, 40.0)
#: Cues that are one still face at their apex; a blink burst or a glance away only exists as movement.
CUE_LABELS: tuple[str, ...] = (
    "duchenne_smile",
    "polite_smile",
    "eyebrow_flash",
    "lip_compression",
    "unilateral_lip_pull",
    "nose_wrinkle",
    "micro_frown",
    "micro_anger",
    "micro_surprise",
)
LABELS: dict[str, tuple[str, ...]] = {"emotions": EMOTIONS, "cues": CUE_LABELS}
#: Share of trials that show no expression at all, so that false positives can be counted.
BLANK_SHARE = 0.2
STEP_DOWN_AFTER = 2
REST_MS = (700.0, 1300.0)
MASK_MS = 300.0
_NONE_WORDS = ("none", "nothing", "neutral", "no", "-", "0")
_ALIASES = {
    "happy": "happiness",
    "joy": "happiness",
    "sad": "sadness",
    "angry": "anger",
    "afraid": "fear",
    "scared": "fear",
    "disgusted": "disgust",
    "surprised": "surprise",
    "contemptuous": "contempt",
}


class PracticeError(CallcoachError):
    """A practice drill cannot go on (no stimuli, a bad answer stream, a window that will not open)."""


@dataclass(frozen=True)
class Stimulus:
    n: int
    label: str
    #: Who shows it: "builtin", or the name of the user's face or photo set entry.
    face: str
    asked_ms: float
    rest_ms: float


@dataclass(frozen=True)
class Presentation:
    shown_ms: float
    #: True when the duration was measured on a real window; False when it is the scheduled one (headless).
    measured: bool
    #: Clock time when the mask replaced the expression: the answer's reaction time counts from here.
    ended_at: float


@dataclass(frozen=True)
class Trial:
    n: int
    label: str
    answer: str
    correct: bool
    asked_ms: float
    shown_ms: float
    measured: bool
    rt_ms: float
    replayed: bool
    face: str = "builtin"

    def as_json(self) -> dict[str, object]:
        return {
            "type": "trial",
            "n": self.n,
            "label": self.label,
            "answer": self.answer,
            "correct": self.correct,
            "shown_ms": round(self.shown_ms, 1),
            "rt_ms": round(self.rt_ms),
        }

    def as_row(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Score:
    trials: int
    correct: int
    blanks: int
    false_positives: int
    accuracy: float | None
    false_positive_rate: float | None

    def as_json(self) -> dict[str, object]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {
            "type": "score",
            "trials": self.trials,
            "accuracy": r(self.accuracy),
            "false_positive_rate": r(self.false_positive_rate),
        }


def score(trials: Sequence[Trial]) -> Score:
    correct = sum(t.correct for t in trials)
    blanks = [t for t in trials if t.label == NONE]
    fps = sum(t.answer != NONE for t in blanks)
    return Score(
        len(trials),
        correct,
        len(blanks),
        fps,
        correct / len(trials) if trials else None,
        fps / len(blanks) if blanks else None,
    )


def parse_answer(text: str, mode: Mode) -> str:
    """The label an answer names: a full label, a unique prefix, an alias or a number from the legend
    (1..n in label order, 0 for none). Raises ``UsageError`` naming the choices otherwise."""
    labels = LABELS[mode]
    word = text.strip().lower().replace(" ", "_")
    if word in _NONE_WORDS:
        return NONE
    if word.isdigit() and 1 <= int(word) <= len(labels):
        return labels[int(word) - 1]
    word = _ALIASES.get(word, word)
    if word in labels:
        return word
    matches = [label for label in labels if label.startswith(word)] if word else []
    if len(matches) == 1:
        return matches[0]
    raise UsageError(
        f"{text.strip()!r} is not an answer; use one of {', '.join(labels)}, none (or 1-{len(labels)}, 0 for none)"
    )


class Staircase:
    """Shorter flashes as answers come right, a longer one after a miss; fixed when given one duration."""

    def __init__(self, durations: Sequence[float] = DURATIONS_MS, start: int = 0) -> None:
        if not durations:
            raise UsageError("the staircase needs at least one flash duration")
        if any(not (0 < d <= 5000) for d in durations):
            raise UsageError("flash durations are milliseconds between 1 and 5000")
        self.durations = tuple(sorted(durations, reverse=True))
        self.level = min(max(start, 0), len(self.durations) - 1)
        self._streak = 0

    @property
    def current_ms(self) -> float:
        return self.durations[self.level]

    def update(self, label: str, correct: bool) -> None:
        if label == NONE:
            return  # a blank trial says nothing about how short a flash the user can read
        if correct:
            self._streak += 1
            if self._streak >= STEP_DOWN_AFTER:
                self.level = min(self.level + 1, len(self.durations) - 1)
                self._streak = 0
        else:
            self._streak = 0
            self.level = max(self.level - 1, 0)


def schedule(
    seed: int,
    trials: int,
    mode: Mode,
    faces: Mapping[str, Collection[str]] | None = None,
    blank_share: float = BLANK_SHARE,
) -> list[tuple[str, str, float]]:
    """``(label, face, rest_ms)`` for each trial; independent of the answers, so a seed fixes the stimuli.

    ``faces`` maps each face to the labels it can show (default: the built-in face, every label). Every
    label some face can show comes up about equally often (shuffled rounds), blanks at ``blank_share``.
    """
    if trials < 1:
        raise UsageError(f"--trials must be 1 or more, got {trials}")
    faces = {"builtin": LABELS[mode]} if faces is None else faces
    labels = [label for label in LABELS[mode] if any(label in shown for shown in faces.values())]
    if not labels:
        raise PracticeError(f"none of the faces shows any of the {mode} labels ({', '.join(LABELS[mode])})")
    rng = np.random.default_rng(seed)
    blanks = round(trials * blank_share)
    pool: list[str] = []
    while len(pool) < trials - blanks:
        pool += [labels[int(i)] for i in rng.permutation(len(labels))]
    chosen = pool[: trials - blanks] + [NONE] * blanks
    names = sorted(faces)
    out = []
    for i in rng.permutation(trials):
        label = chosen[int(i)]
        able = [f for f in names if label == NONE or label in faces[f]]
        face = able[int(rng.integers(len(able)))]
        out.append((label, face, float(round(rng.uniform(*REST_MS)))))
    return out


class Presenter(Protocol):
    def present(self, stimulus: Stimulus) -> Presentation: ...

    def replay(self, stimulus: Stimulus) -> None: ...

    def close(self) -> None: ...


class ScheduledPresenter:
    """Headless: nothing is drawn; the shown duration is the scheduled one (and says so: measured=False)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock

    def present(self, stimulus: Stimulus) -> Presentation:
        return Presentation(stimulus.asked_ms, False, self.clock())

    def replay(self, stimulus: Stimulus) -> None:
        return None

    def close(self) -> None:
        return None


class Recognition:
    """Runs one recognition test, a trial at a time: ``next_stimulus``, then ``answer`` with the user's words."""

    def __init__(
        self,
        *,
        seed: int,
        trials: int,
        mode: Mode,
        clock: Callable[[], float],
        durations: Sequence[float] = DURATIONS_MS,
        faces: Mapping[str, Collection[str]] | None = None,
        replay_misses: bool = True,
    ) -> None:
        self.mode: Mode = mode
        self.clock = clock
        self.plan = schedule(seed, trials, mode, faces)
        self.stairs = Staircase(durations)
        self.replay_misses = replay_misses
        self.trials: list[Trial] = []

    @property
    def done(self) -> bool:
        return len(self.trials) >= len(self.plan)

    def next_stimulus(self) -> Stimulus:
        n = len(self.trials) + 1
        label, face, rest = self.plan[n - 1]
        return Stimulus(n, label, face, self.stairs.current_ms, rest)

    def answer(self, stimulus: Stimulus, shown: Presentation, text: str) -> Trial:
        given = parse_answer(text, self.mode)
        rt = max(0.0, (self.clock() - shown.ended_at) * 1000.0)
        correct = given == stimulus.label
        replay = self.replay_misses and not correct and stimulus.label != NONE
        trial = Trial(
            stimulus.n,
            stimulus.label,
            given,
            correct,
            stimulus.asked_ms,
            shown.shown_ms,
            shown.measured,
            rt,
            replay,
            stimulus.face,
        )
        self.stairs.update(stimulus.label, correct)
        self.trials.append(trial)
        return trial

    def score(self) -> Score:
        return score(self.trials)
