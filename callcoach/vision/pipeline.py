"""Vision stage: a frame in, a pixel-free ``FrameObservation`` out.

Per frame: the full-frame landmarker (VIDEO mode, so it tracks instead of re-detecting), followed small
faces on enlarged crops, a tiled search when faces are missing, pose, landmark geometry and the appearance
model. Nothing here keeps a frame after ``observe`` returns.

Live (``live=True``) keeps every frame under its budget instead of paying in spikes: the models are loaded
and run once before the first frame, a search is spread over frames, and on a gallery each face's
appearance CNN runs every second frame. ``live=False`` (`callcoach analyze`, the benches) searches all at
once and runs each face's appearance CNN every ``appearance_period`` frames (2: the CNN was a third of
analyze's cost over the bare landmarker; docs/detector.md, Speed).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from callcoach.sources.base import Frame
from callcoach.vision.appearance import AppearanceModel, StaggeredAppearance
from callcoach.vision.finder import Box, FaceFinder, SearchSweep, iou, landmark_box
from callcoach.vision.geometry import measures
from callcoach.vision.landmarker import Landmarker, RawFace
from callcoach.vision.occlusion import LipMemory, hidden_regions
from callcoach.vision.pose import canonical_points, head_pose
from callcoach.vision.tracker import FaceTracker
from callcoach.vision.types import FaceObservation, FrameObservation

_LIVE_TIMINGS = 4096
# A face found by the search but not yet landmarked is tried on later frames for this long (it moves
# little in a third of a second, and the crop is 2.4 face sizes wide).
_PENDING_S = 0.35
_LIP_MEMORIES = 64


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
    #: Live only: search regions per frame (a sweep of a 720p gallery then takes 17 frames), so a search is
    #: a ~10 ms share of each frame instead of one 150-300 ms spike that drops frames. None: all at once.
    live_search_regions_per_frame: int | None = 4
    #: Live, several faces: each face's appearance CNN runs every this many frames; its last probabilities
    #: are reused in between (the cue engine reads them at an event's apex and as a slow running mean).
    live_appearance_period: int = 2
    #: Not live (`callcoach analyze`): each confirmed face's appearance CNN runs every this many frames, and
    #: at once on a new face or one that moved; its last probabilities are reused in between. 1: every frame.
    #: Measured on the accuracy bench and the real faces before it was made 2 (docs/detector.md, Speed).
    appearance_period: int = 2
    #: Live: faces found by a search that are landmarked on a crop per frame (10-15 ms each; a gallery's
    #: first frame found three at once). The rest wait a frame or two, by when the full-frame landmarker
    #: has often picked them up itself.
    live_new_faces_per_frame: int | None = 1


class VisionPipeline:
    """Owns the models; ``observe`` is called from one thread only."""

    def __init__(self, live: bool = False, config: VisionConfig | None = None) -> None:
        self.config = config or VisionConfig()
        self.live = live
        # Files are read from their first frame, which a baseline may be taken from: tracks start settled.
        self._full = Landmarker(max_faces=1, video=True, settle=not live)
        self._multi: Landmarker | None = None
        self.multi_face = False
        self._finder = FaceFinder()
        self._appearance: AppearanceModel | None = None
        self._staggered: StaggeredAppearance | None = None
        try:
            self._appearance = AppearanceModel() if self.config.appearance else None
            if live:
                self._warm_up()
        except BaseException:
            # Close what was opened: MediaPipe's own finaliser fails noisily at interpreter exit.
            self.close()
            raise
        self._staggered = StaggeredAppearance(self._appearance.predict) if self._appearance is not None else None
        self._tracker = FaceTracker()
        self._sweep = SearchSweep(self.config.live_search_regions_per_frame if live else None)
        self._pending: list[tuple[Box, float]] = []
        self._last_search_s = -1e9
        self._search_backoff = 1
        self._faces_at_last_search = -1
        self._frames_seen = 0
        self._lips: dict[int, LipMemory] = {}
        #: Milliseconds per stage, for `callcoach bench speed` and `bench live`.
        self.timings: dict[str, list[float]] = defaultdict(list)

    def _timed(self, stage: str, start: float) -> float:
        now = time.perf_counter()
        kept = self.timings[stage]
        kept.append((now - start) * 1000)
        if self.live and len(kept) > 2 * _LIVE_TIMINGS:
            del kept[:-_LIVE_TIMINGS]  # a call can last hours: keep the recent frames only
        return now

    def observe(self, frame: Frame) -> FrameObservation:
        rgb = frame.image
        height, width = rgb.shape[:2]
        t0 = time.perf_counter()
        faces: list[RawFace] = self._full.detect(rgb, frame.t_s)
        boxes: list[Box] = [landmark_box(f, width, height) for f in faces]
        small = [False] * len(faces)
        t0 = self._timed("landmarker", t0)

        self._follow_small(rgb, frame.t_s, faces, boxes, small)
        self._search_new_faces(rgb, frame.t_s, faces, boxes, small)
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
        if self._staggered is not None:
            # Unconfirmed faces are not reported, so their crops are skipped.
            if self.live:
                period = self.config.live_appearance_period if self.multi_face else 1
            else:
                period = self.config.appearance_period
            emotions = self._staggered.predict(rgb, pixels, ids, period)
        t0 = self._timed("appearance", t0)

        observed = []
        for face, face_id, box, emotion, px in zip(faces, ids, boxes, emotions, pixels, strict=True):
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
                    hidden=hidden_regions(rgb, px, self._lip_memory(face_id)),
                )
            )
        self._timed("geometry", t0)
        observed.sort(key=lambda f: f.face_id)
        return FrameObservation(index=frame.index, t_s=frame.t_s, width=width, height=height, faces=tuple(observed))

    def _lip_memory(self, face_id: int) -> LipMemory:
        """This face's own lips, for the occlusion test; a gallery over hours sees few new ids, but cap them."""
        memory = self._lips.pop(face_id, None)
        memory = LipMemory() if memory is None else memory
        self._lips[face_id] = memory  # most recently seen last, so the cap drops the longest unseen
        if len(self._lips) > _LIP_MEMORIES:
            del self._lips[next(iter(self._lips))]
        return memory

    def _follow_small(
        self, rgb: np.ndarray, t_s: float, faces: list[RawFace], boxes: list[Box], small: list[bool]
    ) -> None:
        height, width = rgb.shape[:2]
        # Follow small faces found earlier by the tiled search on crops around their last position.
        for track in self._tracker.small_tracks(t_s):
            if any(iou(track.box, b) > 0.2 for b in boxes):
                continue
            face = self._finder.landmark_crop(rgb, track.box)
            if face is not None:
                faces.append(face)
                boxes.append(landmark_box(face, width, height))
                small.append(True)

    def _search_new_faces(
        self, rgb: np.ndarray, t_s: float, faces: list[RawFace], boxes: list[Box], small: list[bool]
    ) -> None:
        """One part of the tiled small-face search; what it finds is landmarked and added in place."""
        height, width = rgb.shape[:2]
        if self._sweep.active and not self._search_useful(faces, boxes, width, height):
            self._sweep.cancel()
            self._pending = []
        elif not self._sweep.active and self._should_search(faces, boxes, width, height, t_s):
            self._last_search_s = t_s
            self._sweep.start(width, height, len(faces))
        searching = self._sweep.active
        candidates = self._finder.search_regions(rgb, self._sweep.next_part(width, height)) if searching else []
        # Live: faces found by earlier parts of the sweep and not landmarked yet (see below).
        candidates = [b for b, t in self._pending if t_s - t <= _PENDING_S] + candidates
        self._pending = []
        per_frame = self.config.live_new_faces_per_frame if self.live else None
        crops = 0
        for n, box in enumerate(candidates):
            # Tiles cut faces in half, so a tile's box can overlap a known face only a little.
            if len(faces) >= self.config.max_faces or any(_covers(b, box) for b in boxes):
                continue
            if per_frame is not None and crops >= per_frame:
                self._pending = [(b, t_s) for b in candidates[n:]]
                break
            crops += 1
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
        if searching and not self._sweep.active:
            # A search that finds nobody new on a steady gallery backs off (up to 8x): it costs 66 detector
            # runs on a 720p gallery, even spread over frames; a change in faces resets it.
            before = self._sweep.faces_at_start
            steady = len(faces) == before and before == self._faces_at_last_search
            self._search_backoff = min(8, self._search_backoff * 2) if steady else 1
            self._faces_at_last_search = len(faces)

    def _go_multi_face(self) -> None:
        """A second face exists in this source: from now on the full-frame landmarker tracks several."""
        if self.multi_face or self.config.full_frame_faces <= 1:
            return
        self.multi_face = True
        self._full.close()
        self._full = self._multi if self._multi is not None else self._multi_landmarker()
        self._multi = None

    def _multi_landmarker(self) -> Landmarker:
        return Landmarker(
            max_faces=min(self.config.full_frame_faces, self.config.max_faces), video=True, settle=not self.live
        )

    def _warm_up(self) -> None:
        """Live: load now what the first frames would otherwise load or allocate while frames arrive.

        Each costs 10-30 ms on first use (model creation, first-run allocations); on the first frames of a
        gallery they came together and dropped frames. The multi-face landmarker is made in advance
        (about 25 ms and a few MB) so the switch to a gallery is not a spike either.
        """
        blank = np.zeros((64, 64, 3), dtype=np.uint8)
        if self.config.max_faces > 1:
            self._finder.warm_up()
            if self.config.full_frame_faces > 1:
                self._multi = self._multi_landmarker()
        if self._appearance is not None:
            self._appearance.predict(blank, [np.full((478, 3), 32.0, dtype=np.float32)])

    def _search_useful(self, faces: list[RawFace], boxes: list[Box], width: int, height: int) -> bool:
        if len(faces) >= self.config.max_faces:
            return False
        # One face fills the frame: a call's speaker view, nobody else to find.
        return not any(b[2] > 0.25 * width and b[3] > 0.35 * height for b in boxes)

    def _should_search(self, faces: list[RawFace], boxes: list[Box], width: int, height: int, t_s: float) -> bool:
        """A search costs many detector runs (10-300 ms), so it runs only where it can find something."""
        if not self._search_useful(faces, boxes, width, height):
            return False
        if not faces:
            interval = 0.0 if not self.live else 0.25
        else:
            # Gallery or wide shot: look for more faces now and then.
            interval = self.config.search_interval_s * (1 if not self.live else 3) * self._search_backoff
        return t_s - self._last_search_s >= interval

    def close(self) -> None:
        self._appearance = self._staggered = None
        for marker in (self._full, self._multi):
            if marker is not None:
                marker.close()
        self._multi = None
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
