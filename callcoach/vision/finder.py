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
        if self._detector is None:
            self._detector = FaceDetector(min_confidence=0.5)
        height, width = rgb.shape[:2]
        found: list[tuple[Box, float]] = [((x, y, w, h), s) for x, y, w, h, s in self._detector.detect(rgb)]
        for x0, y0, side in tiles(width, height):
            for x, y, w, h, s in self._detector.detect(rgb[y0 : y0 + side, x0 : x0 + side]):
                found.append(((x0 + x, y0 + y, w, h), s))
        return _nms(found)

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
        crop = cv2.warpAffine(rgb, m, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT)
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
