"""A hand or an object over the mouth or the eyes (``callcoach.vision.occlusion``) and what the engine and the
panel do with it. Unit tests on a drawn face with known landmarks and on scripted series; integration
tests paste a hand or dark glasses over real faces of the test media at run time (nothing is written to
disk). Figures: docs/detector.md, Occlusion."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from scripted import BLINK, BROW_RAISE, CRINKLE, SMILE, Move, Script

from callcoach.cues.engine import CueEngine, EngineConfig
from callcoach.cues.vocabulary import Cue
from callcoach.live.readable import hidden_notice
from callcoach.sources import open_source
from callcoach.vision.occlusion import (
    _LIPS_INNER,
    _LIPS_OUTER,
    FLAT_DETAIL,
    FLAT_SPREAD,
    LIP_LEVEL,
    LIP_PALER,
    LIP_REDNESS,
    LIP_RISE,
    VERTICAL_SHARE,
    LipMemory,
    _flat,
    _mouth_roi,
    cheek_light,
    hidden_regions,
    lips_against_skin,
    vertical_edge_share,
)
from callcoach.vision.types import FrameObservation
from callcoach_bench.occluders import paste_glasses, paste_hand

_OUTLINES = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466),
)


def drawn_face(closed: bool = False, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A plain drawn face (skin with shading and grain, two eyes, lips with a slit) and its landmarks."""
    rng = np.random.default_rng(seed)
    h, w = 360, 480
    ys = np.mgrid[0:h, 0:w][0].astype(np.float32)
    skin = np.array([200.0, 160.0, 140.0]) * (0.85 + 0.25 * (1 - ys / h))[..., None]
    image = np.clip(skin + rng.normal(0, 3, (h, w, 3)), 0, 255).astype(np.uint8)
    points = np.zeros((478, 3), np.float64)
    for side, cx in ((0, 190), (1, 290)):
        cy, rx, ry = 150, 26, 3 if closed else 11
        angles = np.linspace(np.pi, -np.pi, len(_OUTLINES[side]), endpoint=False)
        for k, i in enumerate(_OUTLINES[side]):
            points[i, :2] = (cx + rx * np.cos(angles[k]) * (1 if side else -1), cy + ry * np.sin(angles[k]))
        if closed:
            cv2.ellipse(image, (cx, cy + 2), (rx, 4), 0, 0, 180, (60, 40, 35), 2, cv2.LINE_AA)  # the lash line
        else:
            cv2.ellipse(image, (cx, cy), (rx, ry), 0, 0, 360, (235, 235, 230), -1, cv2.LINE_AA)
            cv2.circle(image, (cx, cy), 9, (70, 50, 40), -1, cv2.LINE_AA)
            cv2.ellipse(image, (cx, cy), (rx, ry), 0, 0, 360, (50, 35, 30), 2, cv2.LINE_AA)
        cv2.ellipse(image, (cx, cy - 26), (30, 5), 0, 180, 360, (90, 65, 50), 4, cv2.LINE_AA)  # brow
    points[33, :2], points[263, :2] = (164, 150), (316, 150)
    points[133, :2], points[362, :2] = (216, 150), (264, 150)
    points[205, :2], points[425, :2] = (185, 215), (295, 215)  # cheeks
    points[2, :2], points[152, :2] = (240, 215), (240, 320)  # nose base, chin
    # The lips' outlines, so the lips' own pixels can be read (a corner, then along the lower lip and back).
    for ids, (rx, ry) in ((_LIPS_OUTER, (36, 12)), (_LIPS_INNER, (30, 2))):
        for k, i in enumerate(ids):
            angle = np.pi - k * 2 * np.pi / len(ids)
            points[i, :2] = (240 + rx * np.cos(angle), 262 + ry * np.sin(angle))
    points[61, :2], points[291, :2] = (205, 262), (275, 262)  # mouth corners
    cv2.ellipse(image, (240, 262), (36, 12), 0, 0, 360, (170, 90, 90), -1, cv2.LINE_AA)
    cv2.line(image, (206, 262), (274, 262), (70, 30, 30), 2, cv2.LINE_AA)
    return image, points


