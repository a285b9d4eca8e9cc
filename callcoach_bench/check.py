"""What the landmark model sees of each synthetic action: blendshape and geometry changes at apex.

    python -m callcoach_bench.check [--base neutral] [--top 4]

Each cue's action is rendered at full strength on a still face and run through the Face Landmarker
(IMAGE mode) next to the untouched face. A warp the model cannot see would make a useless benchmark,
so this is the first thing to look at after changing an action.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from callcoach.cues.vocabulary import CUE_NAMES
from callcoach_bench import actions
from callcoach_bench.faces import VARIANTS, base_face
from callcoach_bench.render import Effects, Renderer, Track

#: Iris shift used for gaze_aversion (eye widths, sideways).
GAZE = (0.24, 0.0)


@dataclass(frozen=True)
class ActionDelta:
    cue: str
    render_ms: float
    blendshapes: dict[str, float]  # apex minus neutral
    geometry: dict[str, float]  # apex minus neutral, ``callcoach.vision.geometry`` units

    def top(self, n: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        def best(d: dict[str, float]) -> list[tuple[str, float]]:
            return sorted(d.items(), key=lambda kv: -abs(kv[1]))[:n]

        return best(self.blendshapes), best(self.geometry)


def apex_frame(base: str, cue: str, k: float = 1.0) -> np.ndarray:
    """One frame of ``cue`` at full strength on the named still face."""
    face = base_face(base)
    action = actions.blink if cue == "blink_cluster" else actions.CUE_ACTIONS[cue]
    track = Track(action(face.mesh, k), np.ones(1), GAZE if cue == "gaze_aversion" else (0.0, 0.0))
    return Renderer(face, (track,), Effects(), 1, 25.0).frame(0)


def action_deltas(base: str = "neutral", cues: Sequence[str] = CUE_NAMES) -> list[ActionDelta]:
    from callcoach.vision.geometry import measures
    from callcoach.vision.landmarker import Landmarker
    from callcoach.vision.pose import canonical_points

    lm = Landmarker(max_faces=1, video=False)

    def observe(img: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
        faces = lm.detect(img)
        if not faces:
            return {}, {}
        f = faces[0]
        h, w = img.shape[:2]
        return f.blendshapes, measures(canonical_points(f.landmarks, f.matrix, w, h))

    try:
        bs0, geo0 = observe(base_face(base).image)
        out = []
        for cue in cues:
            apex_frame(base, cue)  # warm-up, so the timing below is the steady-state cost
            t0 = time.perf_counter()
            img = apex_frame(base, cue)
            ms = 1000 * (time.perf_counter() - t0)
            bs, geo = observe(img)
            out.append(
                ActionDelta(
                    cue,
                    ms,
                    {k: v - bs0.get(k, 0.0) for k, v in bs.items()},
                    {k: v - geo0.get(k, 0.0) for k, v in geo.items()},
                )
            )
        return out
    finally:
        lm.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callcoach_bench.check", description=__doc__.split("\n")[0])
    parser.add_argument("--base", choices=tuple(VARIANTS), default="neutral")
    parser.add_argument("--top", type=int, default=4, help="largest changes shown per action")
    args = parser.parse_args(argv)
    print("| cue | largest blendshape changes | largest geometry changes (IOD units) | ms/frame |")
    print("|---|---|---|---|")
    for d in action_deltas(args.base):
        bs, geo = d.top(args.top)
        print(
            f"| {d.cue} | "
            + ", ".join(f"{k} {v:+.2f}" for k, v in bs)
            + " | "
            + ", ".join(f"{k} {v:+.3f}" for k, v in geo)
            + f" | {d.render_ms:.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
