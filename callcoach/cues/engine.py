"""The cue engine: per-face baselines, gating, spotting, naming. Observations in, cues out.

This module runs a frame through each face; the per-face state and the reading of a frame are in
``_face``, the arbitration of overlapping events and their release in ``_arbitrate``, the naming of
cues in ``_describe`` (private: ``CueEngine`` is the interface).

Gates, and why:
- head motion: a turn moves every landmark at once; while the head turns fast or sits far from its
  baseline pose the channels are muted and half-seen events are dropped;
- blinks: eye measures are held at their last open-eye value, so a closing lid is not read as a squint;
- talking: speech opens and closes the mouth several times a second; while it is detected the mouth
  channels need a larger movement, so speech alone does not fire lip cues;
- hidden regions: a hand or an object over the mouth or the eyes (vision's ``FaceObservation.hidden``)
  silences that region's channels, its measures read as at rest (no action unit, crinkle or blink from
  them), and the frame stays out of the baseline.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from callcoach.cues._arbitrate import (
    _COMPETE,
    _MERGE_GAP_S,
    _add_or_merge,
    _explained,
    _given,
    _note_held,
    _release,
    _release_open,
    _withdraw,
)
from callcoach.cues._describe import _blink_cue, _cue, _early_cue, _micro_cues, _warmup_cue
from callcoach.cues._face import (
    _REGION_CHANNELS,
    MOVING_ACT,
    _Face,
    _follow_head,
    _moving,
    _read_face,
    _talking,
    _track_emotion,
)
from callcoach.cues.aus import action_units, fuse, top_emotion
from callcoach.cues.baseline import RobustBaseline, expression_energy
from callcoach.cues.channels import CHANNELS, EXPRESSION, TALK_GAIN, ApexData, activations, expression_activation
from callcoach.cues.early import EarlyAnnouncer, EarlyRule
from callcoach.cues.features import FLOORS, INDEX
from callcoach.cues.micro import MicroConfig, MicroSpotter
from callcoach.cues.spotter import Excursion, Spotter
from callcoach.cues.vocabulary import BaselineEvent, Cue, EarlyCue, EarlyCueWithdrawn
from callcoach.cues.warmup import SMILES, WarmupSmile
from callcoach.errors import CueError
from callcoach.vision.types import FaceObservation, FrameObservation

_SEEN_WHOLE_S = 3.0  # a movement under way this long before a head turn is kept (ended at the turn)
# A glance shorter than this is not an aversion; an expression is held only when it lasts longer than a
# blink (whose half-closed frames move the eye AUs the reading weighs).
_MIN_S = {"gaze": 0.25, EXPRESSION: 0.35}


@dataclass(frozen=True)
class EngineConfig:
    baseline_seconds: float = 2.0
    #: Head speed (deg/s) and distance from the baseline pose (deg) beyond which channels are muted.
    max_head_speed: float = 60.0
    max_pose_offset: float = 25.0
    #: A face unseen this long ends its events (they are dropped, not guessed).
    lost_after_s: float = 0.5
    #: Also name movements while they are under way, once the apex has passed (``EarlyCue``); the
    #: final cues are the same either way.
    early: bool = False
    early_rule: EarlyRule = field(default_factory=EarlyRule)
    #: On video of at least ``micro_config.min_fps`` (a high-speed camera), also spot movements too small
    #: for the channels against the clip's own jitter (``callcoach.cues.micro``).
    micro: bool = True
    micro_config: MicroConfig = field(default_factory=MicroConfig)

    def __post_init__(self) -> None:
        if self.baseline_seconds < 0 or not math.isfinite(self.baseline_seconds):
            raise CueError(f"--baseline-seconds must be 0 or more, not {self.baseline_seconds}")


class CueEngine:
    """Feed ``update`` one ``FrameObservation`` at a time; it yields baseline events and cues.

    With ``EngineConfig(early=True)`` it also yields an ``EarlyCue`` for a movement still under way
    once its apex has passed; its final ``Cue`` follows as usual, or, when no final cue of that name will
    come, an ``EarlyCueWithdrawn`` (see ``callcoach.cues.early``).
    """

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self._faces: dict[int, _Face] = {}
        self._t = 0.0  # the last frame's time: withdrawals made by finish() carry it

    @property
    def any_baseline_ready(self) -> bool:
        return any(f.baseline.ready for f in self._faces.values())

    def baseline_progress(self, face_id: int, t_s: float) -> float:
        """How far this face's resting baseline is at ``t_s``: 0 unseen, 1.0 once ready (below 1 until then)."""
        state = self._faces.get(face_id)
        return state.baseline.progress(t_s) if state is not None else 0.0

    def face_reliable(self, face_id: int) -> bool:
        """Whether the last frame of this face could be read (pose within the gates)."""
        state = self._faces.get(face_id)
        return state is None or state.reliable

    def face_talking(self, face_id: int) -> bool:
        """Whether this face was speaking on its last frame (the mouth opening and closing repeatedly)."""
        state = self._faces.get(face_id)
        return state is not None and state.talking

    def face_hidden(self, face_id: int) -> frozenset[str]:
        """The regions of this face covered on its last frame ("mouth", "eyes"): no cue is read from them."""
        state = self._faces.get(face_id)
        return state.hidden if state is not None else frozenset()

    def face_activations(self, face_id: int) -> dict[str, float]:
        """The channel activations of this face's last readable frame (>= 1: the movement is there)."""
        state = self._faces.get(face_id)
        return dict(state.acts) if state is not None else {}

    def face_aus(self, face_id: int) -> dict[str, float] | None:
        """This face's action units on its last frame (0..1 against its baseline); None while not readable."""
        state = self._faces.get(face_id)
        return None if state is None or state.aus is None else dict(state.aus)

    def face_reading(self, face_id: int) -> dict[str, float] | None:
        """The fused emotion reading (AU prototypes with the appearance model) of this face's last frame."""
        state = self._faces.get(face_id)
        return None if state is None or state.reading is None else dict(state.reading)

    def _new_face(self, face_id: int) -> _Face:
        spotters = {c: Spotter(c, min_s=_MIN_S.get(c, 0.03)) for c in CHANNELS}
        early = EarlyAnnouncer(self.config.early_rule, _COMPETE, _MERGE_GAP_S) if self.config.early else None
        micro = MicroSpotter(self.config.micro_config) if self.config.micro else None
        base = RobustBaseline(FLOORS, warmup_s=self.config.baseline_seconds)
        return _Face(face_id, base, spotters, early=early, micro=micro)

    def update(self, obs: FrameObservation) -> Iterator[BaselineEvent | Cue | EarlyCue | EarlyCueWithdrawn]:
        seen = set()
        self._t = obs.t_s
        for face in obs.faces:
            seen.add(face.face_id)
            state = self._faces.get(face.face_id)
            if state is None:
                state = self._faces[face.face_id] = self._new_face(face.face_id)
                if self.config.baseline_seconds > 0:
                    yield BaselineEvent(face.face_id, obs.t_s, "calibrating", 0.0)
            yield from self._update_face(state, face, obs.t_s)
        for face_id, state in self._faces.items():
            if face_id not in seen and obs.t_s - state.last_t > self.config.lost_after_s:
                warm = state.warm.interrupt()
                given = self._give_warm(state, warm) if warm is not None else None
                if given is not None:
                    yield given
                for spotter in state.spotters.values():
                    spotter.interrupt(obs.t_s)
                if state.micro is not None:
                    state.micro.reset()  # a spot must not straddle the gap
                yield from _withdraw(state, obs.t_s, "face_lost")
            if face_id not in seen:
                yield from _release(state, obs.t_s)

    def _update_face(
        self, st: _Face, face: FaceObservation, t: float
    ) -> Iterator[BaselineEvent | Cue | EarlyCue | EarlyCueWithdrawn]:
        _follow_head(st, face, t)
        base = st.baseline
        x, x_raw, closed = _read_face(st, face, t)
        if st.micro is not None:
            st.micro.add(t, x_raw, dict(face.emotion) if face.emotion else None)
        energy, calm = expression_energy(face.blendshapes, face.emotion)
        if not base.ready or st.warm.open:
            yield from self._watch_warmup(st, face, t, calm)
        if not base.ready:
            # Covered eyes are left out of the warm-up (the landmarks only guess them there). A
            # covered mouth still counts there: leaving it out delays the crying clip's baseline past her
            # laugh (tests/test_real_faces.py), so only the ready baseline skips it.
            if "eyes" not in st.hidden and base.add(t, x, energy, calm):
                yield BaselineEvent(face.face_id, t, "ready", 1.0)
            _track_emotion(st, face, weight=0.1)
            return
        d = base.deviation(x)
        pose_off = max(abs(d[INDEX["yaw"]]) * FLOORS[INDEX["yaw"]], abs(d[INDEX["pitch"]]) * FLOORS[INDEX["pitch"]])
        st.reliable = st.head_speed <= self.config.max_head_speed and pose_off <= self.config.max_pose_offset
        if not st.reliable:
            yield from self._turn_cut(st, t)
            return
        if st.hidden and st.micro is not None:
            st.micro.reset()
        if not closed and not st.hidden:  # a hand over the mouth or the eyes is not the resting face
            base.add(t, x, energy, calm, moving=_moving(st))
        talking = _talking(st, t, d)
        acts = activations(d, talking)
        emotion = dict(face.emotion) if face.emotion else None
        st.aus = action_units(base.deviation(x_raw))
        st.reading = fuse(st.aus, emotion, st.emotion_mean)
        # A blink moves the reading (AU45, AU7) but is no expression: with the eyes closed the held channel
        # reads them as they last were open (a squeeze that lasts still shows in the brows, mouth and CNN).
        held_aus = action_units(d) if closed else st.aus
        held = fuse(held_aus, emotion, st.emotion_mean) if closed else st.reading
        acts[EXPRESSION] = expression_activation(held, talking)
        if st.hidden:
            yield from self._mute_hidden(st, acts, t)
        st.talking, st.acts = talking, acts
        apex = ApexData(d, emotion, st.aus, st.reading, eyes_hidden="eyes" in st.hidden)
        # The held expression's frame as its channel read it (eyes as they last were open in a blink).
        held_at = apex if not closed else ApexData(d, emotion, held_aus, held, eyes_hidden=apex.eyes_hidden)
        yield from self._spot(st, t, acts, apex, closed, held_at)
        if not any(s.active for s in st.spotters.values()):
            _track_emotion(st, face, weight=0.02)
        yield from _release(st, t)
        if st.micro is not None and not talking:
            yield from _micro_cues(st, st.micro.poll(t), self.config.micro_config)

    def _watch_warmup(self, st: _Face, face: FaceObservation, t: float, calm: bool) -> Iterator[Cue]:
        """A smile before the resting face is known (``cues.warmup``), given once it ends."""
        b = face.blendshapes
        smile_bs = (b.get("mouthSmileLeft", 0.0) + b.get("mouthSmileRight", 0.0)) / 2
        happy = face.emotion.get("happiness") if face.emotion else None
        readable = "mouth" not in st.hidden and st.head_speed <= self.config.max_head_speed
        smile = st.warm.update(t, happy, smile_bs, readable, calm, calibrating=not st.baseline.ready)
        given = self._give_warm(st, smile) if smile is not None else None
        if given is not None:
            yield given

    @staticmethod
    def _give_warm(st: _Face, smile: WarmupSmile) -> Cue | None:
        """The warm-up smile's cue, unless the smile channels see the same smile: theirs is measured against
        the resting face, and its early cue, if one was announced, must be confirmed, not withdrawn."""
        end = smile.offset_s if smile.offset_s is not None else math.inf
        for ex in st.pending:
            overlaps = ex.onset_s <= end and (ex.offset_s is None or ex.offset_s >= smile.onset_s)
            if overlaps and ex.channel in ("smile", EXPRESSION) and _cue(st, ex).cue in SMILES:
                return None
        # Only a movement the channels name a smile is the same smile: measured against a resting face that
        # was itself smiling, a laugh's peak can read as another movement (a raised upper lip).
        current = st.spotters["smile"].current()
        if current is not None and _cue(st, current).cue in SMILES:
            return None
        reading = st.reading
        if st.spotters[EXPRESSION].active and reading is not None and top_emotion(reading) == "happiness":
            return None
        cue = _given(st, _warmup_cue(st, smile))
        st.warm_spans.append((cue.onset_s, end))
        return cue

    def _turn_cut(self, st: _Face, t: float) -> Iterator[Cue | EarlyCueWithdrawn]:
        """The head turns too fast or too far: channels are muted and movements under way are cut."""
        st.acts = {}
        st.aus = st.reading = None
        if st.micro is not None:
            st.micro.reset()
        for spotter in st.spotters.values():
            cut = spotter.interrupt(t)
            # A half-seen movement during a turn is not evidence, and is dropped; one seen whole for
            # a while before the turn (a laugh, then a toss of the head) ends where the turn began.
            if cut is not None and t - cut.onset_s >= _SEEN_WHOLE_S:
                _add_or_merge(st.pending, cut)
        yield from _withdraw(st, t, "unreadable")
        yield from _release(st, t)

    def _mute_hidden(self, st: _Face, acts: dict[str, float], t: float) -> Iterator[EarlyCueWithdrawn]:
        """What the landmarks draw under a hand is a guess: no cue from the covered region, and a
        movement under way there is cut, not finished by the hand."""
        stopped = False
        for region in st.hidden:
            for name in _REGION_CHANNELS[region]:
                acts[name] = 0.0
                stopped = st.spotters[name].interrupt(t) is not None or stopped
        if stopped:
            yield from _withdraw(st, t, "unreadable")

    def _spot(
        self, st: _Face, t: float, acts: dict[str, float], apex: ApexData, closed: bool, held_at: ApexData
    ) -> Iterator[Cue | EarlyCue]:
        """Each channel's spotter takes the frame; ended movements wait in ``pending``, early ones are
        announced, and a run of blinks becomes its own cue."""
        ended: dict[str, Excursion] = {}
        for name, spotter in st.spotters.items():
            done = spotter.update(t, acts[name], apex)
            if done is not None:
                ended[name] = done
        _note_held(st, t, acts[EXPRESSION], held_at, ended)
        if st.early is not None:
            # Before the merge: what an ended excursion merges into tells whether it was announced.
            for ex in st.early.ready(t, st.spotters, ended, st.pending):
                if _explained(st, ex):
                    continue  # its final cue will be dropped: nothing to announce
                early = _early_cue(st, ex, t)
                st.early.announced(ex.channel, early)
                yield early
        for done in ended.values():
            _add_or_merge(st.pending, done)
        cluster = st.blinks.update(t, closed)
        if cluster is not None:
            yield _blink_cue(st, cluster)

    def finish(self) -> Iterator[Cue | EarlyCueWithdrawn]:
        """End of input: flush everything, including events still under way (offset None).

        An early cue whose movement is still under way gets its final cue here; withdrawals carry the
        last frame's time."""
        for st in self._faces.values():
            for spotter in st.spotters.values():
                ex = spotter.finish()
                if ex is not None:
                    st.pending.append(ex)
            cluster = st.blinks.finish(st.last_t)
            if cluster is not None:
                yield _blink_cue(st, cluster)
            warm = st.warm.finish(st.last_t)
            given = self._give_warm(st, warm) if warm is not None else None
            if given is not None:
                yield given
            micro = st.micro.finish() if st.micro is not None and st.baseline.ready and not st.talking else []
            ended = [e for e in st.pending if e.offset_s is not None]
            open_ = [e for e in st.pending if e.offset_s is None]
            st.pending = ended
            yield from _release(st, math.inf, self._t)
            yield from _release_open(st, open_, self._t)
            yield from _micro_cues(st, micro, self.config.micro_config)


__all__ = [
    "MOVING_ACT",
    "TALK_GAIN",
    "BaselineEvent",
    "CueEngine",
    "EarlyCue",
    "EarlyCueWithdrawn",
    "EarlyRule",
    "EngineConfig",
]