def test_a_drawn_face_open_or_closed_eyes_is_not_hidden() -> None:
    for closed in (False, True):
        image, points = drawn_face(closed)
        assert hidden_regions(image, points) == frozenset(), closed


def test_a_hand_over_one_eye_or_both_hides_the_eyes_only() -> None:
    image, points = drawn_face()
    for target, pose in (("eye_r", "slant"), ("eye_l", "up"), ("eyes", "flat")):
        covered = paste_hand(image, points, target, pose, seed=1)  # type: ignore[arg-type]
        assert hidden_regions(covered, points) == frozenset({"eyes"}), (target, pose)


def test_dark_glasses_hide_the_eyes() -> None:
    image, points = drawn_face()
    assert hidden_regions(paste_glasses(image, points, seed=2), points) == frozenset({"eyes"})


def test_a_hand_over_the_mouth_flat_upright_or_slanted_hides_it() -> None:
    image, points = drawn_face()
    for pose in ("flat", "up", "slant"):
        covered = paste_hand(image, points, "mouth", pose, seed=3)
        assert "mouth" in hidden_regions(covered, points), pose


def test_a_dark_room_is_not_dark_glasses() -> None:
    # The whole face dim (a dark room): the eyes are as dark as the cheeks, not darker.
    image, points = drawn_face()
    dim = (image.astype(np.float32) * 0.25).astype(np.uint8)
    assert "eyes" not in hidden_regions(dim, points)


# --- the engine and the panel --------------------------------------------------------------------------


def run(frames: Iterator[FrameObservation] | list[FrameObservation]) -> tuple[list[Cue], CueEngine]:
    engine = CueEngine(EngineConfig())
    events = [e for o in frames for e in engine.update(o)] + list(engine.finish())
    return [e for e in events if isinstance(e, Cue)], engine


def covered(frames: Iterator[FrameObservation], region: str, start: float, end: float) -> list[FrameObservation]:
    return [
        dataclasses.replace(o, faces=tuple(dataclasses.replace(f, hidden=frozenset({region})) for f in o.faces))
        if start <= o.t_s <= end
        else o
        for o in frames
    ]


def test_hidden_eyes_give_no_brow_or_blink_cue() -> None:
    blinks = [Move(7.0 + k * 0.45, 7.15 + k * 0.45, BLINK) for k in range(4)]
    moves = [Move(3.0, 4.0, BROW_RAISE), Move(9.5, 10.5, BROW_RAISE), *blinks]
    seen, _ = run(Script(duration=13.0, moves=moves).frames())
    assert any(c.cue == "eyebrow_flash" and 9.5 <= c.apex_s <= 10.5 for c in seen)
    assert any(c.cue == "blink_cluster" for c in seen)
    cues, _ = run(covered(Script(duration=13.0, moves=moves).frames(), "eyes", 6.5, 11.0))
    assert any(c.cue == "eyebrow_flash" and 3.0 <= c.apex_s <= 4.0 for c in cues)  # before the hand
    assert not [c for c in cues if 6.5 <= c.apex_s <= 11.6], cues


def test_a_smile_behind_dark_glasses_is_seen_but_not_called_felt() -> None:
    # The mouth is seen; the eye crinkle that would make the smile felt is behind the lenses.
    moves = [Move(3.0, 4.5, {**SMILE, **CRINKLE})]
    seen, _ = run(Script(duration=7.0, moves=moves).frames())
    assert [c.cue for c in seen] == ["duchenne_smile"]
    cues, _ = run(covered(Script(duration=7.0, moves=moves).frames(), "eyes", 2.5, 5.0))
    assert [c.cue for c in cues] == ["polite_smile"]


