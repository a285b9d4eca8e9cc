"""The micro-expression spotter (``callcoach.cues.micro``) on synthetic series, and once on CASME II.

``tune``: labelled synthetic feature series at 200 fps (jitter, correlated tracker wander, slow drifts,
micro-expressions of 0.08-0.6 s on one to three signals, and longer macro movements that must not be
spotted); a small grid over the spotter's thresholds is scored (MEGC, IoU >= 0.5) on the tuning seeds and
the chosen setting is reported on other seeds. Two clip shapes: 6 s streams with 0-2 movements, and
clips cut from onset to offset, as CASME II's are.

``real``: micro-movements of the dev half's real faces at 200 fps through the real landmarker
(``callcoach_bench/micro_real.py``): the real tracker's noise, which the synthetic series only model.

``casme``: the real pipeline on the CASME II clips of ``--data`` (report-only: nothing is tuned on them),
each clip's observations fed to the cue engine without and with the micro spotter.

    python -m callcoach_bench.micro tune
    python -m callcoach_bench.micro real --data ../shared/realfaces --per-label 6
    python -m callcoach_bench.micro casme --data ../shared/realfaces
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from callcoach.core.argtypes import whole_number
from callcoach.cues.features import FLOORS, INDEX, NAMES
from callcoach.cues.micro import SIGNALS, MicroConfig, spot
from callcoach_bench.megc import ClipInput, GroundTruth, Prediction, score

FPS = 200.0
TUNE_SEEDS = range(0, 300)
REPORT_SEEDS = range(1000, 1300)
#: Movement amplitudes, in units of the white jitter of the signal they move.
SNR = (3.0, 12.0)


@dataclasses.dataclass(frozen=True)
class SynthClip:
    name: str
    t: np.ndarray
    x: np.ndarray
    truths: tuple[tuple[float, float, float], ...]


def _bump(n: int, on: int, apex: int, off: int) -> np.ndarray:
    """Raised-cosine rise from onset to apex, fall from apex to offset, zero elsewhere."""
    out = np.zeros(n)
    for i in range(max(on, 0), min(off + 1, n)):
        if i <= apex:
            out[i] = 0.5 - 0.5 * math.cos(math.pi * (i - on) / max(apex - on, 1))
        else:
            out[i] = 0.5 + 0.5 * math.cos(math.pi * (i - apex) / max(off - apex, 1))
    return out


def _movement(rng: np.random.Generator, macro: bool) -> tuple[int, int]:
    """Duration and onset-to-apex, in frames (CASME II's range for micro: up to 0.5 s, or longer with a
    rise of at most 0.25 s)."""
    if macro:
        d = rng.uniform(1.0, 3.0)
        return round(d * FPS), round(d * rng.uniform(0.2, 0.5) * FPS)
    d = rng.uniform(0.08, 0.6)
    rise = d * rng.uniform(0.15, 0.6)
    if d > 0.5:
        rise = min(rise, 0.24)
    return round(d * FPS), round(rise * FPS)


def synth_clip(seed: int) -> SynthClip:
    rng = np.random.default_rng(seed)
    short = seed % 3 == 0  # a third cut from onset to offset, as CASME II's clips are
    moves: list[tuple[int, int, int, bool]] = []
    if short:
        dur, rise = _movement(rng, macro=False)
        n = dur + 1
        moves.append((0, rise, dur, False))
    else:
        n = round(6.0 * FPS)
        for j in range(int(rng.integers(0, 3))):
            dur, rise = _movement(rng, macro=False)
            on = round((0.5 + 2.5 * j + rng.uniform(0, 1.2)) * FPS)
            moves.append((on, on + rise, on + dur, False))
        if rng.random() < 0.4:
            dur, rise = _movement(rng, macro=True)
            on = round(rng.uniform(0.3, 6.0 - dur / FPS - 0.3) * FPS) if dur / FPS < 5.4 else 0
            if all(on > m[2] + 0.3 * FPS or on + dur < m[0] - 0.3 * FPS for m in moves):
                moves.append((on, on + rise, on + dur, True))
    t = np.arange(n) / FPS
    white = FLOORS * rng.uniform(0.03, 0.1, size=len(NAMES))
    x = rng.normal(0.0, 1.0, size=(n, len(NAMES))) * white
    # Tracker wander: AR(1) with a 0.1 s memory, and a slow drift (head settling, light).
    rho = math.exp(-1.0 / (0.1 * FPS))
    wander = np.zeros_like(x)
    for i in range(1, n):
        wander[i] = rho * wander[i - 1] + math.sqrt(1 - rho**2) * rng.normal(size=len(NAMES))
    x += wander * white * rng.uniform(0.2, 0.8)
    period = rng.uniform(2.0, 8.0, size=len(NAMES))
    x += (
        np.sin(2 * math.pi * t[:, None] / period + rng.uniform(0, 6.3, size=len(NAMES)))
        * white
        * rng.uniform(0, 8, size=len(NAMES))
    )
    truths = []
    for on, apex, off, macro in moves:
        cols = rng.choice([INDEX[s] for s in SIGNALS], size=int(rng.integers(1, 4)), replace=False)
        amp = rng.uniform(*SNR)
        shape = _bump(n, on, apex, off)
        for c in cols:
            x[:, c] += shape * amp * white[c] * rng.uniform(0.7, 1.3) * rng.choice([-1.0, 1.0])
        if not macro:
            truths.append((on / FPS, apex / FPS, min(off, n - 1) / FPS))
    return SynthClip(f"synth{seed}", t, x, tuple(truths))


def clip_input(clip: SynthClip, cfg: MicroConfig) -> ClipInput:
    events = spot(clip.t, clip.x, cfg)
    return ClipInput(
        clip.name,
        len(clip.t) / FPS,
        tuple(GroundTruth("any", None, a, b, c) for a, b, c in clip.truths),
        tuple(Prediction("any", e.onset_s, e.apex_s, e.offset_s) for e in events),
        frame_s=1 / FPS,
    )


def evaluate(clips: Sequence[SynthClip], cfg: MicroConfig) -> dict[str, float | int]:
    return score(clip_input(c, cfg) for c in clips).overall.as_dict()


GRID = {"top": (2, 3), "p": (0.3, 0.5, 0.7), "z_min": (5.0, 6.0, 7.0), "extent": (0.1,), "step": (0.5, 1.0)}


def tune() -> dict[str, Any]:
    tune_clips = [synth_clip(s) for s in TUNE_SEEDS]
    rows = []
    for top, p, z_min, extent, step in itertools.product(*GRID.values()):
        cfg = MicroConfig(top=int(top), p=p, z_min=z_min, extent=extent, step=step)
        rows.append({"top": top, "p": p, "z_min": z_min, "extent": extent, "step": step, **evaluate(tune_clips, cfg)})
    best = max(rows, key=lambda r: (r["f1"], -r["fp"]))
    chosen = MicroConfig(
        top=int(best["top"]),
        p=float(best["p"]),
        z_min=float(best["z_min"]),
        extent=float(best["extent"]),
        step=float(best["step"]),
    )
    report_clips = [synth_clip(s) for s in REPORT_SEEDS]
    default = MicroConfig()
    return {
        "grid": rows,
        "best_on_tuning_seeds": best,
        "chosen_on_report_seeds": evaluate(report_clips, chosen),
        "default": dataclasses.asdict(default),
        "default_on_report_seeds": evaluate(report_clips, default),
        "noise_only_false_spots_per_minute": _noise_rate(default),
    }


def _noise_rate(cfg: MicroConfig) -> float:
    """False spots per minute on 6 s streams of jitter (5% of each floor) and slow drift, no movement."""
    fp, seconds = 0, 0.0
    t = np.arange(round(6.0 * FPS)) / FPS
    for seed in range(2000, 2100):
        rng = np.random.default_rng(seed)
        white = FLOORS * 0.05
        x = rng.normal(0.0, 1.0, size=(len(t), len(NAMES))) * white
        x += np.sin(2 * math.pi * t[:, None] / rng.uniform(2.0, 8.0, size=len(NAMES))) * white * 4
        fp += len(spot(t, x, cfg))
        seconds += len(t) / FPS
    return round(60.0 * fp / seconds, 3)


# --- CASME II, once ------------------------------------------------------------------------------------


def casme(data: Path) -> dict[str, Any]:
    from callcoach.cues.engine import CueEngine, EngineConfig
    from callcoach.cues.vocabulary import Cue
    from callcoach.sources.base import Frame
    from callcoach.sources.files import read_image
    from callcoach.vision.pipeline import VisionPipeline
    from callcoach_bench.real import CASME_FPS, casme_clip, load_manifest

    rows = [r for r in load_manifest(data) if r.kind == "microclip"]
    out: dict[str, Any] = {"clips": []}
    inputs: dict[str, list[ClipInput]] = {"before": [], "after": []}
    named = {"before": 0, "after": 0}
    labelled = 0
    for r in rows:
        paths = sorted(p for p in r.path.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        vision = VisionPipeline()
        try:
            obs = [vision.observe(Frame(index=i, t_s=i / CASME_FPS, image=read_image(p))) for i, p in enumerate(paths)]
        finally:
            vision.close()
        item: dict[str, Any] = {"clip": r.path.name, "label": r.label, "frames": len(paths)}
        if r.label != "others":
            labelled += 1
        for key, micro in (("before", False), ("after", True)):
            engine = CueEngine(EngineConfig(baseline_seconds=0.0, micro=micro))
            cues = [e for o in obs for e in engine.update(o) if isinstance(e, Cue)]
            cues += [e for e in engine.finish() if isinstance(e, Cue)]
            inputs[key].append(casme_clip(r, len(paths), cues))
            strongest = max(cues, key=lambda c: c.intensity, default=None)
            if strongest is not None and strongest.emotion == r.label:
                named[key] += 1
            item[key] = [
                {
                    "cue": c.cue,
                    "emotion": c.emotion,
                    "onset_s": round(c.onset_s, 3),
                    "apex_s": round(c.apex_s, 3),
                    "offset_s": None if c.offset_s is None else round(c.offset_s, 3),
                    "confidence": round(c.confidence, 3),
                }
                for c in cues
            ]
        truth = inputs["after"][-1].truths[0]
        item["truth_s"] = [round(truth.onset_s, 3), round(truth.apex_s, 3), round(truth.offset_s, 3)]
        item["faces"] = sum(1 for o in obs if o.faces)
        out["clips"].append(item)
    for key in ("before", "after"):
        out[key] = {
            "megc": score(inputs[key]).overall.as_dict(),
            "named_strongest": f"{named[key]}/{labelled}",
        }
    return out


def non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0.0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callcoach_bench.micro", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("tune", help="grid over the spotter's thresholds on synthetic series")
    c = sub.add_parser("casme", help="the CASME II clips through the engine, without and with the micro spotter")
    c.add_argument("--data", type=Path, default=Path("../shared/realfaces"))
    r = sub.add_parser("real", help="the dev half's faces moving a little at 200 fps, through the engine")
    r.add_argument("--data", type=Path, default=Path("../shared/realfaces"))
    r.add_argument("--per-label", type=whole_number(1), default=6, metavar="N")
    r.add_argument("--seed", type=whole_number(0), default=7)
    r.add_argument("--noise", type=non_negative, default=2.0, help="sensor noise per frame, grey levels (default 2)")
    args = parser.parse_args(argv)
    if args.what == "tune":
        result = tune()
        for row in result.pop("grid"):
            print(json.dumps(row))
        print(json.dumps(result, indent=2))
        return 0
    if not (args.data / "manifest.csv").is_file():
        print(f"callcoach: error: no manifest.csv in {args.data}", file=sys.stderr)
        return 2
    if args.what == "real":
        from callcoach_bench import micro_real

        print(json.dumps(micro_real.run(args.data, args.per_label, args.seed, args.noise), indent=2))
        return 0
    print(json.dumps(casme(args.data), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
