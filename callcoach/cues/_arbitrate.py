"""Arbitration between the cue engine's overlapping events: which of two movements seen on channels
that share muscles is kept, when a pending event is safe to give, and the early cues each one settles."""

from __future__ import annotations

import math
from collections.abc import Iterator

from callcoach.cues._describe import _cue
from callcoach.cues._face import _Face
from callcoach.cues.channels import CHANNELS, EXPRESSION, ApexData
from callcoach.cues.spotter import Excursion
from callcoach.cues.vocabulary import Cue, EarlyCueWithdrawn, WithdrawReason
from callcoach.cues.warmup import GAP_S, SMILES

# Pairs of channels that see the same muscles from different sides; of two overlapping events only the
# stronger is kept (a pressed-lip anger face is not also a separate lip compression).
_COMPETE = {
    frozenset(p)
    for p in [
        ("compression", "anger"),
        ("nose", "anger"),
        ("nose", "smile"),
        ("frown", "anger"),
        ("lip_pull", "smile"),
        ("brow_raise", "frown"),
        ("compression", "frown"),
        ("compression", "lip_pull"),
        ("nose", "lip_pull"),
        ("brow_raise", "anger"),
        ("compression", "nose"),
        ("frown", "lip_pull"),
        ("anger", "smile"),
        ("nose", "brow_raise"),
        ("nose", "frown"),
        ("compression", "smile"),
    ]
}
_MERGE_GAP_S = 0.2
_HOLD_S = 0.3  # wait this long after an event ends for overlapping events on competing channels
# The held expression is the fallback for a face that no single movement explains: a movement on any other
# channel but a glance, under way at any time since the expression began, explains it whatever their
# strengths (its cue is dropped), and it explains none.
_EXPLAINS_EXPRESSION = frozenset(CHANNELS) - {EXPRESSION, "gaze"}
# Past this many frames kept (``_note_held``), those of given or dropped movements are forgotten.
_HELD_KEEP = 16


def _release(st: _Face, t: float, now: float | None = None) -> Iterator[Cue | EarlyCueWithdrawn]:
    """Emit pending events once no stronger overlapping event on a competing channel can still appear.

    ``now`` is the frame time withdrawals carry, when ``t`` is not one (finish: inf)."""
    keep: list[Excursion] = []
    for ex in st.pending:
        assert ex.offset_s is not None
        if _explained(st, ex) or any(o is not ex and _outranks(o, ex) for o in st.pending):
            yield from _settle(st, ex, None, t if now is None else now)
            continue
        active_rival = any(s.active and _competes(s.channel, ex.channel) for s in st.spotters.values())
        resumed = st.spotters[ex.channel].onset_s
        if resumed is not None and resumed - ex.offset_s <= _MERGE_GAP_S:
            active_rival = True  # the same movement picked up again: wait and merge
        if t - ex.offset_s < _HOLD_S or (active_rival and t - ex.offset_s < 3.0):
            keep.append(ex)
            continue
        cue = _cue(st, ex)
        if _same_smile(st, cue):
            yield from _settle(st, ex, None, t if now is None else now)
            continue
        yield from _settle(st, ex, cue, t if now is None else now)
        yield _given(st, cue)
    st.pending = keep


def _release_open(st: _Face, open_: list[Excursion], now: float) -> Iterator[Cue | EarlyCueWithdrawn]:
    """End of input: the events still under way, offset None; withdrawals carry ``now``."""
    named: set[str] = set()
    kept: list[Excursion] = []
    for ex in sorted(open_, key=lambda e: -e.peak):
        # Still under way at the end: the same rule as for ended events, strongest first.
        cue = _cue(st, ex)
        if _same_smile(st, cue):
            kept.append(ex)  # given already, from the warm-up: it still explains its rivals
            yield from _settle(st, ex, None, now)
            continue
        if cue.cue in named or _explained(st, ex) or any(frozenset((k.channel, ex.channel)) in _COMPETE for k in kept):
            yield from _settle(st, ex, None, now)
            continue
        named.add(cue.cue)
        kept.append(ex)
        yield from _settle(st, ex, cue, now)
        yield _given(st, cue)


def _given(st: _Face, cue: Cue) -> Cue:
    """A cue that is given (not dropped): a micro spot inside its interval is the same movement.

    A smile given while a smile seen before the baseline was ready is still under way is that smile: it
    is measured against the resting face, so it is kept and the early one dropped (``cues.warmup``)."""
    st.spans.append((cue.onset_s, cue.offset_s if cue.offset_s is not None else math.inf))
    if cue.cue in SMILES and st.warm.open:
        st.warm.taken = True
    return cue