def test_the_panel_says_which_region_is_hidden() -> None:
    frames = covered(Script(duration=6.0).frames(), "eyes", 4.0, 6.0)
    engine = CueEngine(EngineConfig())
    notices = []
    for o in frames:
        list(engine.update(o))
        notices.append(hidden_notice(o, engine))
    assert notices[0] is None and notices[-1] == "eyes hidden"
    both = [
        dataclasses.replace(o, faces=(dataclasses.replace(o.faces[0], hidden=frozenset({"eyes", "mouth"})),))
        for o in frames
    ]
    engine = CueEngine(EngineConfig())
    for o in both:
        list(engine.update(o))
    assert hidden_notice(both[-1], engine) == "eyes and mouth hidden"


# --- real faces, covered at run time ---------------------------------------------------------------------


@pytest.mark.slow
def test_covers_pasted_over_real_faces_are_found_and_clear_faces_are_not(real_media: Path) -> None:
    from callcoach.vision.landmarker import Landmarker

    still = Landmarker(max_faces=1, video=False)

    def regions(image: np.ndarray) -> frozenset[str] | None:
        faces = still.detect(image, 0.0)
        if not faces:
            return None
        h, w = image.shape[:2]
        return hidden_regions(image, faces[0].landmarks * np.array([w, h, w]))

    frames = [f.image for f in open_source(real_media / "single_face.mp4").frames()]
    frames += [f.image for f in open_source(real_media / "WolfgangLanger_Pexels.mp4").frames()][240:472:40]
    try:
        results: dict[str, list[frozenset[str] | None]] = {}
        for k, image in enumerate(frames[::6]):
            clear = still.detect(image, 0.0)[0]
            h, w = image.shape[:2]
            points = clear.landmarks * np.array([w, h, w])
            results.setdefault("clear", []).append(regions(image))
            results.setdefault("mouth", []).append(regions(paste_hand(image, points, "mouth", "flat", k)))
            results.setdefault("eye", []).append(regions(paste_hand(image, points, "eye_r", "slant", k)))
            results.setdefault("glasses", []).append(regions(paste_glasses(image, points, k)))
    finally:
        still.close()
    n = len(results["clear"])
    assert n >= 12
    assert all(r == frozenset() for r in results["clear"])
    # A pasted hand can throw the landmarker off now and then (no face): the rest must read hidden.
    assert sum(r is not None and "mouth" in r for r in results["mouth"]) >= 0.8 * n
    assert sum(r is not None and "eyes" in r for r in results["eye"]) >= 0.8 * n
    assert sum(r is not None and "eyes" in r for r in results["glasses"]) >= 0.8 * n
    assert not any(r is not None and "eyes" in r for r in results["mouth"])
    assert not any(r is not None and "mouth" in r for r in results["glasses"])


def test_a_sure_happy_reading_does_not_make_a_smile_felt_behind_covered_eyes() -> None:
    # The appearance CNN reads the whole crop, glasses and all, and may be sure of happiness; whether the
    # smile reached the eyes cannot be seen there, so it stays a polite smile (docs/detector.md, Occlusion).
    from callcoach.cues.channels import ApexReading, name_cue

    reading = {"happiness": 0.95, "neutral": 0.03, "surprise": 0.02}
    plain = ApexReading(crinkle=0.0, widen=0.0, jaw=0.0, stretch=0.0, asym=0.0, corner=2.0)
    covered = dataclasses.replace(plain, eyes_hidden=True)
    assert name_cue("smile", plain, reading) == ("duchenne_smile", "happiness")
    assert name_cue("smile", covered, reading) == ("polite_smile", None)


def fingers_across_the_lips(image: np.ndarray) -> np.ndarray:
    """Four fingers laid flat across the drawn mouth: skin with horizontal seams and shading, so the cover
    has texture and dark detail (not flat) and its edges run across the face, as the lips' do."""
    out = image.copy()
    for k, y in enumerate(range(244, 284, 10)):
        shade = 0.95 + 0.04 * k
        cv2.rectangle(out, (192, y), (292, y + 9), tuple(int(c * shade) for c in (205, 165, 145)), -1)
        cv2.line(out, (192, y + 9), (292, y + 9), (120, 85, 70), 2, cv2.LINE_AA)
    return out


def followed(image: np.ndarray, points: np.ndarray, frames: int = 30) -> LipMemory:
    """A lip memory that has followed this face for ``frames`` frames with its mouth seen."""
    memory = LipMemory()
    for _ in range(frames):
        assert "mouth" not in hidden_regions(image, points, memory)
    return memory


