"""Naming and describing the cue engine's events: what was seen at the apex becomes a cue's name,
emotion, intensity and confidence."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from callcoach.cues._face import _Face
from callcoach.cues.aus import top_emotion
from callcoach.cues.channels import SIX, ApexData, apex_reading, name_cue
from callcoach.cues.features import FLOORS
from callcoach.cues.micro import MicroConfig, MicroEvent, micro_cue
from callcoach.cues.spotter import BlinkCluster, Excursion
from callcoach.cues.vocabulary import MICRO_MAX_S, Cue, EarlyCue
from callcoach.cues.warmup import WarmupSmile


def _describe(st: _Face, ex: Excursion) -> tuple[str, str | None, float, float]:
    """Name, emotion, intensity and confidence, from what was seen at the apex (early or final)."""
    data = ex.apex_data if isinstance(ex.apex_data, ApexData) else None
    d = data.d if data is not None else np.zeros(len(FLOORS))
    emotion_probs = data.appearance if data is not None else None
    apex = apex_reading(d, data.aus if data is not None else None, data is not None and data.eyes_hidden)
    name, emotion = name_cue(ex.channel, apex, data.reading if data is not None else None)
    held, at = _held_under(st, ex)
    if emotion is None and at is not None:
        # The movement explained a held expression (whose own cue is dropped, ``_arbitrate``): named from
        # the frame where that expression was strongest, by the movement's own rules, it may say which
        # emotion the face showed (a sad face's inner brows peak before the reading of sadness does).
        name, emotion = name_cue(ex.channel, apex_reading(at.d, at.aus, at.eyes_hidden), at.reading)
        emotion_probs = at.appearance if emotion is not None else emotion_probs
    margin = 1.0 - math.exp(-max(0.0, ex.peak - 1.0))
    support = 0.0
    if emotion in SIX and emotion_probs and st.emotion_mean:
        support = max(-0.5, min(1.0, 4.0 * (emotion_probs[emotion] - st.emotion_mean.get(emotion, 0.0))))
    confidence = min(0.99, max(0.05, 0.45 + 0.3 * margin + 0.2 * support))
    # When it names the emotion that expression showed, the face it made is as strong as that expression
    # was, not as its own channel rose.
    reading = at.reading if at is not None else None
    shown = reading is not None and top_emotion(reading, SIX) == emotion
    strength = max(ex.peak, held) if shown else ex.peak
    return name, emotion, 1.0 - math.exp(-strength / 2.5), confidence


def _held_under(st: _Face, ex: Excursion) -> tuple[float, ApexData | None]:
    """The held expression's strength under this movement, and its frame (merged parts included; a part
    that starts on the frame this one ends is the next movement's)."""
    end = ex.offset_s if ex.offset_s is not None else math.inf
    found = [
        v
        for (c, on), v in st.held_during.items()
        if c == ex.channel and ex.onset_s <= on and (on < end or on == ex.onset_s)
    ]
    return max(found, key=lambda v: v[0], default=(0.0, None))


def _micro_cues(st: _Face, found: list[tuple[MicroEvent, object]], config: MicroConfig) -> Iterator[Cue]:
    """Micro spots that no channel saw: inside a cue given, pending or under way, it is that movement."""
    for ev, extra in found:
        busy = [(e.onset_s, e.offset_s if e.offset_s is not None else math.inf) for e in st.pending]
        busy += [(s.onset_s, math.inf) for s in st.spotters.values() if s.onset_s is not None]
        if any(a <= ev.offset_s and ev.onset_s <= b for a, b in [*st.spans, *busy]):
            continue
        appearance = extra if isinstance(extra, dict) else None
        cue = micro_cue(ev, appearance, st.emotion_mean, st.face_id, config)
        st.spans.append((cue.onset_s, ev.offset_s))
        yield cue


def _cue(st: _Face, ex: Excursion) -> Cue:
    name, emotion, intensity, confidence = _describe(st, ex)
    end = ex.offset_s if ex.offset_s is not None else ex.apex_s
    duration = end - ex.onset_s
    return Cue(
        cue=name,
        emotion=emotion,
        scale="micro" if duration <= MICRO_MAX_S else "macro",
        onset_s=ex.onset_s,
        apex_s=ex.apex_s,
        offset_s=ex.offset_s,
        intensity=intensity,
        confidence=confidence,
        face=st.face_id,
    )


def _warmup_cue(st: _Face, smile: WarmupSmile) -> Cue:
    """A smile seen before the resting face was known: read as felt (the appearance model is sure of
    happiness, as for a smile named by a sure reading), its intensity the smile's breadth, and no more
    confidence than a cue with nothing to support it (no resting face to measure it against)."""
    end = smile.offset_s if smile.offset_s is not None else smile.apex_s
    return Cue(
        cue="duchenne_smile",
        emotion="happiness",
        scale="micro" if end - smile.onset_s <= MICRO_MAX_S else "macro",
        onset_s=smile.onset_s,
        apex_s=smile.apex_s,
        offset_s=smile.offset_s,
        intensity=smile.peak,
        confidence=0.45,
        face=st.face_id,
    )


def _early_cue(st: _Face, ex: Excursion, t: float) -> EarlyCue:
    name, emotion, intensity, confidence = _describe(st, ex)
    return EarlyCue(
        cue=name,
        emotion=emotion,
        onset_s=ex.onset_s,
        apex_s=ex.apex_s,
        t_s=t,
        intensity=intensity,
        confidence=confidence,
        face=st.face_id,
    )


def _blink_cue(st: _Face, c: BlinkCluster) -> Cue:
    end = c.offset_s if c.offset_s is not None else c.apex_s
    return Cue(
        cue="blink_cluster",
        emotion=None,
        scale="micro" if end - c.onset_s <= MICRO_MAX_S else "macro",
        onset_s=c.onset_s,
        apex_s=c.apex_s,
        offset_s=c.offset_s,
        intensity=min(1.0, c.blinks / 6),
        confidence=min(0.95, 0.5 + 0.1 * (c.blinks - 2)),
        face=st.face_id,
    )
