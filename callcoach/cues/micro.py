"""Micro-expression spotting on high-frame-rate video, against the clip's own noise.

The channels (``callcoach.cues.channels``) need a movement of at least one per-signal floor: the smallest
change that counts at webcam speed. A real micro-expression (CASME II: AU12 alone, AU4, a flicker of the
upper lip, for 0.1-0.5 s) moves the landmarks far less. At 100-200 fps there are enough frames to measure
the tracker's own jitter and to find a brief movement that rises well above it, as MEGC spotting methods
do (Moilanen et al. 2014, "Spotting rapid facial movements from videos using appearance-based feature
difference analysis"; the MEGC 2019 baseline of Li et al.):

1. each signal is smoothed over ``smooth_s`` and its jitter measured from frame-to-frame differences
   (``1.4826 * MAD / sqrt 2``): a movement lasting tens of frames hardly changes the differences, so
   the estimate holds even on a clip that is all movement;
2. *contrast*: each frame minus the line between the frames ``half_window_s`` before and after it (half
   the longest micro-expression; the first or last frame at a clip's edges). A movement shorter than
   twice that stands out whole; a linear drift cancels exactly, a slow one nearly;
3. the score of a frame is the mean of the ``top`` largest contrasts in noise units; peaks above
   ``max(z_min, mean + p * (max - mean))`` of the clip's score (Moilanen's relative threshold, with an
   absolute floor so a still clip's jitter is never spotted) are candidates, strongest first;
4. the interval runs out from the apex, on the peak's own signals with their signs, until the movement
   falls back to ``extent`` of its height above the line joining the two reference frames; the movement
   must come back (levels before and after within ``step`` heights: the start of a long smile is a step);
5. duration limits (Yan et al. 2014, CASME II's inclusion rule): at least 1/25 s, and either at most
   0.5 s in all or at most 0.25 s from onset to apex; never more than 1 s.

Eye-lid and mouth-opening signals are left out of the score: a blink and a spoken syllable last as long
as a micro-expression. The parameters were chosen on synthetic signal series
(``python -m callcoach_bench.micro tune``), never on the CASME II clips (see docs/detector.md).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from callcoach.cues.aus import action_units, fuse
from callcoach.cues.channels import SIX, apex_reading, name_cue
from callcoach.cues.features import FLOORS, INDEX, NAMES
from callcoach.cues.vocabulary import MICRO_MAX_S, Cue

# Blinks, gaze shifts, speech and head turns move these as briefly as a micro-expression does.
_EXCLUDED = frozenset(
    {
        "aperture",
        "upper_lid",
        "lower_lid",
        "squint_bs",
        "blink_bs",
        "eye_wide_bs",
        "gaze_x",
        "gaze_y",
        "mouth_open",
        "jaw_open_bs",
        "jaw_drop",
        "yaw",
        "pitch",
    }
)
SIGNALS: tuple[str, ...] = tuple(n for n in NAMES if n not in _EXCLUDED)
_SEL = np.array([INDEX[n] for n in SIGNALS])


@dataclass(frozen=True)
class MicroConfig:
    #: The engine runs the micro spotter only on video at least this fast (a 100 ms movement is three
    #: frames at 30 fps: too few to tell from jitter).
    min_fps: float = 90.0
    half_window_s: float = 0.25
    smooth_s: float = 0.02
    #: Chosen by ``python -m callcoach_bench.micro tune`` (best MEGC F1 on the synthetic tuning seeds).
    top: int = 2
    p: float = 0.5
    z_min: float = 6.0
    extent: float = 0.1
    #: A movement comes back: the level after it may differ from the level before by at most this share
    #: of its height (the start or end of a longer movement is a step, not a bump).
    step: float = 1.0
    #: The contrast's noise is never taken as less than this share of each signal's floor: on still real
    #: faces through the landmarker (the dev half's photos at 200 fps with sensor noise) the frame-to-frame
    #: differences miss a slow wander of about 0.001-0.007 floors (``python -m callcoach_bench.micro real``).
    noise_floor: float = 0.01
    min_s: float = 1 / 25
    max_s: float = 0.5
    max_rise_s: float = 0.25
    longest_s: float = 1.0


@dataclass(frozen=True)
class MicroEvent:
    onset_s: float
    apex_s: float
    offset_s: float
    #: Peak score in noise units (mean of the ``top`` largest contrasts).
    score: float
    #: Index of the apex frame in the series given to ``spot``.
    apex_index: int
    #: The movement at the apex, every feature of ``callcoach.cues.features``, in the features' own units
    #: (apex minus the line between the reference frames); divide by ``FLOORS`` for floor units.
    contrast: np.ndarray


def _smooth(x: np.ndarray, n: int) -> np.ndarray:
    """Centred moving average over ``n`` frames along axis 0, edges padded with the edge values."""
    if n <= 1:
        return x
    left, right = n // 2, n - 1 - n // 2
    padded = np.concatenate([np.repeat(x[:1], left, axis=0), x, np.repeat(x[-1:], right, axis=0)])
    c = np.cumsum(np.concatenate([np.zeros((1, x.shape[1])), padded]), axis=0)
    out: np.ndarray = (c[n:] - c[:-n]) / n
    return out


def noise_sigma(x: np.ndarray) -> np.ndarray:
    """Per-column jitter from frame-to-frame differences (robust: a slow movement barely shows in them)."""
    d = np.diff(x, axis=0)
    mad = np.median(np.abs(d - np.median(d, axis=0)), axis=0)
    out: np.ndarray = 1.4826 * mad / math.sqrt(2.0)
    return out


def spot(t: np.ndarray, x: np.ndarray, cfg: MicroConfig | None = None) -> list[MicroEvent]:
    """Micro-expressions in one face's feature series ``x`` (frames x ``NAMES``) at times ``t`` (s)."""
    cfg = cfg or MicroConfig()
    n = len(t)
    if n < 4 or x.shape != (n, len(NAMES)):
        return []
    fps = 1.0 / max(float(np.median(np.diff(t))), 1e-6)
    k = max(1, round(cfg.half_window_s * fps))
    ns = max(1, round(cfg.smooth_s * fps))
    xs_all = _smooth(x, ns)
    xs = xs_all[:, _SEL]
    # Noise of the contrast: smoothing divides the jitter by sqrt(ns); the frame minus the mean of two
    # others adds half of it again. A perfectly still signal (a photo) gets a tiny floor, not zero.
    sigma = np.maximum(noise_sigma(x[:, _SEL]), 1e-3 * FLOORS[_SEL]) * math.sqrt(1.5 / ns)
    # The landmarker tracks smoothly: its frame-to-frame jitter is tiny while a still face wanders slowly,
    # so the differences can take its noise for 10-95x smaller than it is (docs/detector.md).
    sigma = np.maximum(sigma, cfg.noise_floor * FLOORS[_SEL])
    idx = np.arange(n)
    before, after = np.clip(idx - k, 0, n - 1), np.clip(idx + k, 0, n - 1)
    # The reference is the line between the two frames, so a drift cancels at the clip's edges too, where
    # one of them is the first or last frame rather than a half-window away.
    w = ((idx - before) / np.maximum(after - before, 1))[:, None]
    z = (xs - (xs[before] * (1 - w) + xs[after] * w)) / sigma
    top = min(cfg.top, z.shape[1])
    score = np.sort(np.abs(z), axis=1)[:, -top:].mean(axis=1)
    threshold = max(cfg.z_min, float(score.mean() + cfg.p * (score.max() - score.mean())))
    padded = np.concatenate([[-np.inf], score, [-np.inf]])
    peaks = np.flatnonzero((score >= threshold) & (score >= padded[:-2]) & (score >= padded[2:]))
    events: list[MicroEvent] = []
    seen: list[int] = []
    for i in (int(j) for j in peaks[np.argsort(-score[peaks], kind="stable")]):
        # A movement's contrast has side lobes of half its height one half-window either side (the
        # movement is then one of the reference frames): a weaker peak that close is the same movement.
        if any(abs(i - j) <= k for j in seen):
            continue
        seen.append(i)
        found = _extent(t, xs, xs_all, sigma, z[i], i, k, cfg)
        if found is None:
            continue
        on, apex, off, contrast = found
        duration, rise = t[off] - t[on], t[apex] - t[on]
        if duration < cfg.min_s or duration > cfg.longest_s or (duration > cfg.max_s and rise > cfg.max_rise_s):
            continue
        events.append(MicroEvent(float(t[on]), float(t[apex]), float(t[off]), float(score[i]), apex, contrast))
    return sorted(events, key=lambda e: e.onset_s)


