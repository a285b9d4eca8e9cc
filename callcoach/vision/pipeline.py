"""Vision stage: a frame in, a pixel-free ``FrameObservation`` out.

Per frame: the full-frame landmarker (VIDEO mode, so it tracks instead of re-detecting), followed small
faces on enlarged crops, a tiled search when faces are missing, pose, landmark geometry and the appearance
model. Nothing here keeps a frame after ``observe`` returns.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from callcoach.sources.base import Frame
from callcoach.vision.appearance import AppearanceModel
from callcoach.vision.finder import Box, FaceFinder, iou, landmark_box
from callcoach.vision.geometry import measures
from callcoach.vision.landmarker import Landmarker, RawFace
from callcoach.vision.pose import canonical_points, head_pose
from callcoach.vision.tracker import FaceTracker
from callcoach.vision.types import FaceObservation, FrameObservation


@dataclass(frozen=True)
class VisionConfig:
    max_faces: int = 6
    #: Faces the full-frame landmarker tracks once a second face has been seen; more are found by the tiled
    #: search and followed on crops. Until then it tracks one face: asking MediaPipe for several makes it
    #: run its detector on every frame, about 13% more time per frame.
    full_frame_faces: int = 4
    #: Run the appearance CNN (about 1 ms per face). Off for the bare-landmarker comparison.
    appearance: bool = True
    #: Tiled search for small faces: seconds between searches while a frame has fewer faces than expected.
    search_interval_s: float = 1.0
    #: Faces smaller than this share of the frame's short side are followed on crops.
    small_face_share: float = 0.18


class VisionPipeline:
    """Owns the models; ``observe`` is called from one thread only."""

    def __init__(self, live: bool = False, config: VisionConfig | None = None) -> None:
        self.config = config or VisionConfig()
        self.live = live
        self._full = Landmarker(max_faces=1, video=True)
        self.multi_face = False
        self._finder = FaceFinder()
        try:
            self._appearance = AppearanceModel() if self.config.appearance else None
        except BaseException:
            # Close what was opened: MediaPipe's own finaliser fails noisily at interpreter exit.
            self._full.close()
            raise
        self._tracker = FaceTracker()
        self._last_search_s = -1e9
        self._search_backoff = 1
        self._faces_at_last_search = -1
        self._frames_seen = 0
        #: Milliseconds per stage, for `callcoach bench speed`.
        self.timings: dict[str, list[float]] = defaultdict(list)

    def _timed(self, stage: str, start: float) -> float:
        now = time.perf_counter()
        self.timings[stage].append((now - start) * 1000)
        return now

    def observe(self, frame: Frame) -> FrameObservation:
        rgb = frame.image
        height, width = rgb.shape[:2]
        t0 = time.perf_counter()
        faces: list[RawFace] = self._full.detect(rgb, frame.t_s)
        boxes: list[Box] = [landmark_box(f, width, height) for f in faces]
        small = [False] * len(faces)
        t0 = self._timed("landmarker", t0)

        # Follow small faces found earlier by the tiled search on crops around their last position.
        for track in self._tracker.small_tracks(frame.t_s):
            if any(iou(track.box, b) > 0.2 for b in boxes):
                continue
            face = self._finder.landmark_crop(rgb, track.box)
            if face is not None:
                faces.append(face)
                boxes.append(landmark_box(face, width, height))
                small.append(True)

        if self._should_search(faces, boxes, width, height, frame.t_s):
            self._last_search_s = frame.t_s
            before = len(faces)
            for box in self._finder.search(rgb):
                # Tiles cut faces in half, so a tile's box can overlap a known face only a little.
                if len(faces) >= self.config.max_faces or any(_covers(b, box) for b in boxes):
                    continue
                face = self._finder.landmark_crop(rgb, box)
                if face is None:
                    continue
                found = landmark_box(face, width, height)
                # The mesh must land where the detector saw a face: on an ear or a hand the landmarker
                # tends to "find" a face elsewhere in the crop.
                if iou(found, box) < 0.25 or any(_covers(b, found) for b in boxes):
                    continue
                faces.append(face)
                boxes.append(found)
                small.append(True)
                self._go_multi_face()
            # A search that finds nobody new on a steady gallery backs off (up to 8x), since each one is a
            # 30-60 ms spike that makes a live source drop frames; a change in faces resets it.
            steady = len(faces) == before and before == self._faces_at_last_search
            self._search_backoff = min(8, self._search_backoff * 2) if steady else 1
            self._faces_at_last_search = len(faces)
        t0 = self._timed("search", t0)

        short = min(width, height)
        limit = self.config.small_face_share * short
        small = [s and max(b[2], b[3]) < limit for s, b in zip(small, boxes, strict=True)]
        # The first frame of a source (a photo, the start of a clip) needs no second sighting.
        ids = self._tracker.assign(boxes, frame.t_s, small, confirm_now=self._frames_seen == 0)
        self._frames_seen += 1
        scale = np.array([width, height, width], dtype=np.float32)
        pixels = [f.landmarks * scale for f in faces]
        emotions: list[dict[str, float] | None] = [None] * len(faces)
        if self._appearance is not None and faces:
            emotions = list(self._appearance.predict(rgb, pixels))
        t0 = self._timed("appearance", t0)

        observed = []
        for face, face_id, box, emotion in zip(faces, ids, boxes, emotions, strict=True):
            if face_id is None:
                continue  # seen once so far: could be a false detection
            canon = canonical_points(face.landmarks, face.matrix, width, height)
            observed.append(
                FaceObservation(
                    face_id=face_id,
                    bbox=(box[0] / width, box[1] / height, box[2] / width, box[3] / height),
                    pose=head_pose(face.matrix),
                    blendshapes=face.blendshapes,
                    geometry=measures(canon),
                    emotion=emotion,
                )
            )
        self._timed("geometry", t0)
        observed.sort(key=lambda f: f.face_id)
        return FrameObservation(index=frame.index, t_s=frame.t_s, width=width, height=height, faces=tuple(observed))

    def _go_multi_face(self) -> None:
        """A second face exists in this source: from now on the full-frame landmarker tracks several."""
        if self.multi_face or self.config.full_frame_faces <= 1:
            return
        self.multi_face = True
        self._full.close()
        self._full = Landmarker(max_faces=min(self.config.full_frame_faces, self.config.max_faces), video=True)

    def _should_search(self, faces: list[RawFace], boxes: list[Box], width: int, height: int, t_s: float) -> bool:
        """A search costs several detector runs (10-70 ms), so it runs only where it can find something."""
        if len(faces) >= self.config.max_faces:
            return False
        if not faces:
            interval = 0.0 if not self.live else 0.25
        elif any(b[2] > 0.25 * width and b[3] > 0.35 * height for b in boxes):
            return False  # one face fills the frame: a call's speaker view, nobody else to find
        else:
            # Gallery or wide shot: look for more faces now and then.
            interval = self.config.search_interval_s * (1 if not self.live else 3) * self._search_backoff
        return t_s - self._last_search_s >= interval

    def close(self) -> None:
        if self._appearance is not None:
            self._appearance = None
        self._full.close()
        self._finder.close()


def _covers(known: Box, box: Box) -> bool:
    """True when ``box`` is (part of) the head already at ``known``.

    Tiles cut faces in half, and beside a face the detector also fires on its ear or a raised hand; a
    smaller box centred within half a face-width of a known face is taken as part of that head (faces in a
    gallery view sit in separate tiles, well apart).
    """
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    mx, my = known[2] * 0.5, known[3] * 0.5
    near = known[0] - mx <= cx <= known[0] + known[2] + mx and known[1] - my <= cy <= known[1] + known[3] + my
    smaller = max(box[2], box[3]) < 0.7 * max(known[2], known[3])
    return (near and smaller) or iou(known, box) > 0.2