def _same_smile(st: _Face, cue: Cue) -> bool:
    """A smile inside one already given from before the baseline was ready is that smile, given once (one
    that reaches beyond it is a smile of its own, and is kept)."""
    end = cue.offset_s if cue.offset_s is not None else math.inf
    return cue.cue in SMILES and any(a <= cue.onset_s and end <= b + GAP_S for a, b in st.warm_spans)


def _settle(st: _Face, ex: Excursion, cue: Cue | None, t: float) -> list[EarlyCueWithdrawn]:
    """Early cues held by ``ex``, leaving as ``cue`` or dropped (None): withdrawn unless ``cue`` confirms."""
    return st.early.settle(ex, cue, t) if st.early is not None else []


def _withdraw(st: _Face, t: float, reason: WithdrawReason) -> list[EarlyCueWithdrawn]:
    """Early cues whose movement was just cut (interrupted spotters) are withdrawn."""
    return st.early.sweep(t, st.spotters, st.pending, reason) if st.early is not None else []


def _add_or_merge(pending: list[Excursion], ex: Excursion) -> None:
    """One movement that dips below threshold for a frame or two is one event, not a burst of them."""
    for i, prev in enumerate(pending):
        if prev.channel == ex.channel and prev.offset_s is not None and ex.onset_s - prev.offset_s <= _MERGE_GAP_S:
            apex = ex if ex.peak > prev.peak else prev
            pending[i] = Excursion(ex.channel, prev.onset_s, apex.apex_s, ex.offset_s, apex.peak, apex.apex_data)
            return
    pending.append(ex)


def _note_held(st: _Face, t: float, held: float, apex: ApexData, ended: dict[str, Excursion]) -> None:
    """The movements under way (or ending) on this frame that explain a held expression: the last frame one
    was (``_explained``), and the held expression's strongest frame under each (``_describe`` names and
    weighs the movement's cue from it)."""
    live = [(c, s.onset_s) for c, s in st.spotters.items() if c in _EXPLAINS_EXPRESSION and s.onset_s is not None]
    live += [(c, e.onset_s) for c, e in ended.items() if c in _EXPLAINS_EXPRESSION]
    if live:
        st.explained_t = t
    # Under 1.0 the expression never fired: every event peaks at 1.0 or more, so such a frame changes no
    # cue's name or strength, and is not kept.
    if held >= 1.0:
        for key in live:
            if key not in st.held_during or held > st.held_during[key][0]:
                st.held_during[key] = (held, apex)
    if len(st.held_during) > _HELD_KEEP:
        # Only a movement still under way or pending is looked up again (a merged one by its parts' onsets).
        keep = set(live)
        spans = [(e.channel, e.onset_s, e.offset_s if e.offset_s is not None else math.inf) for e in st.pending]
        st.held_during = {
            (c, on): v
            for (c, on), v in st.held_during.items()
            if (c, on) in keep or any(c == pc and a <= on <= b for pc, a, b in spans)
        }


def _explained(st: _Face, ex: Excursion) -> bool:
    return ex.channel == EXPRESSION and st.explained_t >= ex.onset_s


def _competes(a: str, b: str) -> bool:
    """Whether an event under way on channel ``a`` may still explain one on ``b`` (``_release`` waits)."""
    if b == EXPRESSION:
        return a in _EXPLAINS_EXPRESSION
    return frozenset((a, b)) in _COMPETE


def _outranks(o: Excursion, ex: Excursion) -> bool:
    """Whether event ``o`` explains the overlapping event ``ex`` (which is then dropped)."""
    if ex.channel == EXPRESSION:
        return o.channel in _EXPLAINS_EXPRESSION and _overlap(o, ex)
    return frozenset((o.channel, ex.channel)) in _COMPETE and _overlap(o, ex) and o.peak > ex.peak


def _overlap(a: Excursion, b: Excursion) -> bool:
    a_end = a.offset_s if a.offset_s is not None else math.inf
    b_end = b.offset_s if b.offset_s is not None else math.inf
    inter = min(a_end, b_end) - max(a.onset_s, b.onset_s)
    if inter <= 0:
        return False
    union = max(a_end, b_end) - min(a.onset_s, b.onset_s)
    return union == math.inf or inter / union >= 0.3
