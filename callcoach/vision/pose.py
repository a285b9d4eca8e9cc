"""Head pose from MediaPipe's facial transformation matrix, and pose removal for landmark geometry."""

from __future__ import annotations

import math

import numpy as np

from callcoach.vision.types import HeadPose


def head_pose(matrix: np.ndarray) -> HeadPose:
    """Yaw, pitch and roll in degrees from the 4x4 canonical-face-to-camera matrix.

    Convention: yaw > 0 turns the face toward the image's left, pitch > 0 tilts the chin up, roll > 0
    tilts the head toward the image's right shoulder. Only changes of pose matter to the cue engine.
    """
    r = matrix[:3, :3]
    # Rotation order Y-X-Z (yaw, pitch, roll) is stable for the small ranges a face on a call shows.
    pitch = math.degrees(math.asin(float(np.clip(-r[1, 2], -1.0, 1.0))))
    yaw = math.degrees(math.atan2(float(r[0, 2]), float(r[2, 2])))
    roll = math.degrees(math.atan2(float(r[1, 0]), float(r[1, 1])))
    return HeadPose(yaw=yaw, pitch=pitch, roll=roll)


def canonical_points(landmarks: np.ndarray, matrix: np.ndarray, width: int, height: int) -> np.ndarray:
    """Landmarks with the head rotation removed: a frontal, upright face in pixel-like units.

    Measures taken on these points change with expression, not with where the head looks, which is what
    lets one baseline serve through the small turns people make while talking.
    """
    # Image space (x right, y down, z away from camera) to the matrix's camera space (y up, z toward camera).
    pts = np.empty_like(landmarks, dtype=np.float32)
    pts[:, 0] = landmarks[:, 0] * width
    pts[:, 1] = -landmarks[:, 1] * height
    pts[:, 2] = -landmarks[:, 2] * width
    pts -= pts.mean(axis=0)
    rot = matrix[:3, :3].astype(np.float32)
    # Rotation part may carry scale; normalise each column so we only undo rotation.
    rot = rot / np.linalg.norm(rot, axis=0, keepdims=True)
    # numpy's stubs type arithmetic on arrays of unknown dtype as Any: name what this is.
    canonical: np.ndarray = pts @ rot  # row vectors: R^T p
    return canonical
