"""The playbook: model, default content, loader errors, hot reload, JSON Schema, and the CLI commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from callcoach.cli.playbook_cmd import schema_text
from callcoach.cues.vocabulary import CUE_NAMES
from callcoach.errors import PlaybookError
from callcoach.playbook.guardrails import comments_on_their_face, forbidden_claims
from callcoach.playbook.loader import (
    active_playbook_path,
    default_playbook_path,
    load_playbook,
    parse_playbook,
    user_playbook_path,
)
from callcoach.playbook.model import Contexts, CueEntry, Cues, Playbook, playbook_json_schema
from callcoach.playbook.types import CONTEXTS
from callcoach.playbook.watcher import PlaybookWatcher

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TEXT = default_playbook_path().read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """platformdirs reads XDG_CONFIG_HOME on every call: the tests never touch the real home."""
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def line_of(text: str, needle: str) -> int:
    """1-based line where ``needle`` starts (it may span lines)."""
    return text.count("\n", 0, text.index(needle)) + 1


def minimal(**general: object) -> dict[str, object]:
    script = {
        "plain": "Maybe something.",
        "hypotheses": {"neutral": "Could be anything."},
        "moves": ["Ask: “Tell me more?”", "Wait a moment."],
        "repairs": ["My mistake, go on."],
        **general,
    }
    return {
        "version": 1,
        "contexts": {"general": {"min_confidence": 0.5}},
        "cues": {name: {"general": script} for name in CUE_NAMES},
    }


# --- model and default content --------------------------------------------------------------------------


def test_model_follows_the_vocabulary_and_contexts() -> None:
    assert tuple(Cues.model_fields) == CUE_NAMES
    assert tuple(Contexts.model_fields) == CONTEXTS
    assert tuple(CueEntry.model_fields) == CONTEXTS


def test_default_resolves_every_cue_in_every_context() -> None:
    playbook = load_playbook(default_playbook_path())
    for cue in CUE_NAMES:
        for context in CONTEXTS:
            script = playbook.script(cue, context)
            assert script.plain and script.moves and script.repairs
            assert 0.0 < playbook.threshold(cue, context) < 1.0
            # The default is complete: every context has its own moves, not just general's.
            entry = getattr(playbook.cues, cue)
            assert getattr(entry, context) is not None or context == "general"


def test_default_asks_rather_than_assumes() -> None:
    playbook = load_playbook(default_playbook_path())
    for cue in CUE_NAMES:
        for context in CONTEXTS:
            script = playbook.script(cue, context)
            spoken = [*script.moves, *script.repairs, *([script.stronger] if script.stronger else [])]
            # Each context offers a question or a silent move (pause, slow down), not only statements.
            assert any("?" in move or "“" not in move for move in script.moves), (cue, context)
            for line in spoken:
                assert not forbidden_claims(line), line
                assert not comments_on_their_face(line), line
            if script.stronger:
                assert "?" in script.stronger, (cue, context, "a stronger move must still be a question")


def test_blinks_and_glances_alone_say_nothing_by_default() -> None:
    playbook = load_playbook(default_playbook_path())
    for context in CONTEXTS:
        assert playbook.script("blink_cluster", context).say_nothing.when == "alone"
        assert playbook.script("gaze_aversion", context).say_nothing.when == "alone"


def test_context_overrides_field_by_field() -> None:
    data = minimal(stronger="Ask: “Shall we go deeper?”")
    cues = data["cues"]
    assert isinstance(cues, dict)
    cues["eyebrow_flash"]["sales"] = {"moves": ["Ask: “Relevant for you?”"]}
    cues["eyebrow_flash"]["social"] = {"stronger": None, "min_confidence": 0.7}
    playbook = Playbook.model_validate(data)
    sales = playbook.script("eyebrow_flash", "sales")
    assert sales.moves == ["Ask: “Relevant for you?”"]
    assert sales.repairs == ["My mistake, go on."]  # from general
    assert sales.stronger == "Ask: “Shall we go deeper?”"
    assert playbook.script("eyebrow_flash", "social").stronger is None  # explicit null switches it off
    assert playbook.threshold("eyebrow_flash", "social") == 0.7
    assert playbook.threshold("eyebrow_flash", "negotiation") == 0.5  # context missing: general's


# --- loader errors --------------------------------------------------------------------------------------

BAD_EDITS = [
    # (what, replace this, with this, line containing, field in the message)
    ("empty move", '- "Pause for a beat and let them speak."', '- ""', '- ""', "cues.eyebrow_flash.general.moves[0]"),
    (
        "unknown field",
        '      plain: "A quick raise',
        '      colour: red\n      plain: "A quick raise',
        "colour: red",
        "cues.eyebrow_flash.general.colour",
    ),
    (
        "threshold above 1",
        "social: {min_confidence: 0.6}",
        "social: {min_confidence: 1.6}",
        "min_confidence: 1.6",
        "contexts.social.min_confidence",
    ),
    (
        "lie claim",
        "Pause for a beat and let them speak.",
        "Our lie detector will tell.",
        "Our lie detector",
        "cues.eyebrow_flash.general.moves[0]",
    ),
    (
        "remark on their face",
        "Pause for a beat and let them speak.",
        "Say you look upset.",
        "you look upset",
        "cues.eyebrow_flash.general.moves[0]",
    ),
    (
        "not a guess",
        "often recognition, interest or emphasis",
        "recognition",
        "A quick raise",
        "cues.eyebrow_flash.general.plain",
    ),
    (
        "unquoted colon",
        '- "Invite: “Tell me more?”"',
        "- Invite: “Tell me more?”",
        "- Invite: “Tell me more?”",
        "cues.eyebrow_flash.general.moves[1]",
    ),
    (
        "silence without a reason",
        '        when: alone\n        line: "Looking away',
        '        when: alone\n        lin: "Looking away',
        'lin: "Looking away',
        "cues.gaze_aversion.general.say_nothing.lin",
    ),
    (
        "duplicate key",
        "  eyebrow_flash:\n    general:\n",
        "  eyebrow_flash:\n    sales: {}\n    general:\n",
        '    sales:\n      hypotheses:\n        positive: "Interest in a feature',
        "cues.eyebrow_flash.sales",
    ),
]


@pytest.mark.parametrize(("what", "old", "new", "at", "field"), BAD_EDITS, ids=[e[0] for e in BAD_EDITS])
def test_bad_playbook_is_one_line_with_file_line_and_field(
    tmp_path: Path, what: str, old: str, new: str, at: str, field: str
) -> None:
    assert DEFAULT_TEXT.count(old) == 1, what
    text = DEFAULT_TEXT.replace(old, new)
    path = tmp_path / "playbook.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlaybookError) as caught:
        load_playbook(path)
    message = str(caught.value)
    assert "\n" not in message
    expected = line_of(text, at)
    assert message.startswith(f"{path}:{expected}: {field}"), message
    error = caught.value  # no chained pydantic or yaml traceback behind the one line
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def test_missing_cue_points_at_the_cues_mapping(tmp_path: Path) -> None:
    text = DEFAULT_TEXT.replace("  micro_surprise:", "  micro_surprize:")
    with pytest.raises(PlaybookError, match=rf"^x.yaml:{line_of(text, 'cues:')}: cues.micro_surprise: required"):
        parse_playbook(text, "x.yaml")


def test_yaml_syntax_error_gives_line_and_column() -> None:
    text = DEFAULT_TEXT.replace("  eyebrow_flash:\n", "  eyebrow_flash:\n   [oops\n")
    with pytest.raises(PlaybookError) as caught:
        parse_playbook(text, "pb.yaml")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"pb.yaml:{line_of(text, '[oops') + 1}:"), message
    assert "not valid YAML" in message


@pytest.mark.parametrize(("text", "needle"), [("", "empty"), ("- a\n- b\n", "mapping"), ("version: 2\n", "version")])
def test_other_shapes_are_one_line(text: str, needle: str) -> None:
    with pytest.raises(PlaybookError, match=needle):
        parse_playbook(text, "pb.yaml")


def test_missing_file_is_a_playbook_error(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="no such file"):
        load_playbook(tmp_path / "nope.yaml")


def test_user_copy_wins_over_the_default(config_home: Path) -> None:
    assert active_playbook_path() == default_playbook_path()
    user = user_playbook_path()
    assert user.is_relative_to(config_home)
    user.parent.mkdir(parents=True)
    user.write_text(DEFAULT_TEXT.replace("cooldown_s: 10", "cooldown_s: 3"), encoding="utf-8")
    assert active_playbook_path() == user
    assert load_playbook().cooldown_s == 3


# --- hot reload -----------------------------------------------------------------------------------------


def rewrite(path: Path, text: str, bump: int) -> None:
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    # Make the change visible even on file systems with coarse timestamps.
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump * 1_000_000_000))


def test_watcher_keeps_the_previous_good_playbook(tmp_path: Path) -> None:
    path = tmp_path / "playbook.yaml"
    path.write_text(DEFAULT_TEXT, encoding="utf-8")
    now = [0.0]
    changes: list[Playbook] = []
    errors: list[PlaybookError] = []
    watcher = PlaybookWatcher(path, on_change=changes.append, on_error=errors.append, clock=lambda: now[0])
    assert watcher.playbook.cooldown_s == 10 and watcher.error is None

    rewrite(path, DEFAULT_TEXT.replace("cooldown_s: 10", "cooldown_s: 5"), bump=1)
    watcher.poll()  # the reload starts on a worker thread; poll never waits for it
    assert watcher.wait(10.0)
    assert watcher.poll() is True  # good edit takes effect
    assert watcher.playbook.cooldown_s == 5 and len(changes) == 1

    rewrite(path, DEFAULT_TEXT.replace("cooldown_s: 10", "cooldown_s: -1"), bump=2)
    now[0] += 0.5
    assert watcher.poll() is False  # within the interval: not even a stat
    assert not errors
    now[0] += 1.0
    watcher.poll()
    assert watcher.wait(10.0)
    assert watcher.poll() is False  # bad edit: reported, previous playbook stays
    assert watcher.playbook.cooldown_s == 5
    assert len(errors) == 1 and "\n" not in str(errors[0])
    assert str(errors[0]).startswith(f"{path}:{line_of(DEFAULT_TEXT, 'cooldown_s:')}: cooldown_s")
    now[0] += 1.5
    assert watcher.poll() is False and len(errors) == 1  # the same bad file is reported once

    rewrite(path, DEFAULT_TEXT.replace("cooldown_s: 10", "cooldown_s: 7"), bump=3)
    now[0] += 1.5
    assert watcher.check() is True and watcher.playbook.cooldown_s == 7 and watcher.error is None


def test_watcher_follows_the_user_copy_and_survives_a_bad_start(config_home: Path) -> None:
    errors: list[PlaybookError] = []
    watcher = PlaybookWatcher(on_error=errors.append, interval_s=0.0)
    assert watcher.path == default_playbook_path()
    user = user_playbook_path()
    user.parent.mkdir(parents=True)
    user.write_text(DEFAULT_TEXT.replace("cooldown_s: 10", "cooldown_s: 2"), encoding="utf-8")
    assert watcher.check() is True and watcher.path == user and watcher.playbook.cooldown_s == 2
    user.unlink()
    watcher.poll()
    assert watcher.wait(10.0) and watcher.poll() is True and watcher.path == default_playbook_path()

    user.write_text("version: [", encoding="utf-8")
    started = PlaybookWatcher(on_error=errors.append)
    assert started.playbook.cooldown_s == 10  # the packaged default, not nothing
    assert errors and str(errors[-1]).startswith(f"{user}:1:")


def test_watcher_never_raises_when_the_file_goes_away(tmp_path: Path) -> None:
    path = tmp_path / "playbook.yaml"
    path.write_text(DEFAULT_TEXT, encoding="utf-8")
    errors: list[PlaybookError] = []
    watcher = PlaybookWatcher(path, on_error=errors.append, interval_s=0.0)
    path.unlink()
    watcher.poll()
    assert watcher.wait(10.0) and watcher.poll() is False
    assert watcher.playbook.version == 1 and "no such file" in str(errors[0])


# --- JSON Schema ----------------------------------------------------------------------------------------


def test_published_schema_is_what_the_model_generates() -> None:
    committed = (REPO / "docs" / "playbook.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(), "regenerate: callcoach playbook export --schema -o docs/playbook.schema.json"


def test_default_validates_against_the_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = playbook_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    data = yaml.safe_load(DEFAULT_TEXT)
    assert not list(validator.iter_errors(data))
    data["cues"]["eyebrow_flash"]["general"]["colour"] = "red"
    assert list(validator.iter_errors(data))


# --- command line ---------------------------------------------------------------------------------------


def run_cli(*args: str, config: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "XDG_CONFIG_HOME": str(config), **(env or {})}
    full_env["PYTHONPATH"] = str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "callcoach", "playbook", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def test_cli_validate_good_and_bad(tmp_path: Path, config_home: Path) -> None:
    good = run_cli("validate", str(default_playbook_path()), config=config_home)
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("ok: ") and good.stdout.count("\n") == 1

    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT_TEXT.replace("cooldown_s: 10", "cooldown_s: soon"), encoding="utf-8")
    proc = run_cli("validate", str(bad), config=config_home)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith(f"callcoach: error: {bad}:{line_of(DEFAULT_TEXT, 'cooldown_s:')}: cooldown_s")
    assert "Traceback" not in proc.stderr


def test_cli_export_schema_is_valid_json_schema(config_home: Path) -> None:
    proc = run_cli("export", "--schema", config=config_home)
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    assert schema == playbook_json_schema()
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(DEFAULT_TEXT), schema)


def test_cli_export_yaml_and_output_file(tmp_path: Path, config_home: Path) -> None:
    proc = run_cli("export", config=config_home)
    assert proc.returncode == 0 and proc.stdout == DEFAULT_TEXT
    target = tmp_path / "out.yaml"
    proc = run_cli("export", "-o", str(target), config=config_home)
    assert proc.returncode == 0 and target.read_text(encoding="utf-8") == DEFAULT_TEXT


def test_cli_show_one_cue(config_home: Path) -> None:
    proc = run_cli("show", "--cue", "eyebrow_flash", "--context", "sales", config=config_home)
    assert proc.returncode == 0, proc.stderr
    assert "eyebrow_flash" in proc.stdout and "sales" in proc.stdout and "lip_compression" not in proc.stdout
    proc = run_cli("show", "--cue", "nope", config=config_home)
    assert proc.returncode == 2


def test_cli_edit_without_a_terminal_prints_the_path(config_home: Path) -> None:
    proc = run_cli("edit", config=config_home, env={"EDITOR": "false", "VISUAL": ""})
    user = config_home / "callcoach" / "playbook.yaml"
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(user)
    assert user.read_text(encoding="utf-8") == DEFAULT_TEXT


def test_cli_reset_backs_up_and_restores(config_home: Path) -> None:
    user = config_home / "callcoach" / "playbook.yaml"
    user.parent.mkdir(parents=True)
    user.write_text("my edits", encoding="utf-8")
    proc = run_cli("reset", config=config_home)
    assert proc.returncode == 0, proc.stderr
    backups = list(user.parent.glob("playbook.yaml.*.bak"))
    assert len(backups) == 1 and backups[0].read_text(encoding="utf-8") == "my edits"
    assert user.read_text(encoding="utf-8") == DEFAULT_TEXT
    assert run_cli("reset", config=config_home).returncode == 0
    assert len(list(user.parent.glob("playbook.yaml.*.bak"))) == 2
