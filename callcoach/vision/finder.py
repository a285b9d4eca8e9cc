"""Finding small or distant faces, and landmarking them on an enlarged crop.

The detector inside ``face_landmarker.task`` is short-range: it looks at a 128x128 copy of the whole
frame, so a face that fills little of a wide frame (a gallery tile, a courtroom shot) shrinks to a few
pixels and is missed. Scanning overlapping tiles at two scales gives it faces of a size it can see; the
landmarker then runs on an enlarged crop around each face found, and the points are mapped back.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from callcoach.vision.landmarker import FaceDetector, Landmarker, RawFace

Box = tuple[float, float, float, float]  # x, y, w, h in frame pixels

# A face crop this many times the face box: enough context for the detector inside the landmarker.
CROP_FACTOR = 2.4
CROP_SIZE = 256


def iou(a: Box, b: Box) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def landmark_box(face: RawFace, width: int, height: int) -> Box:
    xs = face.landmarks[:, 0] * width
    ys = face.landmarks[:, 1] * height
    x0, y0 = float(xs.min()), float(ys.min())
    return (x0, y0, float(xs.max()) - x0, float(ys.max()) - y0)


def tiles(width: int, height: int) -> Iterator[tuple[int, int, int]]:
    """Square tiles (x, y, side) at two scales with 25% overlap."""
    short = min(width, height)
    for side in (short // 2, short // 4):
        if side < 96:
            continue
        step = max(1, int(side * 0.75))
        for y in range(0, max(1, height - side + step), step):
            for x in range(0, max(1, width - side + step), step):
                yield min(x, width - side), min(y, height - side), side


Region = tuple[int, int, int, int]  # x, y, w, h of a part of the frame the detector is run on


def search_regions(width: int, height: int) -> list[Region]:
    """What one full search looks at, in order: the whole frame, then every tile."""
    return [(0, 0, width, height)] + [(x, y, side, side) for x, y, side in tiles(width, height)]


class SearchSweep:
    """One search split into parts of at most ``per_frame`` regions, one part per frame.

    A full search on a 720p gallery is 66 detector runs, a 150-300 ms spike that makes a live source drop
    frames; four regions a frame cost 7-10 ms, and a sweep still covers a 720p frame in 17 frames (about a second).
    ``per_frame=None`` does the whole search in one part, as `callcoach analyze` does.
    """

    def __init__(self, per_frame: int | None = None) -> None:
        if per_frame is not None and per_frame < 1:
            raise ValueError(f"per_frame must be 1 or more, got {per_frame}")
        self.per_frame = per_frame
        self._regions: list[Region] = []
        self._next = 0
        self._size = (0, 0)
        #: Faces in view when the running sweep started, for the backoff on a steady gallery.
        self.faces_at_start = 0

    @property
    def active(self) -> bool:
        return self._next < len(self._regions)

    def start(self, width: int, height: int, faces: int) -> None:
        self._regions = search_regions(width, height)
        self._next = 0
        self._size = (width, height)
        self.faces_at_start = faces

    def next_part(self, width: int, height: int) -> list[Region]:
        """The regions to search in this frame; a change of frame size abandons the sweep."""
        if (width, height) != self._size:
            self.cancel()
            return []
        end = len(self._regions) if self.per_frame is None else self._next + self.per_frame
        part = self._regions[self._next : end]
        self._next += len(part)
        return part

    def cancel(self) -> None:
        self._regions, self._next = [], 0


def _nms(boxes: list[tuple[Box, float]], threshold: float = 0.3) -> list[Box]:
    kept: list[Box] = []
    for box, _score in sorted(boxes, key=lambda b: -b[1]):
        if all(iou(box, k) < threshold for k in kept):
            kept.append(box)
    return kept


class FaceFinder:
    """Multi-scale face search plus crop landmarking; both models are created on first use."""

    def __init__(self) -> None:
        self._detector: FaceDetector | None = None
        self._crop_marker: Landmarker | None = None

    def search(self, rgb: np.ndarray) -> list[Box]:
        """Boxes of faces anywhere in the frame, small ones included (tens of ms on a 1080p frame)."""
        height, width = rgb.shape[:2]
        return self.search_regions(rgb, search_regions(width, height))

    def search_regions(self, rgb: np.ndarray, regions: list[Region]) -> list[Box]:
        """Boxes of faces found in ``regions`` of the frame (a part of a sweep, or all of it)."""
        if self._detector is None:
            self._detector = FaceDetector(min_confidence=0.5)
        found: list[tuple[Box, float]] = []
        for x0, y0, w0, h0 in regions:
            for x, y, w, h, s in self._detector.detect(rgb[y0 : y0 + h0, x0 : x0 + w0]):
                found.append(((x0 + x, y0 + y, w, h), s))
        return _nms(found)

    def warm_up(self) -> None:
        """Create both models and run them once on a blank image, so the first live search is not a spike."""
        blank = np.zeros((CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
        self.search_regions(blank, [(0, 0, CROP_SIZE, CROP_SIZE)])
        self.landmark_crop(blank, (96.0, 96.0, 64.0, 64.0))

    def landmark_crop(self, rgb: np.ndarray, box: Box) -> RawFace | None:
        """Run the landmarker on an enlarged square crop around ``box``; points come back frame-normalised."""
        import cv2

        if self._crop_marker is None:
            self._crop_marker = Landmarker(max_faces=1, video=False, min_confidence=0.4)
        height, width = rgb.shape[:2]
        side = max(box[2], box[3]) * CROP_FACTOR
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        x0, y0 = cx - side / 2, cy - side / 2
        scale = CROP_SIZE / side
        m = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]], dtype=np.float32)
        crop = cv2.warpAffine(rgb, m, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        faces = self._crop_marker.detect(crop)
        if not faces:
            return None
        face = faces[0]
        marks = face.landmarks.copy()
        marks[:, 0] = (x0 + marks[:, 0] * side) / width
        marks[:, 1] = (y0 + marks[:, 1] * side) / height
        marks[:, 2] = marks[:, 2] * side / width
        return RawFace(marks, face.blendshapes, face.matrix)

    def close(self) -> None:
        for task in (self._detector, self._crop_marker):
            if task is not None:
                task.close()
        self._detector = self._crop_marker = None
