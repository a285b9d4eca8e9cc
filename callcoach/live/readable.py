"""Whether the faces in a live frame can be read reliably, and if not, why (in words for the panel)."""

from __future__ import annotations

import numpy as np

from callcoach.cues.engine import CueEngine
from callcoach.vision.types import FrameObservation

# A face under ~40 px tall gives landmarks too coarse for millimetre movements; mean RGB levels outside
# 35..235 (of 255) leave too little contrast on the face to read.
MIN_FACE_PX = 40
DARK, BRIGHT = 35.0, 235.0


def unreadable_reason(obs: FrameObservation, image: np.ndarray, engine: CueEngine) -> str | None:
    """None when no face is in view or one of them can be read; else why the first one cannot.

    Too small, too dark or washed out (sampled on every 4th pixel of the face box), or turned away or
    moving fast (the cue engine has muted its channels).
    """
    if not obs.faces:
        return None
    height, width = image.shape[:2]
    reasons = []
    for face in obs.faces:
        x, y, w, h = face.bbox
        x0, y0 = max(0, int(x * width)), max(0, int(y * height))
        patch = image[y0 : y0 + max(1, int(h * height)) : 4, x0 : x0 + max(1, int(w * width)) : 4]
        level = float(patch.mean()) if patch.size else 0.0
        if h * height < MIN_FACE_PX:
            reasons.append("the face is too small")
        elif level < DARK or level > BRIGHT:
            reasons.append("the lighting is too dark" if level < DARK else "the face is washed out")
        elif not engine.face_reliable(face.face_id):
            reasons.append("the head is turned away")
        else:
            return None  # one readable face is enough to coach
    return reasons[0]


def hidden_notice(obs: FrameObservation, engine: CueEngine) -> str | None:
    """A short notice when a hand or an object covers part of the face in view ("mouth hidden", "eyes
    hidden", "eyes and mouth hidden").

    The face can still be read elsewhere, so this is a notice beside "face locked", not the unreadable
    state; the engine reads no cue from the covered region meanwhile."""
    for face in obs.faces:
        hidden = engine.face_hidden(face.face_id)
        if hidden:
            return " and ".join(sorted(hidden)) + " hidden"
    return None
