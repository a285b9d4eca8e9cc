"""Stable face ids across frames, so each person keeps one id, and with it one baseline.

Three rules, each for a failure seen on real clips:
- a new face is reported only once it has been seen in three consecutive frames (or on a source's first
  frame), so a one-frame false detection does not open a new person with a new baseline;
- a face missed for up to ``keep_s`` keeps its id (a blink of the tracker);
- a face that comes back after leaving (up to ``dormant_s`` later) near where a known face was, at a
  similar size, gets that person's id back instead of a new one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from callcoach.vision.finder import Box, iou


@dataclass
class Track:
    box: Box
    last_seen_s: float
    #: Found by the tiled search and followed on crops (too small for the full-frame landmarker).
    small: bool = False
    hits: int = 1
    #: None until the track is confirmed.
    face_id: int | None = None
    #: The only face in the frame when last seen.
    alone: bool = False


def _same_place(a: Box, b: Box) -> bool:
    size_a, size_b = max(a[2], a[3]), max(b[2], b[3])
    # A person leaning in or back, or a camera zoom, changes the face size by up to 2x.
    if not 0.5 <= size_a / max(size_b, 1e-6) <= 2.0:
        return False
    dx = (a[0] + a[2] / 2) - (b[0] + b[2] / 2)
    dy = (a[1] + a[3] / 2) - (b[1] + b[3] / 2)
    return math.sqrt(dx * dx + dy * dy) < max(size_a, size_b)


class FaceTracker:
    """Greedy IoU association, confirmation after three hits, and re-identification by place."""

    def __init__(
        self,
        keep_s: float = 1.0,
        dormant_s: float = 30.0,
        min_iou: float = 0.2,
        min_hits: int = 3,
        brief_s: float = 3.0,
    ) -> None:
        self.keep_s = keep_s
        self.brief_s = brief_s
        self.dormant_s = dormant_s
        self.min_iou = min_iou
        self.min_hits = min_hits
        self.tracks: list[Track] = []
        self._dormant: list[Track] = []
        self._next_id = 0

    def assign(
        self, boxes: list[Box], t_s: float, small: list[bool] | None = None, confirm_now: bool = False
    ) -> list[int | None]:
        """Face ids for ``boxes`` (same order); None for a face not confirmed yet."""
        small = small or [False] * len(boxes)
        live = []
        for tr in self.tracks:
            if t_s - tr.last_seen_s <= self.keep_s:
                live.append(tr)
            elif tr.face_id is not None:
                self._dormant.append(tr)
        self.tracks = live
        self._dormant = [tr for tr in self._dormant if t_s - tr.last_seen_s <= self.dormant_s]
        pairs = sorted(
            ((iou(b, tr.box), bi, ti) for bi, b in enumerate(boxes) for ti, tr in enumerate(self.tracks)),
            reverse=True,
        )
        matched: list[Track | None] = [None] * len(boxes)
        used: set[int] = set()
        for score, bi, ti in pairs:
            if score < self.min_iou:
                break
            if matched[bi] is not None or ti in used:
                continue
            used.add(ti)
            tr = self.tracks[ti]
            consecutive = t_s - tr.last_seen_s <= self.keep_s
            tr.hits = tr.hits + 1 if consecutive else 1
            tr.box, tr.last_seen_s, tr.small, tr.alone = boxes[bi], t_s, small[bi], len(boxes) == 1
            matched[bi] = tr
        # Confirmed faces not seen in this frame may be the same person, moved too far for IoU.
        unseen = [tr for ti, tr in enumerate(self.tracks) if ti not in used and tr.face_id is not None]
        # Boxes with no identity yet: when one face is lost and one appears, within keep_s, and nothing
        # else is new, it is the same person after a fast move (a turn, a camera cut, a zoom).
        anonymous = sum(1 for tr in matched if tr is None or tr.face_id is None)
        ids: list[int | None] = []
        for bi, found in enumerate(matched):
            track = found if found is not None else Track(boxes[bi], t_s, small[bi], alone=len(boxes) == 1)
            if found is None:
                self.tracks.append(track)
            if track.face_id is None and (track.hits >= self.min_hits or confirm_now):
                track.face_id = self._identify(track, unseen, lone=anonymous == 1, t_s=t_s)
            ids.append(track.face_id)
        return ids

    def _identify(self, track: Track, unseen: list[Track], lone: bool = False, t_s: float = 0.0) -> int:
        old = next(
            (o for o in sorted(unseen + self._dormant, key=lambda d: -d.last_seen_s) if _same_place(o.box, track.box)),
            None,
        )
        if old is None and lone and len(unseen) == 1:
            old = unseen[0]
        if old is None and track.alone and not unseen:
            # The only face in view, back within brief_s after the only face there was went missing:
            # the same person, re-found elsewhere (a camera cut, a turn away and back). A longer absence
            # stays with the place rule: by then another person may have taken the seat.
            brief = [o for o in self._dormant if o.alone and t_s - o.last_seen_s <= self.brief_s]
            others = [o for o in self.tracks if o is not track and o.face_id is not None]
            if len(brief) == 1 and not others:
                old = brief[0]
        if old is None:
            face_id = self._next_id
            self._next_id += 1
            return face_id
        if old in self._dormant:
            self._dormant.remove(old)
        else:
            self.tracks.remove(old)
            unseen.remove(old)
        assert old.face_id is not None
        return old.face_id

    def small_tracks(self, t_s: float) -> list[Track]:
        return [tr for tr in self.tracks if tr.small and tr.last_seen_s < t_s]
