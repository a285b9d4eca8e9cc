"""The cue engine: per-face baselines, gating, spotting, naming. Observations in, cues out.

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
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from callcoach.cues.aus import action_units, fuse
from callcoach.cues.baseline import RobustBaseline, expression_energy
from callcoach.cues.channels import (
    CHANNELS,
    EXPRESSION,
    TALK_GAIN,
    ApexData,
    activations,
    apex_reading,
    expression_activation,
    name_cue,
)
from callcoach.cues.early import EarlyAnnouncer, EarlyRule
from callcoach.cues.features import FLOORS, INDEX, feature_vector
from callcoach.cues.micro import MicroConfig, MicroEvent, MicroSpotter, micro_cue
from callcoach.cues.spotter import BlinkCluster, BlinkClusterSpotter, Excursion, Spotter
from callcoach.cues.talking import TalkDetector
from callcoach.cues.vocabulary import (
    MICRO_MAX_S,
    BaselineEvent,
    Cue,
    EarlyCue,
    EarlyCueWithdrawn,
    WithdrawReason,
)
from callcoach.errors import CueError
from callcoach.vision.types import FaceObservation, FrameObservation

_EYE_FEATURES = np.array(
    [INDEX[n] for n in ("aperture", "upper_lid", "lower_lid", "cheek", "squint_bs", "gaze_x", "gaze_y")]
)
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
#: A channel this far to its threshold (1.0) on the last frame holds the baseline's reference still: a
#: movement that builds up slowly is not absorbed into the face it is measured against.
MOVING_ACT = 0.5

# Channels read from the lips and the nose-to-lip distance: silent while the mouth is hidden. The held
# expression is among them: the reading it follows weighs the mouth's AUs too.
_MOUTH_CHANNELS = ("smile", "compression", "lip_pull", "nose", "frown", EXPRESSION)
# Channels read from the eyes and brows: silent while a hand, an object or dark glasses cover an eye.
_EYE_CHANNELS = ("brow_raise", "anger", "gaze")
# Measures drawn from the eyes and brows (and the inner eye corner): read as at rest while the eyes are
# hidden, so no action unit, eye crinkle or brow movement comes from what the landmarks guess there.
_EYE_REGION = np.array(
    [
        INDEX[n]
        for n in (
            "aperture",
            "upper_lid",
            "lower_lid",
            "cheek",
            "squint_bs",
            "blink_bs",
            "gaze_x",
            "gaze_y",
            "brow_inner",
            "brow_outer",
            "brow_inner_bs",
            "brow_outer_bs",
            "brow_down_bs",
            "brow_gap",
            "nose_eye",
            "cheek_squint_bs",
            "eye_wide_bs",
        )
    ]
)
_REGION_CHANNELS = {"mouth": _MOUTH_CHANNELS, "eyes": _EYE_CHANNELS}
# A hand over the mouth is missed on some frames (fingers turn, blur, lie flat): the mouth stays hidden
# this long after the last frame it was seen covered.
_HIDDEN_HOLD_S = 0.6
_SEEN_WHOLE_S = 3.0  # a movement under way this long before a head turn is kept (ended at the turn)
# A glance shorter than this is not an aversion; an expression is held only when it lasts longer than a
# blink (whose half-closed frames move the eye AUs the reading weighs).
_MIN_S = {"gaze": 0.25, EXPRESSION: 0.35}
_HOLD_S = 0.3  # wait this long after an event ends for overlapping events on competing channels
_FER_EMOTIONS = {"happiness", "sadness", "fear", "disgust", "anger", "surprise"}


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


@dataclass
class _Face:
    face_id: int
    baseline: RobustBaseline
    spotters: dict[str, Spotter]
    blinks: BlinkClusterSpotter = field(default_factory=BlinkClusterSpotter)
    last_t: float = 0.0
    last_pose: tuple[float, float] | None = None
    head_speed: float = 0.0
    held_eyes: np.ndarray | None = None
    talk: TalkDetector = field(default_factory=TalkDetector)
    emotion_mean: dict[str, float] | None = None
    pending: list[Excursion] = field(default_factory=list)
    #: False while the head turns fast or sits far from its baseline pose (channels muted).
    reliable: bool = True
    #: Speech seen on the last frame, and the channel activations it was read with (empty until ready).
    talking: bool = False
    acts: dict[str, float] = field(default_factory=dict)
    early: EarlyAnnouncer | None = None
    #: Action units (0..1) and the fused emotion reading of the last readable frame (None until ready).
    aus: dict[str, float] | None = None
    reading: dict[str, float] | None = None
    #: Regions covered on the last frame ("mouth", "eyes"), from vision, each held until its time here.
    hidden: frozenset[str] = frozenset()
    hidden_until: dict[str, float] = field(default_factory=dict)
    micro: MicroSpotter | None = None
    #: Intervals of the cues already given for this face: a micro spot inside one is the same movement.
    spans: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=16))
    #: The last frame with a movement under way on a channel that explains a held expression.
    explained_t: float = -math.inf


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
                for spotter in state.spotters.values():
                    spotter.interrupt(obs.t_s)
                if state.micro is not None:
                    state.micro.reset()  # a spot must not straddle the gap
                yield from self._withdraw(state, obs.t_s, "face_lost")
            if face_id not in seen:
                yield from self._release(state, obs.t_s)

    def _update_face(
        self, st: _Face, face: FaceObservation, t: float
    ) -> Iterator[BaselineEvent | Cue | EarlyCue | EarlyCueWithdrawn]:
        self._follow_head(st, face, t)
        base = st.baseline
        x, x_raw, closed = self._read_face(st, face, t)
        if st.micro is not None:
            st.micro.add(t, x_raw, dict(face.emotion) if face.emotion else None)
        energy, calm = expression_energy(face.blendshapes, face.emotion)
        if not base.ready:
            # Covered eyes are left out of the warm-up (the landmarks only guess them there). A
            # covered mouth still counts there: leaving it out delays the crying clip's baseline past her
            # laugh (tests/test_real_faces.py), so only the ready baseline skips it.
            if "eyes" not in st.hidden and base.add(t, x, energy, calm):
                yield BaselineEvent(face.face_id, t, "ready", 1.0)
            self._track_emotion(st, face, weight=0.1)
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
            base.add(t, x, energy, calm, moving=self._moving(st))
        talking = self._talking(st, t, d)
        acts = activations(d, talking)
        emotion = dict(face.emotion) if face.emotion else None
        st.aus = action_units(base.deviation(x_raw))
        st.reading = fuse(st.aus, emotion, st.emotion_mean)
        # A blink moves the reading (AU45, AU7) but is no expression: with the eyes closed the held channel
        # reads them as they last were open (a squeeze that lasts still shows in the brows, mouth and CNN).
        held = fuse(action_units(d), emotion, st.emotion_mean) if closed else st.reading
        acts[EXPRESSION] = expression_activation(held, talking)
        if st.hidden:
            yield from self._mute_hidden(st, acts, t)
        st.talking, st.acts = talking, acts
        apex = ApexData(d, emotion, st.aus, st.reading, eyes_hidden="eyes" in st.hidden)
        yield from self._spot(st, t, acts, apex, closed)
        if not any(s.active for s in st.spotters.values()):
            self._track_emotion(st, face, weight=0.02)
        yield from self._release(st, t)
        if st.micro is not None and not talking:
            yield from self._micro_cues(st, st.micro.poll(t))

    @staticmethod
    def _follow_head(st: _Face, face: FaceObservation, t: float) -> None:
        dt = max(1e-3, t - st.last_t) if st.last_pose is not None else 0.0
        if st.last_pose is not None and dt > 0:
            speed = (abs(face.pose.yaw - st.last_pose[0]) + abs(face.pose.pitch - st.last_pose[1])) / dt
            # Smoothed over ~3 frames: one jittery pose estimate should not mute a whole event.
            st.head_speed = 0.6 * st.head_speed + 0.4 * speed
        st.last_pose = (face.pose.yaw, face.pose.pitch)
        st.last_t = t

    def _read_face(self, st: _Face, face: FaceObservation, t: float) -> tuple[np.ndarray, np.ndarray, bool]:
        """The face's measures as the channels read them, as the AUs read them, and whether the eyes are
        closed; updates the hidden regions and the eyes held through a blink."""
        base = st.baseline
        x = feature_vector(face)
        # The AUs read the eyes as they are: a laugh's squeeze closes them as far as a blink does.
        x_raw = x.copy()
        for region in face.hidden & _REGION_CHANNELS.keys():
            st.hidden_until[region] = t + _HIDDEN_HOLD_S
        st.hidden = frozenset(r for r, until in st.hidden_until.items() if t < until)
        eyes_hidden = "eyes" in st.hidden and base.ready
        if eyes_hidden:
            # What the landmarks draw under a hand or dark lenses is a guess: the eyes read as at rest.
            x[_EYE_REGION] = x_raw[_EYE_REGION] = base.median[_EYE_REGION]
        # No blink is read from covered eyes (MediaPipe guesses the lids there).
        closed = not eyes_hidden and self._eyes_closed(base, x)
        if closed and st.held_eyes is not None:
            x[_EYE_FEATURES] = st.held_eyes
        elif not closed:
            st.held_eyes = x[_EYE_FEATURES].copy()
        return x, x_raw, closed

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
        yield from self._withdraw(st, t, "unreadable")
        yield from self._release(st, t)

    def _mute_hidden(self, st: _Face, acts: dict[str, float], t: float) -> Iterator[EarlyCueWithdrawn]:
        """What the landmarks draw under a hand is a guess: no cue from the covered region, and a
        movement under way there is cut, not finished by the hand."""
        stopped = False
        for region in st.hidden:
            for name in _REGION_CHANNELS[region]:
                acts[name] = 0.0
                stopped = st.spotters[name].interrupt(t) is not None or stopped
        if stopped:
            yield from self._withdraw(st, t, "unreadable")

    def _spot(
        self, st: _Face, t: float, acts: dict[str, float], apex: ApexData, closed: bool
    ) -> Iterator[Cue | EarlyCue]:
        """Each channel's spotter takes the frame; ended movements wait in ``pending``, early ones are
        announced, and a run of blinks becomes its own cue."""
        ended: dict[str, Excursion] = {}
        for name, spotter in st.spotters.items():
            done = spotter.update(t, acts[name], apex)
            if done is not None:
                ended[name] = done
        if any(st.spotters[c].active or c in ended for c in _EXPLAINS_EXPRESSION):
            st.explained_t = t
        if st.early is not None:
            # Before the merge: what an ended excursion merges into tells whether it was announced.
            for ex in st.early.ready(t, st.spotters, ended, st.pending):
                if _explained(st, ex):
                    continue  # its final cue will be dropped: nothing to announce
                early = self._early_cue(st, ex, t)
                st.early.announced(ex.channel, early)
                yield early
        for done in ended.values():
            _add_or_merge(st.pending, done)
        cluster = st.blinks.update(t, closed)
        if cluster is not None:
            yield self._blink_cue(st, cluster)

    @staticmethod
    def _eyes_closed(base: RobustBaseline, x: np.ndarray) -> bool:
        """Lids closed or closing, relative to this person's resting eyes.

        At 25 fps a 100 ms blink is often caught half-closed, so a moderate narrowing counts when
        eyeBlink rises with it; a squint (smile, anger, disgust) narrows the eyes as much but leaves
        eyeBlink near its resting value. Hooded or downcast eyes score eyeBlink ~0.7 at rest, hence
        the comparison with the baseline rather than a fixed 0.5.
        """
        if not base.ready:
            return False
        i_ap, i_bl = INDEX["aperture"], INDEX["blink_bs"]
        ratio = x[i_ap] / max(base.median[i_ap], 1e-6)
        rise = x[i_bl] - base.median[i_bl]
        return bool(ratio < 0.55 or (ratio < 0.68 and rise > 0.15) or x[i_bl] > max(0.5, base.median[i_bl] + 0.35))

    @staticmethod
    def _moving(st: _Face) -> bool:
        """A movement under way (a spotter's event, or any channel half-way to its threshold on the last
        frame): the baseline keeps its reference until it is over."""
        # A glance moves the irises, not the face the reference describes.
        return (
            any(s.active for name, s in st.spotters.items() if name != "gaze")
            or max((v for name, v in st.acts.items() if name != "gaze"), default=0.0) >= MOVING_ACT
        )

    @staticmethod
    def _talking(st: _Face, t: float, d: np.ndarray) -> bool:
        return st.talk.update(t, float(d[INDEX["mouth_open"]] + d[INDEX["jaw_open_bs"]]))

    @staticmethod
    def _track_emotion(st: _Face, face: FaceObservation, weight: float) -> None:
        if not face.emotion:
            return
        if st.emotion_mean is None:
            st.emotion_mean = dict(face.emotion)
            return
        for k, v in face.emotion.items():
            st.emotion_mean[k] = (1 - weight) * st.emotion_mean.get(k, v) + weight * v

    def _release(self, st: _Face, t: float, now: float | None = None) -> Iterator[Cue | EarlyCueWithdrawn]:
        """Emit pending events once no stronger overlapping event on a competing channel can still appear.

        ``now`` is the frame time withdrawals carry, when ``t`` is not one (finish: inf)."""
        keep: list[Excursion] = []
        for ex in st.pending:
            assert ex.offset_s is not None
            if _explained(st, ex) or any(o is not ex and _outranks(o, ex) for o in st.pending):
                yield from self._settle(st, ex, None, t if now is None else now)
                continue
            active_rival = any(s.active and _competes(s.channel, ex.channel) for s in st.spotters.values())
            resumed = st.spotters[ex.channel].onset_s
            if resumed is not None and resumed - ex.offset_s <= _MERGE_GAP_S:
                active_rival = True  # the same movement picked up again: wait and merge
            if t - ex.offset_s < _HOLD_S or (active_rival and t - ex.offset_s < 3.0):
                keep.append(ex)
                continue
            cue = self._cue(st, ex)
            yield from self._settle(st, ex, cue, t if now is None else now)
            yield self._given(st, cue)
        st.pending = keep

    @staticmethod
    def _given(st: _Face, cue: Cue) -> Cue:
        """A cue that is given (not dropped): a micro spot inside its interval is the same movement."""
        st.spans.append((cue.onset_s, cue.offset_s if cue.offset_s is not None else math.inf))
        return cue

    @staticmethod
    def _settle(st: _Face, ex: Excursion, cue: Cue | None, t: float) -> list[EarlyCueWithdrawn]:
        """Early cues held by ``ex``, leaving as ``cue`` or dropped (None): withdrawn unless ``cue`` confirms."""
        return st.early.settle(ex, cue, t) if st.early is not None else []

    @staticmethod
    def _withdraw(st: _Face, t: float, reason: WithdrawReason) -> list[EarlyCueWithdrawn]:
        """Early cues whose movement was just cut (interrupted spotters) are withdrawn."""
        return st.early.sweep(t, st.spotters, st.pending, reason) if st.early is not None else []

    @staticmethod
    def _describe(st: _Face, ex: Excursion) -> tuple[str, str | None, float, float]:
        """Name, emotion, intensity and confidence, from what was seen at the apex (early or final)."""
        data = ex.apex_data if isinstance(ex.apex_data, ApexData) else None
        d = data.d if data is not None else np.zeros(len(FLOORS))
        emotion_probs = data.appearance if data is not None else None
        apex = apex_reading(d, data.aus if data is not None else None, data is not None and data.eyes_hidden)
        name, emotion = name_cue(ex.channel, apex, data.reading if data is not None else None)
        margin = 1.0 - math.exp(-max(0.0, ex.peak - 1.0))
        support = 0.0
        if emotion in _FER_EMOTIONS and emotion_probs and st.emotion_mean:
            support = max(-0.5, min(1.0, 4.0 * (emotion_probs[emotion] - st.emotion_mean.get(emotion, 0.0))))
        confidence = min(0.99, max(0.05, 0.45 + 0.3 * margin + 0.2 * support))
        return name, emotion, 1.0 - math.exp(-ex.peak / 2.5), confidence

    def _micro_cues(self, st: _Face, found: list[tuple[MicroEvent, object]]) -> Iterator[Cue]:
        """Micro spots that no channel saw: inside a cue given, pending or under way, it is that movement."""
        for ev, extra in found:
            busy = [(e.onset_s, e.offset_s if e.offset_s is not None else math.inf) for e in st.pending]
            busy += [(s.onset_s, math.inf) for s in st.spotters.values() if s.onset_s is not None]
            if any(a <= ev.offset_s and ev.onset_s <= b for a, b in [*st.spans, *busy]):
                continue
            appearance = extra if isinstance(extra, dict) else None
            cue = micro_cue(ev, appearance, st.emotion_mean, st.face_id, self.config.micro_config)
            st.spans.append((cue.onset_s, ev.offset_s))
            yield cue

    def _cue(self, st: _Face, ex: Excursion) -> Cue:
        name, emotion, intensity, confidence = self._describe(st, ex)
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

    def _early_cue(self, st: _Face, ex: Excursion, t: float) -> EarlyCue:
        name, emotion, intensity, confidence = self._describe(st, ex)
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

    @staticmethod
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
                yield self._blink_cue(st, cluster)
            micro = st.micro.finish() if st.micro is not None and st.baseline.ready and not st.talking else []
            ended = [e for e in st.pending if e.offset_s is not None]
            open_ = [e for e in st.pending if e.offset_s is None]
            st.pending = ended
            yield from self._release(st, math.inf, self._t)
            named: set[str] = set()
            kept: list[Excursion] = []
            for ex in sorted(open_, key=lambda e: -e.peak):
                # Still under way at the end: the same rule as for ended events, strongest first.
                cue = self._cue(st, ex)
                if (
                    cue.cue in named
                    or _explained(st, ex)
                    or any(frozenset((k.channel, ex.channel)) in _COMPETE for k in kept)
                ):
                    yield from self._settle(st, ex, None, self._t)
                    continue
                named.add(cue.cue)
                kept.append(ex)
                yield from self._settle(st, ex, cue, self._t)
                yield self._given(st, cue)
            yield from self._micro_cues(st, micro)


_MERGE_GAP_S = 0.2


def _add_or_merge(pending: list[Excursion], ex: Excursion) -> None:
    """One movement that dips below threshold for a frame or two is one event, not a burst of them."""
    for i, prev in enumerate(pending):
        if prev.channel == ex.channel and prev.offset_s is not None and ex.onset_s - prev.offset_s <= _MERGE_GAP_S:
            apex = ex if ex.peak > prev.peak else prev
            pending[i] = Excursion(ex.channel, prev.onset_s, apex.apex_s, ex.offset_s, apex.peak, apex.apex_data)
            return
    pending.append(ex)


# The held expression is the fallback for a face that no single movement explains: a movement on any other
# channel but a glance, under way at any time since the expression began, explains it whatever their
# strengths (its cue is dropped), and it explains none.
_EXPLAINS_EXPRESSION = frozenset(CHANNELS) - {EXPRESSION, "gaze"}


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


__all__ = ["TALK_GAIN", "BaselineEvent", "CueEngine", "EarlyCue", "EarlyCueWithdrawn", "EarlyRule", "EngineConfig"]
