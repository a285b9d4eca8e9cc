"""Timelines for synthetic clips: labelled events with known onset/apex/offset, and distractors.

A ``ClipBuilder`` turns "this cue at this time" into displacement tracks with per-frame envelopes
and a ground-truth label, and "someone talks / turns / the light changes" into unlabelled tracks and
effects. All randomness comes from the generator it is given, so a seed fixes the whole clip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from callcoach.cues.vocabulary import DEFAULT_EMOTION, MICRO_MAX_S
from callcoach_bench import actions
from callcoach_bench.megc import GroundTruth
from callcoach_bench.render import BaseFace, Effects, Track

FPS = 25.0


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    smooth: np.ndarray = x * x * (3 - 2 * x)
    return smooth


@dataclass(frozen=True)
class Timing:
    """Onset ramp, hold at apex, offset ramp (seconds)."""

    rise: float
    hold: float
    fall: float

    @property
    def total(self) -> float:
        return self.rise + self.hold + self.fall


def envelope(t: np.ndarray, start: float, timing: Timing) -> np.ndarray:
    """0 before ``start``, smooth rise to 1, hold, smooth fall back to 0 at ``start + total``."""
    up = smoothstep((t - start) / max(timing.rise, 1e-6))
    down = 1.0 - smoothstep((t - start - timing.rise - timing.hold) / max(timing.fall, 1e-6))
    env: np.ndarray = np.minimum(up, down) * (t >= start)
    return env


def sample_timing(cue: str, scale: str, rng: np.random.Generator) -> Timing:
    """Durations per cue and scale. Micro stays within MICRO_MAX_S (MEGC: up to 0.5 s)."""
    u = rng.uniform
    if cue == "gaze_aversion":  # saccades are fast; what varies is how long the eyes stay away
        if scale == "micro":
            return Timing(u(0.06, 0.08), u(0.12, 0.24), u(0.06, 0.1))
        return Timing(u(0.08, 0.12), u(0.5, 1.2), u(0.08, 0.14))
    if cue == "eyebrow_flash":
        if scale == "micro":
            return Timing(u(0.07, 0.1), u(0.04, 0.12), u(0.1, 0.16))
        return Timing(u(0.12, 0.2), u(0.3, 0.6), u(0.2, 0.3))
    if scale == "micro":
        t = Timing(u(0.07, 0.12), u(0.0, 0.1), u(0.1, 0.2))
        return t if t.total <= MICRO_MAX_S - 0.02 else Timing(t.rise, 0.0, t.fall)
    return Timing(u(0.18, 0.32), u(0.25, 0.9), u(0.25, 0.4))


def blink_pulses(t: np.ndarray, starts: list[float], rng: np.random.Generator) -> tuple[np.ndarray, list[Timing]]:
    """Lid closure weights for blinks starting at ``starts``: ~40 ms down, brief closure, ~80 ms up."""
    w = np.zeros_like(t)
    timings = []
    for s in starts:
        tm = Timing(rng.uniform(0.04, 0.06), rng.uniform(0.0, 0.04), rng.uniform(0.06, 0.1))
        timings.append(tm)
        w = np.maximum(w, envelope(t, s, tm))
    return w, timings


EventShape = Timing | list[float]


def event_shape(cue: str, scale: str, rng: np.random.Generator) -> tuple[float, EventShape]:
    """Length of an event and its shape, decided before it is placed: a ``Timing``, or for a blink
    cluster the start offsets of its 3-4 blinks (clusters are macro whatever ``scale`` asks)."""
    if cue == "blink_cluster":
        count = int(rng.integers(3, 5))
        offsets = [0.0, *np.cumsum(rng.uniform(0.28, 0.5, count - 1)).tolist()]
        return offsets[-1] + 0.2, offsets
    timing = sample_timing(cue, scale, rng)
    return timing.total, timing


@dataclass
class ClipBuilder:
    base: BaseFace
    duration_s: float
    rng: np.random.Generator
    fps: float = FPS
    tracks: list[Track] = field(default_factory=list)
    events: list[GroundTruth] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    fx: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.n = math.ceil(self.duration_s * self.fps)
        self.t = np.arange(self.n) / self.fps

    def _label(self, name: str) -> None:
        if name not in self.labels:
            self.labels.append(name)

    # --- labelled events --------------------------------------------------------------------------

    def add_event(self, cue: str, start: float, shape: EventShape) -> None:
        mesh, rng = self.base.mesh, self.rng
        if cue == "blink_cluster":
            assert isinstance(shape, list)
            starts = [start + o for o in shape]
            w, timings = blink_pulses(self.t, starts, rng)
            self.tracks.append(Track(actions.blink(mesh), w))
            mid = len(starts) // 2
            apex = starts[mid] + timings[mid].rise + timings[mid].hold / 2
            end = starts[-1] + timings[-1].total
            self.events.append(GroundTruth(cue, DEFAULT_EMOTION[cue], start, apex, end))
            return
        assert isinstance(shape, Timing)
        macro = shape.total > MICRO_MAX_S
        k = rng.uniform(0.9, 1.2) if macro else rng.uniform(0.85, 1.15)
        iris = (0.0, 0.0)
        if cue == "gaze_aversion":
            down = rng.uniform(0.08, 0.14) if rng.random() < 0.4 else 0.0
            iris = (float(rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 0.27) * k), down * k)
            disp = actions.gaze_lids(mesh, k, down)
        elif cue == "unilateral_lip_pull":
            disp = actions.unilateral_lip_pull(mesh, k, side=str(rng.choice(["r", "l"])))
        else:
            disp = actions.CUE_ACTIONS[cue](mesh, k)
        self.tracks.append(Track(disp, envelope(self.t, start, shape), iris))
        apex = start + shape.rise + shape.hold / 2
        self.events.append(GroundTruth(cue, DEFAULT_EMOTION[cue], start, apex, start + shape.total))

    # --- distractors ------------------------------------------------------------------------------

    def add_blinks(self, start: float, end: float, keep_clear: Sequence[tuple[float, float]] = ()) -> None:
        """Ordinary blinks, one every 2.5-4 s, never within 1 s of a labelled event (closer, a blink
        would make a blink cluster one blink longer or land inside another cue)."""
        starts, s = [], start + self.rng.uniform(0.2, 1.5)
        while s < end - 0.2:
            if all(s + 0.2 < a - 1.0 or s > b + 1.0 for a, b in keep_clear):
                starts.append(s)
            s += self.rng.uniform(2.5, 4.0)
        if starts:
            w, _ = blink_pulses(self.t, starts, self.rng)
            self.tracks.append(Track(actions.blink(self.base.mesh), w))
            self._label("blinks")

    def add_talking(self, start: float, end: float) -> None:
        """Syllables at 3-5 Hz: jaw open-close with rounded, spread or pressed lips, pauses between words."""
        rng, t = self.rng, self.t
        rate = rng.uniform(3.0, 5.0)
        basis = actions.talk_basis(self.base.mesh)
        w = {name: np.zeros(self.n) for name in (*basis, "press")}
        s, left_in_word = start, int(rng.integers(2, 7))
        while s < end - 0.1:
            length = min(rng.uniform(0.8, 1.2) / rate, end - s)
            x = np.clip((t - s) / length, 0.0, 1.0)
            pulse = np.sin(np.pi * x) ** 2 * ((t >= s) & (t <= s + length))
            w["jaw"] = np.maximum(w["jaw"], rng.uniform(0.25, 1.0) * pulse)
            shape = rng.choice(["round", "spread", "upper", "press", "none"], p=[0.25, 0.25, 0.2, 0.12, 0.18])
            if shape != "none":
                w[str(shape)] = np.maximum(w[str(shape)], rng.uniform(0.4, 1.0) * pulse)
            s += length
            left_in_word -= 1
            if left_in_word == 0:
                s += rng.uniform(0.12, 0.4)
                left_in_word = int(rng.integers(2, 7))
        for name, disp in basis.items():
            self.tracks.append(Track(disp, w[name]))
        # m/b/p: the lips meet and press briefly, a classic false lip compression.
        self.tracks.append(Track(actions.lips_press(self.base.mesh, 0.5, 0.01), w["press"]))
        self._label("talking")

    def _moves(self, count: int, amp: tuple[float, float], start: float = 0.5) -> np.ndarray:
        """A smooth trajectory: ``count`` excursions to random angles and back."""
        out = np.zeros(self.n)
        s = start + self.rng.uniform(0.0, 0.5)
        for _ in range(count):
            if s >= self.duration_s - 0.8:
                break
            tm = Timing(self.rng.uniform(0.35, 0.8), self.rng.uniform(0.3, 1.2), self.rng.uniform(0.35, 0.8))
            out += self.rng.choice([-1.0, 1.0]) * self.rng.uniform(*amp) * envelope(self.t, s, tm)
            s += tm.total + self.rng.uniform(0.3, 1.0)
        return out

    def add_head_turns(self, yaw: tuple[float, float] = (6.0, 15.0), count: int = 3, start: float = 0.5) -> None:
        self.fx["yaw_deg"] = self._moves(count, yaw, start)
        self.fx["pitch_deg"] = 0.3 * self._moves(count, (2.0, 5.0), start)
        self._label("head_turn")

    def add_nods_and_roll(self) -> None:
        self.fx["pitch_deg"] = self._moves(3, (4.0, 9.0))
        self.fx["roll_deg"] = self._moves(2, (3.0, 7.0))
        self._label("head_nod_roll")

    def add_lighting(self, side: bool = False) -> None:
        rng = self.rng
        if side:
            self.fx["side_light"] = (
                rng.choice([-1.0, 1.0])
                * rng.uniform(0.4, 0.8)
                * smoothstep((self.t - rng.uniform(0.5, 2.5)) / rng.uniform(0.8, 2.0))
            )
            self._label("side_light")
            return
        target = rng.uniform(0.65, 0.8) if rng.random() < 0.5 else rng.uniform(1.2, 1.35)
        ramp = smoothstep((self.t - rng.uniform(0.5, 3.0)) / rng.uniform(0.8, 2.0))
        self.fx["gain"] = 1.0 + (target - 1.0) * ramp
        self.fx["gamma"] = 1.0 + (rng.uniform(0.8, 1.25) - 1.0) * ramp
        self._label("lighting")

    def add_compression(self) -> None:
        self.fx["jpeg_quality"] = int(self.rng.integers(20, 41))
        self._label("jpeg")

    def add_jitter(self) -> None:
        steps = self.rng.normal(0.0, 0.6, (self.n, 2))
        walk = np.clip(np.cumsum(steps, axis=0), -3.0, 3.0)
        self.fx["shift_px"] = walk
        self.fx["noise_sigma"] = float(self.rng.uniform(3.0, 6.0))
        self._label("jitter_noise")

    def add_soften(self) -> None:
        self.fx["soften"] = float(self.rng.uniform(1.6, 2.2))
        self._label("soft")

    def build(self) -> tuple[tuple[Track, ...], Effects, tuple[GroundTruth, ...]]:
        effects = Effects(seed=int(self.rng.integers(0, 2**31)), labels=tuple(self.labels), **self.fx)
        return tuple(self.tracks), effects, tuple(sorted(self.events, key=lambda e: e.onset_s))
