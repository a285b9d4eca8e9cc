"""Per-person baseline: robust running statistics (median and MAD) of every signal.

Expressions are read as departures from *this* person's resting face, never from a population norm:
resting faces, lighting and camera angle differ far more between people than a micro-expression moves.
"""

from __future__ import annotations

import numpy as np

# A MAD-based sigma is scaled by this to match a normal distribution's standard deviation.
_MAD_TO_SIGMA = 1.4826
# Recomputing medians over the window costs ~0.3 ms, so do it every few frames, not every frame.
_REFRESH_EVERY = 8


class RobustBaseline:
    """Median and robust spread per signal over a sliding window of reliable frames.

    ``warmup_s`` of observation are needed before the baseline is ready; 0 means the first frame is taken
    as the neutral reference and spreads fall back to the per-signal floors.
    """

    def __init__(self, floors: np.ndarray, warmup_s: float = 2.0, window_s: float = 20.0,
                 sigma_k: float = 3.0, max_cap: float = 2.5,
                 max_samples: int = 600) -> None:
        self.floors = floors.astype(np.float64)
        self.warmup_s = warmup_s
        self.window_s = window_s
        self.sigma_k = sigma_k
        self.cap = self.floors * max_cap
        self._values = np.zeros((max_samples, floors.size), dtype=np.float64)
        self._times = np.zeros(max_samples, dtype=np.float64)
        self._n = 0
        self._head = 0
        self._since_refresh = 0
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
        return min(1.0, (t_s - self._first_t) / self.warmup_s)

    def add(self, t_s: float, values: np.ndarray) -> bool:
        """Add one reliable sample; returns True when this sample made the baseline ready."""
        if self._first_t is None:
            self._first_t = t_s
        self._values[self._head] = values
        self._times[self._head] = t_s
        self._head = (self._head + 1) % len(self._times)
        self._n = min(self._n + 1, len(self._times))
        self._since_refresh += 1
        if not self.ready:
            if self.warmup_s <= 0 or (t_s - self._first_t >= self.warmup_s and self._n >= 3):
                self._refresh(t_s)
                self.ready = True
                return True
            return False
        if self._since_refresh >= _REFRESH_EVERY:
            self._refresh(t_s)
        return False

    def _refresh(self, t_s: float) -> None:
        self._since_refresh = 0
        idx = np.arange(self._n)
        recent = idx[self._times[: self._n] >= t_s - self.window_s]
        window = self._values[recent if recent.size else idx]
        self.median = np.median(window, axis=0)
        mad = np.median(np.abs(window - self.median), axis=0)
        # Capped: after an expressive stretch the spread balloons and would hide the next real movement;
        # a noisy tracker is bounded by the floors, not by letting the spread grow without limit.
        self.scale = np.clip(self.sigma_k * _MAD_TO_SIGMA * mad, self.floors, self.cap)

    def deviation(self, values: np.ndarray) -> np.ndarray:
        """Signed departure from baseline in units of 'meaningful change' (>= 1 is noticeable)."""
        return (values - self.median) / self.scale
