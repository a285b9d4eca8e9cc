"""Stable face ids across frames, so each person in a gallery view keeps their own baseline."""

from __future__ import annotations

from dataclasses import dataclass

from callcoach.vision.finder import Box, iou


@dataclass
class Track:
    face_id: int
    box: Box
    last_seen_s: float
    #: Found by the tiled search and followed on crops (too small for the full-frame landmarker).
    small: bool = False


class FaceTracker:
    """Greedy IoU association with a grace period, so a face lost for a blink of the tracker keeps its id."""

    def __init__(self, keep_s: float = 1.0, min_iou: float = 0.2) -> None:
        self.keep_s = keep_s
        self.min_iou = min_iou
        self.tracks: list[Track] = []
        self._next_id = 0

    def assign(self, boxes: list[Box], t_s: float, small: list[bool] | None = None) -> list[int]:
        """Face ids for ``boxes`` (same order); unmatched boxes open new tracks."""
        small = small or [False] * len(boxes)
        self.tracks = [tr for tr in self.tracks if t_s - tr.last_seen_s <= self.keep_s]
        pairs = sorted(
            ((iou(b, tr.box), bi, ti) for bi, b in enumerate(boxes) for ti, tr in enumerate(self.tracks)),
            reverse=True,
        )
        ids: list[int | None] = [None] * len(boxes)
        used: set[int] = set()
        for score, bi, ti in pairs:
            if score < self.min_iou:
                break
            if ids[bi] is not None or ti in used:
                continue
            ids[bi] = self.tracks[ti].face_id
            used.add(ti)
            tr = self.tracks[ti]
            tr.box, tr.last_seen_s, tr.small = boxes[bi], t_s, small[bi]
        for bi, face_id in enumerate(ids):
            if face_id is None:
                ids[bi] = self._next_id
                self.tracks.append(Track(self._next_id, boxes[bi], t_s, small[bi]))
                self._next_id += 1
        return [i for i in ids if i is not None]

    def small_tracks(self, t_s: float) -> list[Track]:
        return [tr for tr in self.tracks if tr.small and tr.last_seen_s < t_s]