def _extent(
    t: np.ndarray,
    xs: np.ndarray,
    xs_all: np.ndarray,
    sigma: np.ndarray,
    zi: np.ndarray,
    i: int,
    k: int,
    cfg: MicroConfig,
) -> tuple[int, int, int, np.ndarray] | None:
    """Onset, apex, offset indices and the apex contrast of the movement peaking near frame ``i``."""
    n = len(t)
    cols = np.argsort(-np.abs(zi))[: cfg.top]
    # The peak's own signals, each in noise units and turned so that the movement is positive.
    y = (xs[:, cols] * np.sign(zi[cols]) / sigma[cols]).mean(axis=1)
    a, b = max(i - k, 0), min(i + k, n - 1)
    if b <= a:
        return None
    line = y[a] + (y[b] - y[a]) * (np.arange(n) - a) / (b - a)
    e = y - line
    apex = a + int(np.argmax(e[a : b + 1]))
    height = e[apex]
    if height <= 0 or abs(y[b] - y[a]) > cfg.step * height:
        return None
    level = cfg.extent * height
    on = apex
    while on > a and e[on - 1] > level:
        on -= 1
    off = apex
    while off < b and e[off + 1] > level:
        off += 1
    frac = (apex - a) / (b - a)
    contrast = xs_all[apex] - (xs_all[a] + (xs_all[b] - xs_all[a]) * frac)
    return on, apex, off, contrast


