"""Guardrails the code enforces: the consent and etiquette text and the wording checks.

The wording checks (callcoach.playbook.wording) run over every line of the playbook when it loads, over every
suggestion and note before it is shown, and, by the test suite, over the README, the docs and every string in
the UI and playbook packages, so a claim we promised never to make cannot slip in through an edit. The
no-recording, local-only audit that the tests run sessions under is a test helper (tests/auditguard.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import platformdirs

from callcoach.playbook.wording import refusals

# --- consent and etiquette ------------------------------------------------------------------------------

#: Bump when the meaning of the text changes, so people see it again once. 2: says what the cue log keeps.
CONSENT_VERSION = 2
CONSENT_TITLE = "Before you start"
CONSENT_POINTS: tuple[str, ...] = (
    "Use callcoach to understand the people you talk with. Never use it to manipulate, pressure or trick anyone.",
    "A cue is a guess about a brief movement, not a reading of anyone's mind. When in doubt, ask.",
    "Never remark on a fleeting expression someone did not choose to share. Answer the conversation, not their face.",
    "It does not detect lies, and it makes no medical or diagnostic claim. Do not use it to judge anyone.",
    "Nothing is sent anywhere, and no video, pictures or sound are ever saved.",
    "A cue log stays on this computer unless you switch it off: the cues seen, the suggestions shown, your "
    "marks, notes on your own face and the window's name. Switch it off with `--no-record-session` (one run) "
    "or `callcoach sessions record off` (every run); `callcoach sessions` shows and deletes what is kept.",
    "If you would not be comfortable telling the other person you use it, do not use it with them.",
)
CONSENT_TEXT = CONSENT_TITLE + "\n\n" + "\n".join(f"- {point}" for point in CONSENT_POINTS)


def consent_path() -> Path:
    return Path(platformdirs.user_config_dir("callcoach")) / "consent.json"


def consent_acknowledged(path: Path | None = None) -> bool:
    """True once the current version of the text has been acknowledged on this machine."""
    try:
        record = json.loads((path or consent_path()).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record.get("version") == CONSENT_VERSION


def acknowledge_consent(path: Path | None = None) -> Path:
    """Record that the text was read. Only the version and a timestamp are stored."""
    target = path or consent_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    record = {"version": CONSENT_VERSION, "acknowledged_at": datetime.now(UTC).isoformat(timespec="seconds")}
    target.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return target


HEADLESS_NOTICE_END = (
    "This note is shown once for runs without the panel; the panel asks you to agree to it. "
    "The panel shows it again: press ? then e."
)


def headless_notice_due(path: Path | None = None) -> bool:
    """True when a run without the panel should print the note: neither agreed to nor shown in this version."""
    try:
        record = json.loads((path or consent_path()).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True
    if not isinstance(record, dict):
        return True
    return record.get("version") != CONSENT_VERSION and record.get("notice_version") != CONSENT_VERSION


def record_headless_notice(path: Path | None = None) -> None:
    """Remember that the note was printed (an earlier agreement, if any, is kept as it was)."""
    target = path or consent_path()
    try:
        record = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    if not isinstance(record, dict):
        record = {}
    record.update(notice_version=CONSENT_VERSION, notice_shown_at=datetime.now(UTC).isoformat(timespec="seconds"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record) + "\n", encoding="utf-8")


# --- wording checks (the rules live in callcoach.playbook.wording) -----------------------------------------


def forbidden_claims(text: str) -> list[str]:
    """Phrases of the claims callcoach never makes (the kinds in callcoach.playbook.wording), unless their own
    clause denies them, as our disclaimers do. The examples are in tests/data/wording_corpus.yaml."""
    return [r.phrase for r in refusals(text)]


def comments_on_their_face(text: str) -> list[str]:
    """Phrases that tell someone what their face showed or what they feel: we never say those uninvited."""
    return [r.phrase for r in refusals(text, spoken=True) if r.kind == "face"]
