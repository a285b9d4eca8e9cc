"""Micro-movements of real faces at 200 fps, for the micro spotter: the dev half's photos, morphed a small
part of the way to the person's expression photo and back.

CASME II, the only real micro-expression set here, is report-only (one subject). The spotter's synthetic
series model the tracker's noise as white jitter with a mild wander; this bench shows it real faces through
the real landmarker instead, with nothing tuned on CASME: for each dev pair (KDEF and JAFFE, the split of
`bench real`), a clip at 200 fps whose face moves 15, 25 or 40% of the way from the neutral photo to the
expression photo (a morph: the mesh warped part-way, as ``xfade --form morph``) over a rise of 0.05-0.2 s
and a fall of 0.1-0.3 s, each frame with its own sensor noise (Gaussian, ``--noise`` grey levels). Two
shapes per pair: ``cut`` from onset to offset, as CASME II's clips are, and ``stream`` with 0.6-1 s of the
still face before and after. Scored: MEGC spotting (IoU >= 0.5, any cue) of the engine as `bench real`
runs it on CASME (``--baseline-seconds 0``, micro spotter on), the strongest cue's emotion, and the
spotter alone on the stream clips' still leads (false spots per minute). Seeded; nothing is written.

    python -m callcoach_bench.micro real --data ../shared/realfaces --per-label 6
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from callcoach_bench.megc import ClipInput, GroundTruth, Prediction, score

FPS = 200.0
AMPLITUDES = (0.15, 0.25, 0.4)


@dataclasses.dataclass(frozen=True)
class MicroClip:
    file: str
    label: str
    shape: str
    amplitude: float
    truth: tuple[float, float, float]
    frames: list[np.ndarray]


def clips(data: Path, per_label: int, seed: int, noise: float) -> Iterator[MicroClip]:
    """The dev half's micro clips, two shapes per pair (pairs whose photos show no face are skipped)."""
    import cv2

    from callcoach.errors import UsageError
    from callcoach_bench.faces import detect_mesh, morpher
    from callcoach_bench.xfade import sample

    rng = np.random.default_rng(seed)
    for neutral, expression in sample(data, "dev", per_label, seed):
        a, b = cv2.imread(str(neutral.path)), cv2.imread(str(expression.path))
        if a is None or b is None or a.shape != b.shape:
            continue
        try:
            a, b = cv2.cvtColor(a, cv2.COLOR_BGR2RGB), cv2.cvtColor(b, cv2.COLOR_BGR2RGB)
            at = morpher(a, b, detect_mesh(a), detect_mesh(b))
        except UsageError:  # no face in one of the photos
            continue
        for shape in ("cut", "stream"):
            amp = float(rng.choice(AMPLITUDES))
            rise, fall = float(rng.uniform(0.05, 0.2)), float(rng.uniform(0.1, 0.3))
            lead, tail = (0.0, 0.0) if shape == "cut" else (float(rng.uniform(0.6, 1.0)), float(rng.uniform(0.6, 1.0)))
            t = np.arange(round((lead + rise + fall + tail) * FPS) + 1) / FPS
            shares = [_bump(float(x) - lead, rise, fall) * amp for x in t]
            cache: dict[float, np.ndarray] = {}
            frames = []
            for share in shares:
                key = round(share, 3)
                if key not in cache:
                    cache[key] = at(key)
                noisy = cache[key].astype(np.float32) + rng.normal(0.0, noise, cache[key].shape)
                frames.append(np.clip(noisy, 0, 255).astype(np.uint8))
            truth = (lead, lead + rise, lead + rise + fall)
            yield MicroClip(expression.path.name, expression.label, shape, amp, truth, frames)


def _bump(u: float, rise: float, fall: float) -> float:
    if u <= 0 or u >= rise + fall:
        return 0.0
    x = u / rise if u < rise else 1 - (u - rise) / fall
    return 0.5 - 0.5 * math.cos(math.pi * x)


def run(data: Path, per_label: int = 6, seed: int = 7, noise: float = 2.0) -> dict[str, Any]:
    from callcoach.cues.engine import CueEngine, EngineConfig
    from callcoach.cues.micro import MicroConfig, spot
    from callcoach.cues.vocabulary import Cue
    from callcoach.sources.base import Frame
    from callcoach.vision.pipeline import VisionPipeline

    inputs: dict[str, list[ClipInput]] = {"cut": [], "stream": []}
    named = {"cut": 0, "stream": 0}
    still_spots, still_s = 0, 0.0
    for clip in clips(data, per_label, seed, noise):
        vision = VisionPipeline()
        try:
            obs = [vision.observe(Frame(index=i, t_s=i / FPS, image=f)) for i, f in enumerate(clip.frames)]
        finally:
            vision.close()
        engine = CueEngine(EngineConfig(baseline_seconds=0.0))
        cues = [e for o in obs for e in engine.update(o) if isinstance(e, Cue)]
        cues += [e for e in engine.finish() if isinstance(e, Cue)]
        truth = GroundTruth("any", clip.label, *clip.truth)
        predictions = tuple(dataclasses.replace(Prediction.from_cue(c), cue="any") for c in cues)
        inputs[clip.shape].append(ClipInput(clip.file, len(obs) / FPS, (truth,), predictions, frame_s=1 / FPS))
        strongest = max(cues, key=lambda c: c.intensity, default=None)
        named[clip.shape] += strongest is not None and strongest.emotion == clip.label
        if clip.shape == "stream":
            lead = [o for o in obs if o.t_s < clip.truth[0] - 0.05]
            x = _features(lead)
            if x is not None:
                still_spots += len(spot(np.array([o.t_s for o in lead]), x, MicroConfig()))
                still_s += len(lead) / FPS
    out: dict[str, Any] = {"fps": FPS, "noise": noise, "seed": seed, "per_label": per_label}
    for shape, got in inputs.items():
        out[shape] = {"clips": len(got), "megc": score(got).overall.as_dict(), "strongest_names": named[shape]}
    out["still_false_spots_per_minute"] = round(60.0 * still_spots / still_s, 2) if still_s else None
    return out


def _features(obs: list[Any]) -> np.ndarray | None:
    """The engine's feature vector per frame of one face (the micro spotter's series)."""
    from callcoach.cues.features import feature_vector

    rows = [feature_vector(o.faces[0]) for o in obs if o.faces]
    return np.stack(rows) if len(rows) == len(obs) and len(rows) >= 4 else None
