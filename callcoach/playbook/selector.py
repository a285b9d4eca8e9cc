"""The selector: turns cues into at most one calibrated, low-pressure suggestion at a time.

It follows the coaching loop the playbook encodes: a cue is spotted; the context (the kind of call, the
other cues around it) decides how much it means; the playbook's hypotheses stay hypotheses; one small move
is suggested; and the user's "helped" / "misread" marks feed back into how readily that cue speaks again.

Rules, in order:

- Nothing unless coaching is on: the face is locked and its baseline is complete (state ``locked`` and
  ``baseline_progress`` >= 1). While calibrating, unreadable, paused or without a face, it stays silent;
  the status line explains why.
- A cue below the context's confidence threshold is ignored.
- Two supporting signals are two *different* cues from the *same* face whose apexes fall within
  ``support_window_s``. The appearance model already feeds each cue's confidence, but a ``Cue`` does not
  say how much of it came from there, so that part is not counted as a second signal: guessing it from the
  number would overstate the evidence.
- The playbook may say to say nothing: ``always`` for this cue and context, or ``alone`` when there is no
  supporting cue. The suggestion then carries ``say_nothing=True`` and the reason as its move.
- A cool-down separates two moves. Say-nothing notes have their own cool-down and do not start the move
  cool-down, so a second cue arriving just after a quiet note can still prompt a move.
- A single cue only ever gets a gentle move; the stronger move needs two supporting signals. Cues below the
  threshold are not evidence and support nothing.
- It never repeats the move it suggested last for that cue and context (the stronger move included: after
  it, the next suggestion is a gentle one).

Everything that varies is injected (clock, random seed), so a scripted series of cues always gives the same
suggestions.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from callcoach.core.marks import MARK_KINDS, MarkKind
from callcoach.core.state import LiveStatus
from callcoach.cues.vocabulary import CUE_NAMES, REGION, Cue
from callcoach.errors import PlaybookError
from callcoach.playbook.model import CueScript, Playbook
from callcoach.playbook.types import CONTEXT_LABELS, CONTEXTS, Strength, Suggestion
from callcoach.playbook.watcher import PlaybookWatcher

#: The user's verdict on a suggestion (declared once, in callcoach.core.marks).
Outcome = MarkKind

#: How much one "misread" raises a cue's threshold for the rest of the session, and one "helped" lowers it
#: back (never below the playbook's own value).
MISREAD_STEP = 0.05
MAX_THRESHOLD = 0.95
_HISTORY = 32


def cue_names() -> tuple[str, ...]:
    """Every cue the playbook covers, in vocabulary order (for lists and pickers)."""
    return CUE_NAMES


def context_choices() -> tuple[tuple[str, str], ...]:
    """(key, label shown to people) for every context."""
    return tuple((key, CONTEXT_LABELS[key]) for key in CONTEXTS)


def _check_context(context: str) -> str:
    if context not in CONTEXTS:
        raise ValueError(f"unknown context {context!r}; choose one of {', '.join(CONTEXTS)}")
    return context


def _cue_time(cue: Cue) -> float:
    return cue.offset_s if cue.offset_s is not None else cue.apex_s


def _suggestion(
    script: CueScript,
    cue: str,
    context: str,
    *,
    t_s: float = 0.0,
    face: int = 0,
    confidence: float = 1.0,
    move: str,
    repair: str,
    say_nothing: bool = False,
    strength: Strength = "gentle",
    supporting: tuple[str, ...] = (),
) -> Suggestion:
    return Suggestion(
        t_s=t_s,
        cue=cue,
        face=face,
        region=REGION.get(cue, ""),
        plain=script.plain,
        confidence=confidence,
        move=move,
        repair=repair,
        say_nothing=say_nothing,
        strength=strength,
        context=context,
        supporting=supporting,
    )


def preview(
    playbook: Playbook, cue: str, context: str = "general", *, stronger: bool = False, index: int = 0
) -> Suggestion:
    """What the playbook would suggest for ``cue`` in ``context``, ignoring state, thresholds and cool-down.

    For the playbook screen: ``index`` picks among the gentle moves (wrapping), ``stronger`` shows the
    stronger move as if a second cue had backed this one (falling back to a gentle move if there is none).
    The say-nothing rule is shown as it would apply to a single cue.
    """
    script = playbook.script(cue, _check_context(context))
    move = script.moves[index % len(script.moves)]
    repair = script.repairs[index % len(script.repairs)]
    strength: Strength = "gentle"
    supporting: tuple[str, ...] = (cue,)
    if stronger:
        supporting = (cue, "another cue")
        if script.stronger is not None:
            move, strength = script.stronger, "stronger"
    quiet = script.say_nothing.when == "always" or (script.say_nothing.when == "alone" and not stronger)
    if quiet and script.say_nothing.line is not None:
        move, strength = script.say_nothing.line, "gentle"
    return _suggestion(
        script,
        cue,
        context,
        move=move,
        repair=repair,
        say_nothing=quiet,
        strength=strength,
        supporting=supporting,
        confidence=playbook.threshold(cue, context),
    )


def default_selector(context: str = "general", *, on_error: Callable[[PlaybookError], None] | None = None) -> Selector:
    """The selector a live session uses: the user's playbook (or the default), hot-reloaded on save; a bad
    save is passed to ``on_error`` and the previous good playbook stays in force."""
    return Selector(PlaybookWatcher(on_error=on_error), context)


@dataclass
class OutcomeStats:
    helped: int = 0
    misread: int = 0
    #: Added to the playbook's threshold for this cue in this context, for the rest of the session.
    threshold_offset: float = 0.0


@dataclass
class _Seen:
    t_s: float
    cue: str


@dataclass
class _Memory:
    last_move_at: float | None = None
    last_quiet_at: float | None = None
    last_move: dict[tuple[str, str], str] = field(default_factory=dict)
    last_repair: dict[tuple[str, str], str] = field(default_factory=dict)
    recent: dict[int, deque[_Seen]] = field(default_factory=dict)


class Selector:
    """The playbook's ``Advisor``: ``selector(cue, status)`` returns a ``Suggestion`` or None.

    ``playbook`` is a ``Playbook`` or a ``PlaybookWatcher`` (polled on every cue, so edits to the file take
    effect during a call); None follows the user's playbook file. ``clock`` gives the time used for the
    cool-downs; by default the cue's own stream time, so a replayed file behaves as it did live. ``seed``
    fixes the choice among equivalent moves.
    """

    def __init__(
        self,
        playbook: Playbook | PlaybookWatcher | None = None,
        context: str = "general",
        *,
        clock: Callable[[], float] | None = None,
        seed: int = 0,
    ) -> None:
        # No playbook: follow the user's copy (or the packaged default), reloading it when it is saved.
        self._source = playbook if playbook is not None else PlaybookWatcher()
        self._context = _check_context(context)
        self._clock = clock
        self._rng = random.Random(seed)
        self._memory = _Memory()
        self._stats: dict[tuple[str, str], OutcomeStats] = {}
        # The runner calls from its thread, the UI marks outcomes and switches context from its own.
        self._lock = threading.Lock()

    # --- settings and bookkeeping -----------------------------------------------------------------------

    @property
    def playbook(self) -> Playbook:
        return self._source.playbook if isinstance(self._source, PlaybookWatcher) else self._source

    @property
    def watcher(self) -> PlaybookWatcher | None:
        """The watcher behind this selector, if any: the UI can show ``watcher.error`` and ``watcher.path``."""
        return self._source if isinstance(self._source, PlaybookWatcher) else None

    @property
    def context(self) -> str:
        return self._context

    def set_context(self, context: str) -> None:
        with self._lock:
            self._context = _check_context(context)

    def set_playbook(self, playbook: Playbook | PlaybookWatcher) -> None:
        with self._lock:
            self._source = playbook

    def mark(self, suggestion: Suggestion, outcome: Outcome) -> None:
        """Record what happened after a suggestion. A misread makes that cue a little harder to trigger in
        that context for the rest of the session; a move that helped undoes one such step."""
        if outcome not in MARK_KINDS:
            raise ValueError(f"outcome must be 'helped' or 'misread', not {outcome!r}")
        with self._lock:
            stats = self._stats.setdefault((suggestion.cue, suggestion.context), OutcomeStats())
            if outcome == "helped":
                stats.helped += 1
                stats.threshold_offset = max(0.0, stats.threshold_offset - MISREAD_STEP)
            else:
                stats.misread += 1
                stats.threshold_offset += MISREAD_STEP

    def stats(self) -> dict[tuple[str, str], OutcomeStats]:
        """Outcome counts per (cue, context) for this session."""
        with self._lock:
            return {key: OutcomeStats(s.helped, s.misread, s.threshold_offset) for key, s in self._stats.items()}

    def threshold(self, cue: str, context: str | None = None) -> float:
        """The confidence a cue needs right now: the playbook's, raised by misreads marked this session."""
        ctx = context or self._context
        offset = self._stats.get((cue, ctx), OutcomeStats()).threshold_offset
        return min(MAX_THRESHOLD, self.playbook.threshold(cue, ctx) + offset)

    def reset(self) -> None:
        """Forget cool-downs and recent cues (a new call); outcome marks are kept."""
        with self._lock:
            self._memory = _Memory()

    # --- the advisor ------------------------------------------------------------------------------------

    def __call__(self, cue: Cue, status: LiveStatus) -> Suggestion | None:
        if isinstance(self._source, PlaybookWatcher):
            self._source.poll()
        with self._lock:
            return self._advise(cue, status)

    def _supporting(self, cue: Cue, window_s: float) -> tuple[str, ...]:
        recent = self._memory.recent.setdefault(cue.face, deque(maxlen=_HISTORY))
        others = []
        for seen in recent:
            if abs(cue.apex_s - seen.t_s) <= window_s and seen.cue != cue.cue and seen.cue not in others:
                others.append(seen.cue)
        recent.append(_Seen(cue.apex_s, cue.cue))
        return (cue.cue, *others) if others else ()

    def _pick(self, options: list[str], key: tuple[str, str], last: dict[tuple[str, str], str]) -> str:
        fresh = [o for o in options if o != last.get(key)] or options
        choice = fresh[0] if len(fresh) == 1 else self._rng.choice(fresh)
        last[key] = choice
        return choice

    def _advise(self, cue: Cue, status: LiveStatus) -> Suggestion | None:
        if status.state != "locked" or status.baseline_progress < 1.0 or cue.cue not in CUE_NAMES:
            return None
        playbook, context = self.playbook, self._context
        if cue.confidence < self.threshold(cue.cue, context):
            return None
        now = self._clock() if self._clock is not None else _cue_time(cue)
        last = max((t for t in (self._memory.last_move_at, self._memory.last_quiet_at) if t is not None), default=None)
        if last is not None and now < last:
            self._memory = _Memory()  # time went backwards: a new source or a rewound file, start afresh
        memory = self._memory
        script = playbook.script(cue.cue, context)
        supporting = self._supporting(cue, playbook.support_window_s)
        key = (cue.cue, context)
        evidence = supporting or (cue.cue,)
        t_s, face, confidence = _cue_time(cue), cue.face, cue.confidence

        rule = script.say_nothing
        if rule.line is not None and (rule.when == "always" or (rule.when == "alone" and not supporting)):
            if memory.last_quiet_at is not None and now - memory.last_quiet_at < playbook.cooldown_s:
                return None
            if memory.last_move_at is not None and now - memory.last_move_at < playbook.cooldown_s:
                return None  # a move is still landing; a quiet note would only crowd it
            memory.last_quiet_at = now
            return _suggestion(
                script,
                cue.cue,
                context,
                t_s=t_s,
                face=face,
                confidence=confidence,
                move=rule.line,
                say_nothing=True,
                supporting=evidence,
                repair=self._pick(script.repairs, key, memory.last_repair),
            )

        if memory.last_move_at is not None and now - memory.last_move_at < playbook.cooldown_s:
            return None
        strength: Strength = "gentle"
        if supporting and script.stronger is not None and memory.last_move.get(key) != script.stronger:
            move, strength = script.stronger, "stronger"
            memory.last_move[key] = move
        else:
            move = self._pick(script.moves, key, memory.last_move)
        memory.last_move_at = now
        return _suggestion(
            script,
            cue.cue,
            context,
            t_s=t_s,
            face=face,
            confidence=confidence,
            move=move,
            strength=strength,
            supporting=evidence,
            repair=self._pick(script.repairs, key, memory.last_repair),
        )