class MicroSpotter:
    """Streaming wrapper for one face: buffer the recent frames, spot once the context after a movement
    has arrived, and report each movement once."""

    def __init__(self, cfg: MicroConfig | None = None, horizon_s: float = 3.0, every_s: float = 0.1) -> None:
        self.cfg = cfg or MicroConfig()
        self.horizon_s = horizon_s
        self.every_s = every_s
        self._t: deque[float] = deque()
        self._x: deque[np.ndarray] = deque()
        self._extra: deque[object] = deque()
        self._last_run = -math.inf
        self._reported_until = -math.inf

    def reset(self) -> None:
        """Forget the buffer (the face turned away or was covered): no spot spans the gap."""
        self._t.clear()
        self._x.clear()
        self._extra.clear()

    def add(self, t: float, x: np.ndarray, extra: object = None) -> None:
        """One readable frame: its time, feature vector, and anything to hand back with an event at its apex."""
        self._t.append(t)
        self._x.append(x)
        self._extra.append(extra)
        while self._t and t - self._t[0] > self.horizon_s:
            self._t.popleft()
            self._x.popleft()
            self._extra.popleft()

    def poll(self, t: float) -> list[tuple[MicroEvent, object]]:
        """Movements that ended early enough that every frame their score depends on has been seen."""
        if t - self._last_run < self.every_s:
            return []
        self._last_run = t
        settled = t - self.cfg.half_window_s - self.cfg.smooth_s
        return self._run(lambda ev: ev.offset_s <= settled and ev.apex_s < t - self.cfg.half_window_s)

    def finish(self) -> list[tuple[MicroEvent, object]]:
        """End of input: whatever is left in the buffer."""
        return self._run(lambda ev: True)

    def _run(self, settled: Callable[[MicroEvent], bool]) -> list[tuple[MicroEvent, object]]:
        if len(self._t) < 4:
            return []
        times = np.fromiter(self._t, dtype=np.float64)
        if float(np.median(np.diff(times))) > 1.0 / self.cfg.min_fps:
            return []  # webcam speed: the channels alone
        extras = list(self._extra)
        out: list[tuple[MicroEvent, object]] = []
        for ev in spot(times, np.stack(list(self._x)), self.cfg):
            if ev.onset_s <= self._reported_until or not settled(ev):
                continue
            out.append((ev, extras[ev.apex_index]))
            self._reported_until = ev.offset_s
        return out


# The emotion a movement suggests, read through the channel that sees it (``callcoach.cues.channels``).
_CHANNEL = {
    "happiness": "smile",
    "sadness": "frown",
    "anger": "anger",
    "disgust": "nose",
    "surprise": "brow_raise",
    "fear": "brow_raise",
}
#: The apex movement is scaled so that its largest change reads as this many floors before the AUs and the
#: fused reading see it: a micro-expression is the same pattern as the full one, only smaller (the idea of
#: motion magnification in micro-expression recognition), and the AU layer reads floor-sized changes.
MAGNIFY_TO = 3.0
#: A micro spot is a weaker guess than a channel's cue: its confidence stays below this.
MAX_CONFIDENCE = 0.7


def micro_cue(
    ev: MicroEvent,
    appearance: dict[str, float] | None,
    resting: dict[str, float] | None,
    face: int,
    cfg: MicroConfig | None = None,
) -> Cue:
    """Name a spotted micro-movement through the AU layer and the fused reading, magnified to full size."""
    cfg = cfg or MicroConfig()
    d = ev.contrast / FLOORS
    d[[INDEX["yaw"], INDEX["pitch"]]] = 0.0
    size = float(np.abs(d[_SEL]).max())
    gain = MAGNIFY_TO / size if 0 < size < MAGNIFY_TO else 1.0
    aus = action_units(d * gain)
    reading = fuse(aus, appearance, resting)
    emotion = max(SIX, key=lambda e: reading.get(e, 0.0))
    name, suggested = name_cue(_CHANNEL[emotion], apex_reading(d * gain, aus), reading)
    duration = ev.offset_s - ev.onset_s
    margin = 1.0 - math.exp(-max(0.0, ev.score / cfg.z_min - 1.0))
    return Cue(
        cue=name,
        emotion=suggested,
        scale="micro" if duration <= MICRO_MAX_S else "macro",
        onset_s=ev.onset_s,
        apex_s=ev.apex_s,
        offset_s=ev.offset_s,
        intensity=1.0 - math.exp(-size / 2.5),
        confidence=min(MAX_CONFIDENCE, 0.3 + 0.4 * margin),
        face=face,
    )
