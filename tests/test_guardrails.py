"""Guardrails: wording checks on examples and on the repository's own text, consent, and the audit guard."""

from __future__ import annotations

import ast
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from auditguard import AuditGuard

from callcoach.playbook.guardrails import (
    CONSENT_POINTS,
    CONSENT_TEXT,
    CONSENT_VERSION,
    acknowledge_consent,
    comments_on_their_face,
    consent_acknowledged,
    consent_path,
    forbidden_claims,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


# --- wording --------------------------------------------------------------------------------------------

CLAIMS = [
    "callcoach detects lies in real time",
    "A lie detector for your video calls.",
    "Turn on lie-detection mode.",
    "It can tell when someone is lying.",
    "Know if they're lying before they finish.",
    "Spot deception on every call.",
    "catches liars",
    "It diagnoses autism from a smile.",
    "A diagnostic tool for anxiety.",
    "screens for depression",
    "Deception detection built in.",
    "It's quick, and it detects lies.",  # the "no" of another clause does not excuse this one
    "- Not a toy\n- Lie detector included",  # nor does the one of the list item above
]
DISCLAIMERS = [
    "Not a lie detector, not a medical device.",
    "no lie detection, no medical or diagnostic claims",
    "callcoach makes no claim to detect deception, and it does not diagnose or screen for any condition.",
    "It detects no lies, and it makes no medical claim.",
    "This isn't a lie detector.",
    "It never diagnoses anything.",
    "callcoach spots brief facial cues against a person's own baseline.",
    "Open the diagnostics panel.",  # a developer word, not a medical claim
    "callcoach is not\n  a lie detector.",  # a wrapped line is still the same clause
    "Cues are guesses; people often look away while thinking.",
]


@pytest.mark.parametrize("text", CLAIMS)
def test_claims_are_found(text: str) -> None:
    assert forbidden_claims(text), text


@pytest.mark.parametrize("text", DISCLAIMERS)
def test_disclaimers_pass(text: str) -> None:
    assert forbidden_claims(text) == [], text


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("You look upset, what's wrong?", True),
        ("You seem a bit nervous.", True),
        ("I noticed that look on your face.", True),
        ("You just frowned at that.", True),
        ("Your expression changed.", True),
        ("Tell me more?", False),
        ("Did I say something that didn’t land well?", False),
        ("If you see a problem with this, I want to hear it.", False),
        ("I’m sorry this has taken so long.", False),
    ],
)
def test_remarks_on_their_face(text: str, flagged: bool) -> None:
    assert bool(comments_on_their_face(text)) is flagged