def test_a_hand_laid_across_the_lips_hides_them_by_their_level_and_colour() -> None:
    # The seams and the shading keep the older two tests quiet: only the lips against the cheeks (a hand is
    # skin; lips are darker and redder) find it.
    image, points = drawn_face()
    seen = lips_against_skin(image, points, cheek_light(image, points))
    assert seen is not None and seen[0] < -0.15 and seen[1] > 0.3
    hand = fingers_across_the_lips(image)
    roi = _mouth_roi(hand, points)
    assert roi is not None and not _flat(roi, FLAT_DETAIL, FLAT_SPREAD)
    assert (vertical_edge_share(hand, points) or 0.0) <= VERTICAL_SHARE
    covered = lips_against_skin(hand, points, cheek_light(hand, points))
    assert covered is not None and covered[0] > LIP_LEVEL and covered[1] < LIP_REDNESS
    assert hidden_regions(hand, points, followed(image, points)) == frozenset({"mouth"})
    # A photo, or a face not followed long enough: its own lips are unknown, so this test does not speak.
    assert hidden_regions(hand, points) == frozenset()
    assert hidden_regions(hand, points, followed(image, points, frames=10)) == frozenset()


def test_lips_that_always_read_like_skin_are_never_hidden() -> None:
    # Lips are not darker and redder than the cheeks on every face (darker skin, pale lipstick): a face whose
    # own lips always read like its skin keeps its mouth cues.
    image, points = drawn_face()
    pale = image.copy()
    cv2.ellipse(pale, (240, 262), (36, 12), 0, 0, 360, (196, 158, 139), -1, cv2.LINE_AA)
    cv2.line(pale, (206, 262), (274, 262), (70, 30, 30), 2, cv2.LINE_AA)
    lips = lips_against_skin(pale, points, cheek_light(pale, points))
    assert lips is not None and lips[0] > LIP_LEVEL and lips[1] < LIP_REDNESS  # like skin, from the start
    memory = LipMemory()
    assert not any("mouth" in hidden_regions(pale, points, memory) for _ in range(60))


def test_lips_that_only_lose_colour_are_not_a_hand() -> None:
    # Both must change from the face's own lips: lighter *and* less red. Lips already as light as the
    # cheeks that only turn paler (a colour cast on them, a paler lipstick) keep their cues: a false "hidden"
    # silences every mouth cue, a missed hand only some frames of them.
    image, points = drawn_face()
    light_red = image.copy()
    cv2.ellipse(light_red, (240, 262), (36, 12), 0, 0, 360, (215, 140, 140), -1, cv2.LINE_AA)
    cv2.line(light_red, (206, 262), (274, 262), (70, 30, 30), 2, cv2.LINE_AA)
    memory = followed(light_red, points)
    pale = image.copy()
    cv2.ellipse(pale, (240, 262), (36, 12), 0, 0, 360, (180, 160, 150), -1, cv2.LINE_AA)
    cv2.line(pale, (206, 262), (274, 262), (70, 30, 30), 2, cv2.LINE_AA)
    own = memory.reference()
    lips = lips_against_skin(pale, points, cheek_light(pale, points))
    assert own is not None and lips is not None
    assert lips[0] > LIP_LEVEL and lips[1] < LIP_REDNESS  # like skin now
    assert abs(lips[0] - own[0]) < 0.03 and own[1] - lips[1] > 0.2  # as light as before, far less red
    assert "mouth" not in hidden_regions(pale, points, memory)


