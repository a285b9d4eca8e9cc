"""Per-person baseline: the person's *resting* face, and the spread of each signal around it.

Expressions are read as departures from *this* person's resting face, never from a population norm:
resting faces, lighting and camera angle differ far more between people than a micro-expression moves.

The resting face is not the median face. Someone who smiles 75% of the time has a smiling median, and
every smile would then be read as neutral; a face that starts out crying would make crying the neutral.
So each frame carries an *expression energy* (``expression_energy``: the expression blendshapes, plus
the appearance model's "not neutral"), and a *calm* flag (low blendshape energy, and no strong
happiness, sadness or surprise from the appearance model). The rule:
- the reference is the median of the *quiet* frames of the last ``window_s`` (60 s): those within a
  tolerance (0.5, more when the energies spread widely) of the quietest level (10th percentile). Calm
  frames alone form the pool once a few have been seen. Refreshed every few frames, it keeps adapting
  (light, posture) but a sustained expression never becomes the reference while the face rests for a
  tenth of the window;
- before the first cue: ``warmup_s`` of observation *and* either a few calm frames, or a warm-up that
  held still (a resting face that happens to look happy or sad), or ``trust_s`` more seconds (a face
  that never calms down still gets a baseline, from its quietest frames); ``warmup_s = 0`` keeps its
  meaning: the first frame is the reference, at once;
- the spread is the MAD of the quiet frames (the resting face's own wobble), between the floors and
  2.5 floors.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from callcoach.cues.features import INDEX, NAMES

# A MAD-based sigma is scaled by this to match a normal distribution's standard deviation.
_MAD_TO_SIGMA = 1.4826
# Recomputing the reference over the window costs ~0.5 ms, so do it every few frames, not every frame.
_REFRESH_EVERY = 8
#: The longest a movement under way holds the reference still (``add(..., moving=True)``): a smile held for
#: minutes must not stop the baseline following the light and the posture.
_HOLD_MAX_S = 10.0
# Blendshapes that rise with an expression (MediaPipe's pairs are averaged). The cheek/nose/wide scores
# stay near zero on real faces but cost nothing; eyeBlink counts half: hooded eyes score high at rest.
_ENERGY_SHAPES: tuple[tuple[str, float], ...] = (
    ("mouthSmile", 1.0),
    ("mouthFrown", 1.0),
    ("mouthStretch", 1.0),
    ("mouthUpperUp", 1.0),
    ("mouthPress", 1.0),
    ("mouthDimple", 1.0),
    ("browDown", 1.0),
    ("eyeSquint", 1.0),
    ("noseSneer", 1.0),
    ("cheekSquint", 1.0),
    ("eyeWide", 1.0),
    ("browOuterUp", 0.5),
    ("eyeBlink", 0.5),
)
_ENERGY_SINGLE: tuple[tuple[str, float], ...] = (("jawOpen", 1.0), ("browInnerUp", 1.0), ("mouthPucker", 0.5))
# Above this blendshape energy, or with the appearance model this sure of a strong expression, a frame
# is not calm. Measured on the real clips: a resting face 0.6-0.9, crying behind a hand 1.8-2.0, a
# broad laugh 2.0-2.3 (docs/detector.md, Baseline).
CALM_ENERGY = 1.2
CALM_PROB = 0.6
_STRONG = ("happiness", "sadness", "surprise")
# Weight of the appearance model's "not neutral" in the energy (its neutral probability is noisy).
_APPEARANCE_WEIGHT = 0.5
# A warm-up whose expression signals move less than this (mean 10th-90th percentile range, in floors)
# is a resting face, calm or not. Measured: the synthetic set's still faces (one reads 0.99 happy at
# rest) 0.05, with jitter or JPEG 0.2-0.3; a real face looking up quietly 0.7; crying 1.25;
# laughing 0.5-1.6 (docs/detector.md, Baseline).
STEADY_SPREAD = 0.5
# Gaze, blinks and the head pose move at rest; the steadiness of a face is read from the others.
_STEADY_SIGNALS = np.array(
    [
        i
        for n, i in INDEX.items()
        if n not in ("yaw", "pitch", "gaze_x", "gaze_y", "blink_bs", "aperture", "upper_lid", "lower_lid")
    ]
)
# The smallest energy tolerance around the quietest level (see _quiet): 0.15 gave the synthetic set 4
# more false cues (a still face's noise picked a biased reference); a real smile adds about 2.
_ENERGY_TOL = 0.5
# Calm frames needed before they alone define the reference (and before a waiting baseline is trusted).
MIN_CALM = 5


def expression_energy(blendshapes: Mapping[str, float], emotion: Mapping[str, float] | None) -> tuple[float, bool]:
    """How much expression one frame shows (higher: more), and whether it is calm (a resting face)."""
    bs = 0.0
    for name, weight in _ENERGY_SHAPES:
        bs += weight * (blendshapes.get(name + "Left", 0.0) + blendshapes.get(name + "Right", 0.0)) / 2
    for name, weight in _ENERGY_SINGLE:
        bs += weight * blendshapes.get(name, 0.0)
    calm = bs < CALM_ENERGY
    energy = bs
    if emotion:
        energy += _APPEARANCE_WEIGHT * (1.0 - emotion.get("neutral", 0.0))
        calm = calm and max(emotion.get(k, 0.0) for k in _STRONG) < CALM_PROB
    return energy, calm


class RobustBaseline:
    """Resting reference and robust spread per signal over a sliding window of reliable frames.

    ``warmup_s`` of observation (and some calm frames, or ``trust_s`` more) are needed before the
    baseline is ready; 0 means the first frame is taken as the neutral reference and spreads fall back
    to the per-signal floors. ``median`` is the resting reference (the name is kept for its readers).
    """

    def __init__(
        self,
        floors: np.ndarray,
        warmup_s: float = 2.0,
        window_s: float = 60.0,
        sigma_k: float = 3.0,
        max_cap: float = 2.5,
        max_samples: int = 2400,
        quiet_share: float = 0.1,
        trust_s: float = 8.0,
    ) -> None:
        self.floors = floors.astype(np.float64)
        self.warmup_s = warmup_s
        self.window_s = window_s
        self.sigma_k = sigma_k
        self.quiet_share = quiet_share
        self.trust_s = trust_s
        self.cap = self.floors * max_cap
        self._values = np.zeros((max_samples, floors.size), dtype=np.float64)
        self._times = np.zeros(max_samples, dtype=np.float64)
        self._energy = np.zeros(max_samples, dtype=np.float64)
        self._calm = np.zeros(max_samples, dtype=bool)
        self._n = 0
        self._head = 0
        self._since_refresh = 0
        self._refreshed_t = 0.0
        self._first_t: float | None = None
        self.median = np.zeros(floors.size)
        self.scale = self.floors.copy()
        self.ready = False

    @property
    def samples(self) -> int:
        return self._n

    def progress(self, t_s: float) -> float:
        if self.ready:
            return 1.0
        if self._first_t is None or self.warmup_s <= 0:
            return 0.0
        # Waiting for a calm stretch after the warm-up: almost there, never shown as done.
        return min(0.95, (t_s - self._first_t) / self.warmup_s)

    def add(self, t_s: float, values: np.ndarray, energy: float = 0.0, calm: bool = True, moving: bool = False) -> bool:
        """Add one reliable sample; returns True when this sample made the baseline ready.

        ``energy`` and ``calm`` come from ``expression_energy``; the defaults treat every frame alike
        (the plain median of the window). ``moving``: a movement is under way on this face; the reference
        is not refreshed until it ends (for up to ``_HOLD_MAX_S``), so a movement that builds up slowly is
        measured against the face it started from, not against its own first frames (a posed smile rising
        over 12 frames lost a third of its corner raise at the refresh in the middle of it)."""
        if self._first_t is None:
            self._first_t = t_s
        self._values[self._head] = values
        self._times[self._head] = t_s
        self._energy[self._head] = energy
        self._calm[self._head] = calm
        self._head = (self._head + 1) % len(self._times)
        self._n = min(self._n + 1, len(self._times))
        self._since_refresh += 1
        if not self.ready:
            if self.warmup_s <= 0:
                self.median = values.astype(np.float64).copy()
                self.scale = self.floors.copy()
                self._refreshed_t = t_s
                self.ready = True
                return True
            elapsed = t_s - self._first_t
            if (
                self._n >= 3
                and elapsed >= self.warmup_s
                and (self._calm_seen() or self._steady(t_s) or elapsed >= self.warmup_s + self.trust_s)
            ):
                self._refresh(t_s)
                self.ready = True
                return True
            return False
        if self._since_refresh >= _REFRESH_EVERY and not (moving and 0.0 <= t_s - self._refreshed_t < _HOLD_MAX_S):
            self._refresh(t_s)
        return False

    def _calm_seen(self) -> bool:
        return int(self._calm[: self._n].sum()) >= MIN_CALM

    def _steady(self, t_s: float) -> bool:
        """The last ``warmup_s`` held one expression: a resting face, even one that looks happy or sad.

        Crying and laughing come and go; a face at rest stays put. Measured as the mean, over the
        expression signals, of their 10th-90th percentile range in floors."""
        recent = self._values[: self._n][self._times[: self._n] >= t_s - self.warmup_s]
        if recent.shape[0] < 3:
            return False
        x = (
            recent[:, _STEADY_SIGNALS] / self.floors[_STEADY_SIGNALS]
            if recent.shape[1] == len(NAMES)
            else recent / self.floors
        )
        spread = np.percentile(x, 90, axis=0) - np.percentile(x, 10, axis=0)
        return float(spread.mean()) < STEADY_SPREAD

    def _quiet(self, t_s: float) -> np.ndarray:
        """Indices of the frames the resting face is read from."""
        idx = np.arange(self._n)
        recent = idx[self._times[: self._n] >= t_s - self.window_s]
        if recent.size:
            idx = recent
        calm = idx[self._calm[idx]]
        pool = calm if calm.size >= MIN_CALM else idx
        energy = self._energy[pool]
        low, high = np.percentile(energy, [10, 90])
        # Frames near the quietest level. The tolerance grows with the spread, and is never nil: a still
        # face's frame-to-frame noise must not pick the low tail of every signal (a biased reference).
        quiet: np.ndarray = pool[energy <= low + max(_ENERGY_TOL, 0.25 * (high - low))]
        k = min(pool.size, max(3, round(self.quiet_share * pool.size)))
        if quiet.size >= k:
            return quiet
        return pool[np.argpartition(energy, k - 1)[:k]]

    def _refresh(self, t_s: float) -> None:
        self._since_refresh = 0
        self._refreshed_t = t_s
        window = self._values[self._quiet(t_s)]
        self.median = np.median(window, axis=0)
        # The spread at rest: how much the resting face (and the tracker) wobbles.
        mad = np.median(np.abs(window - self.median), axis=0)
        # Capped: after an expressive stretch the spread balloons and would hide the next real movement;
        # a noisy tracker is bounded by the floors, not by letting the spread grow without limit.
        self.scale = np.clip(self.sigma_k * _MAD_TO_SIGMA * mad, self.floors, self.cap)

    def deviation(self, values: np.ndarray) -> np.ndarray:
        """Signed departure from baseline in units of 'meaningful change' (>= 1 is noticeable)."""
        return (values - self.median) / self.scale