def python_strings(path: Path) -> Iterator[tuple[int, str]]:
    """Every string literal in a module (docstrings, messages, f-string parts)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


#: The guard's own vocabulary: its patterns and the names of what it refuses.
GUARD_MODULES = (REPO / "callcoach/playbook/wording.py", REPO / "callcoach/playbook/wording_rules.py")
# Docs quote refused lines as examples in `code`, and the guard's own documentation names what it refuses
# between <!-- guard-vocabulary --> markers; everything around them is still read.
_CODE = re.compile(r"```.*?```|`[^`]+`|<!-- guard-vocabulary -->.*?<!-- /guard-vocabulary -->", re.DOTALL)


def repo_texts() -> Iterator[tuple[str, str]]:
    yield "README.md", _CODE.sub(" ", (REPO / "README.md").read_text(encoding="utf-8"))
    for doc in sorted((REPO / "docs").rglob("*")):
        if doc.suffix in (".md", ".json", ".txt"):
            text = doc.read_text(encoding="utf-8")
            yield str(doc.relative_to(REPO)), _CODE.sub(" ", text) if doc.suffix == ".md" else text
    yield "callcoach/playbook/default.yaml", (REPO / "callcoach/playbook/default.yaml").read_text(encoding="utf-8")
    for package in ("ui", "playbook"):
        for module in sorted((REPO / "callcoach" / package).rglob("*.py")):
            if module in GUARD_MODULES:
                continue
            for line, text in python_strings(module):
                yield f"{module.relative_to(REPO)}:{line}", text
    for line, text in python_strings(REPO / "callcoach/cli/playbook_cmd.py"):
        yield f"callcoach/cli/playbook_cmd.py:{line}", text


def test_repository_text_makes_no_forbidden_claim() -> None:
    found = [(where, claim) for where, text in repo_texts() for claim in forbidden_claims(text)]
    assert found == []


def test_the_scan_covers_what_it_should() -> None:
    where = [w for w, _ in repo_texts()]
    assert "README.md" in where and "callcoach/playbook/default.yaml" in where
    assert any(w.startswith("callcoach/playbook/selector.py:") for w in where)
    assert any(w.startswith("docs/") for w in where)


# --- consent --------------------------------------------------------------------------------------------


def test_consent_text_is_short_and_keeps_its_own_rules() -> None:
    assert 4 <= len(CONSENT_POINTS) <= 8 and len(CONSENT_TEXT) < 1000
    assert forbidden_claims(CONSENT_TEXT) == [] and comments_on_their_face(CONSENT_TEXT) == []
    lowered = CONSENT_TEXT.lower()
    for topic in ("manipulate", "guess", "remark on a fleeting expression", "lies", "diagnostic", "saved"):
        assert topic in lowered, topic


def test_consent_is_acknowledged_once_per_version(config_home: Path) -> None:
    assert consent_path().is_relative_to(config_home)
    assert not consent_acknowledged()
    path = acknowledge_consent()
    assert consent_acknowledged()
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["version"] == CONSENT_VERSION and set(record) == {"version", "acknowledged_at"}
    path.write_text(json.dumps({"version": CONSENT_VERSION - 1}), encoding="utf-8")
    assert not consent_acknowledged()  # the text changed since: show it again
    path.write_text("{not json", encoding="utf-8")
    assert not consent_acknowledged()


# --- the audit guard ------------------------------------------------------------------------------------


def test_guard_catches_an_image_a_stray_write_and_a_connection(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    with AuditGuard(allowed_dirs=[store]) as guard:
        (store / "events.jsonl").write_text("{}\n")  # allowed: the session store
        (store / "frame.png").write_bytes(b"\x89PNG")  # an image, even inside the store
        (tmp_path / "elsewhere.txt").write_text("x")  # outside the allowed directories
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
        subprocess.run([sys.executable, "-c", "pass"], check=True)  # allowed by design
    server.close()
    (tmp_path / "after.png").write_bytes(b"")  # the guard is off again
    assert [f.detail for f in guard.of_kind("image")] == [str(store / "frame.png")]
    assert [f.detail for f in guard.of_kind("write")] == [str(tmp_path / "elsewhere.txt")]
    connects = guard.of_kind("connect")
    assert len(connects) == 1 and "127.0.0.1" in connects[0].detail
    assert not guard.clean and "frame.png" in guard.report()


def test_guard_finds_native_writes_in_watched_dirs(tmp_path: Path) -> None:
    cv2 = pytest.importorskip("cv2")
    import numpy as np

    with AuditGuard(allowed_dirs=[tmp_path], watch_dirs=[tmp_path]) as guard:
        # OpenCV writes from C++: no audit event, only the scan on exit can see it.
        assert cv2.imwrite(str(tmp_path / "snap.jpg"), np.zeros((8, 8, 3), np.uint8))
    assert [f.detail for f in guard.of_kind("image")] == [str(tmp_path / "snap.jpg")]
    assert guard.of_kind("image")[0].event == "scan"


def test_more_specific_directory_decides(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with AuditGuard(allowed_dirs=[tmp_path], watch_dirs=[home]) as guard:
        (tmp_path / "ok.txt").write_text("x")
        (home / "cache.db").write_text("x")
    assert [f.detail for f in guard.findings] == [str(home / "cache.db")]


_GUARDED_ANALYSIS = """
import json, sys, tempfile
from auditguard import AuditGuard

home, store, clip = sys.argv[1:4]
frames = cues = 0
# Entered before anything heavy is imported, so the libraries' import-time writes are seen too. The temp
# dir is allowed (ctypes probes for shared libraries with throw-away files there; the vision libraries'
# caches go to a scratch dir there); the fake home is watched, and being more specific, checked strictly.
with AuditGuard(allowed_dirs=[store, tempfile.gettempdir()], watch_dirs=[home, store]) as guard:
    from callcoach.analysis import analyze_source
    from callcoach.cues.vocabulary import Cue
    from callcoach.sources import open_source

    with open(store + "/events.jsonl", "w", encoding="utf-8") as out:
        for event in analyze_source(open_source(clip)):
            frames += 1
            if isinstance(event, Cue):
                cues += 1
                out.write(json.dumps(event.as_dict()) + "\\n")
print(json.dumps({"frames": frames, "findings": [[f.kind, f.detail] for f in guard.findings],
                  "report": guard.report()}))
"""


@pytest.mark.slow
def test_analysis_records_nothing_and_stays_local(real_media: Path, tmp_path: Path) -> None:
    """A whole analysis in a fresh process: no image or video written, no connection, no write outside
    the store, including what the vision libraries would write on import."""
    home = tmp_path / "home"
    home.mkdir()
    store = tmp_path / "store"
    store.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "MPLCONFIGDIR")
    }
    env["HOME"] = str(home)
    # The guard is a test helper (tests/auditguard.py): the fresh process finds it where pytest does.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).parent), env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-c", _GUARDED_ANALYSIS, str(home), str(store), str(real_media / "single_face.mp4")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["frames"] > 10
    assert result["findings"] == [], result["report"]
    assert list(home.iterdir()) == []