def drawn_lips(image: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    out = image.copy()
    cv2.ellipse(out, (240, 262), (36, 12), 0, 0, 360, colour, -1, cv2.LINE_AA)
    cv2.line(out, (206, 262), (274, 262), (70, 30, 30), 2, cv2.LINE_AA)
    return out


def test_pale_lips_lit_from_above_are_not_a_hand() -> None:
    # Lips hardly redder than the skin, then lit as light as the cheeks: lighter, but no less red than this
    # face's own lips, so not covered.
    image, points = drawn_face()
    memory = followed(drawn_lips(image, (150, 118, 102)), points)
    lit = drawn_lips(image, (200, 157, 136))
    own, lips = memory.reference(), lips_against_skin(lit, points, cheek_light(lit, points))
    assert own is not None and lips is not None
    assert lips[0] > LIP_LEVEL and lips[1] < LIP_REDNESS and lips[0] - own[0] > 0.1  # like skin, and lighter
    assert "mouth" not in hidden_regions(lit, points, memory)


def test_lips_pressed_thin_are_not_a_hand_while_darker_than_the_cheeks() -> None:
    # Lighter and less red than usual (the outline then holds some skin), but still darker than the cheeks.
    image, points = drawn_face()
    memory = followed(drawn_lips(image, (150, 70, 70)), points)
    thin = drawn_lips(image, (150, 120, 106))
    own, lips = memory.reference(), lips_against_skin(thin, points, cheek_light(thin, points))
    assert own is not None and lips is not None
    assert lips[0] - own[0] > 0.06 and own[1] - lips[1] > 0.03 and lips[1] < LIP_REDNESS  # changed as a hand
    assert lips[0] < LIP_LEVEL
    assert "mouth" not in hidden_regions(thin, points, memory)


def test_lips_lit_as_light_as_the_cheeks_are_still_lips() -> None:
    # Light from above on a bowed head can make the lips as light as the cheeks; they stay redder than skin.
    image, points = drawn_face()
    memory = followed(image, points)
    lit = image.copy()
    cv2.ellipse(lit, (240, 262), (36, 12), 0, 0, 360, (235, 150, 150), -1, cv2.LINE_AA)
    cv2.line(lit, (206, 262), (274, 262), (70, 30, 30), 2, cv2.LINE_AA)
    lips = lips_against_skin(lit, points, cheek_light(lit, points))
    assert lips is not None and lips[0] > LIP_LEVEL  # as light as the cheeks: the level alone would hide them
    assert "mouth" not in hidden_regions(lit, points, memory)


def test_the_lips_are_not_read_on_grey_or_dim_frames_nor_with_the_eyes_covered() -> None:
    image, points = drawn_face()
    hand = fingers_across_the_lips(image)
    grey = np.repeat(cv2.cvtColor(hand, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    assert "mouth" not in hidden_regions(grey, points, followed(image, points))
    # A dim room: one grey level is then several hundredths of the cheeks' level, as much as the margin.
    dim = (hand.astype(np.float32) * 0.28).astype(np.uint8)
    assert lips_against_skin(dim, points, cheek_light(dim, points)) is None
    # A hand over both eyes can rest on the cheeks too, and the cheeks read as whatever is on them: here a
    # flushed hand in shadow, darker and redder than the lips, so against it the lips would read as skin.
    memory = followed(image, points)
    covered = paste_hand(image, points, "eyes", "flat", seed=4)
    for x, y in ((185, 215), (295, 215)):
        cv2.rectangle(covered, (x - 12, y - 12), (x + 12, y + 12), (180, 90, 75), -1)
    lips, own = lips_against_skin(covered, points, cheek_light(covered, points)), memory.reference()
    assert lips is not None and own is not None
    assert lips[0] > LIP_LEVEL and lips[1] < LIP_REDNESS  # like skin against the hand on the cheeks...
    assert lips[0] - own[0] > LIP_RISE and own[1] - lips[1] > LIP_PALER  # ...and changed: only the guard is left
    assert hidden_regions(covered, points, memory) == frozenset({"eyes"})


def test_a_hand_held_across_the_lips_is_not_learned_as_the_lips() -> None:
    # Covered frames stay out of the face's own lips: a hand held there for many seconds stays a hand.
    image, points = drawn_face()
    memory = followed(image, points)
    hand = fingers_across_the_lips(image)
    assert all(hidden_regions(hand, points, memory) == frozenset({"mouth"}) for _ in range(300))
    assert hidden_regions(image, points, memory) == frozenset()  # and the lips, seen again, are lips
