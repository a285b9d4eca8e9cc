"""Writers for ``callcoach analyze``: jsonl (the machine interface), a rich table, and csv.

Writers dispatch on each event's ``as_dict()["type"]`` rather than on its class, so this module does not
import the cue engine or the analysis module and tests can feed it scripted events.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Mapping
from typing import Any, Protocol, TextIO

from callcoach.vision.types import FaceObservation, FrameObservation

FORMATS: tuple[str, ...] = ("jsonl", "table", "csv")

#: Cue columns for csv and the table, in Cue.as_dict() key names.
CUE_COLUMNS: tuple[str, ...] = (
    "onset_s",
    "apex_s",
    "offset_s",
    "cue",
    "emotion",
    "scale",
    "intensity",
    "confidence",
    "face",
)


class Writer(Protocol):
    def write(self, event: object) -> None: ...

    def finish(self) -> None: ...


def _round(value: float, digits: int = 4) -> float | None:
    # NaN/inf are not JSON; a model hiccup must not make the whole line unparseable.
    return round(float(value), digits) if math.isfinite(value) else None


def _round_map(values: Mapping[str, float] | None) -> dict[str, float | None] | None:
    return None if values is None else {k: _round(v) for k, v in values.items()}


def largest_face(obs: FrameObservation) -> FaceObservation | None:
    """The face with the biggest box: on a call that is the person nearest the camera."""
    return max(obs.faces, key=lambda f: f.bbox[2] * f.bbox[3], default=None)


def frame_record(obs: FrameObservation) -> dict[str, object]:
    """The per-frame jsonl line: values of the largest face, rounded to 4 decimals."""
    face = largest_face(obs)
    return {
        "type": "frame",
        "t_s": _round(obs.t_s),
        "face": face is not None,
        # The fused reading (action units with the appearance model) once the baseline is ready; until then
        # the appearance model's probabilities, which "appearance" always carries.
        "emotion": None if face is None else _round_map(face.reading if face.reading is not None else face.emotion),
        "appearance": None if face is None else _round_map(face.emotion),
        "aus": None if face is None else _round_map(face.aus),
        "blendshapes": {} if face is None else _round_map(face.blendshapes),
        "faces": len(obs.faces),
        "pose": None
        if face is None
        else {"yaw": _round(face.pose.yaw), "pitch": _round(face.pose.pitch), "roll": _round(face.pose.roll)},
    }


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def event_record(event: object) -> dict[str, Any] | None:
    """A JSON-ready dict for any analysis event (None for objects that have no public form)."""
    if isinstance(event, FrameObservation):
        return frame_record(event)
    as_dict = getattr(event, "as_dict", None)
    if callable(as_dict):
        record = as_dict()
        if isinstance(record, dict):
            return record
    return None


class JsonlWriter:
    """One JSON object per line and nothing else; flushed per line so a pipe sees cues as they happen."""

    def __init__(self, out: TextIO, per_frame: bool = False) -> None:
        self.out = out
        self.per_frame = per_frame

    def write(self, event: object) -> None:
        if isinstance(event, FrameObservation) and not self.per_frame:
            return
        record = event_record(event)
        if record is None:
            return
        self.out.write(json.dumps(_json_safe(record), allow_nan=False) + "\n")
        self.out.flush()

    def finish(self) -> None:
        self.out.flush()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def summary_line(summary: Mapping[str, Any]) -> str:
    """A one-line human summary (csv mode prints it on stderr)."""
    by_name = summary.get("cues_by_name") or {}
    names = ", ".join(f"{k}={v}" for k, v in by_name.items())
    return (
        f"summary: frames={summary.get('frames', 0)} with_face={summary.get('frames_with_face', 0)} "
        f"({100.0 * float(summary.get('face_share', 0.0)):.1f}%) duration_s={summary.get('duration_s', 0.0)} "
        f"cues={summary.get('cues', 0)}{f' ({names})' if names else ''} "
        f"baseline={'ready' if summary.get('baseline_ready') else 'never ready'}"
    )


class CsvWriter:
    """Header plus one row per cue on stdout; the summary goes to stderr so stdout stays a clean table."""

    def __init__(self, out: TextIO, err: TextIO | None = None) -> None:
        self.out = out
        self.err = err if err is not None else sys.stderr
        self._csv = csv.writer(out, lineterminator="\n")
        self._csv.writerow(CUE_COLUMNS)

    def write(self, event: object) -> None:
        if isinstance(event, FrameObservation):
            return
        record = event_record(event)
        if record is None:
            return
        if record.get("type") == "cue":
            self._csv.writerow([_cell(record.get(c)) for c in CUE_COLUMNS])
            self.out.flush()
        elif record.get("type") == "summary":
            print(summary_line(record), file=self.err, flush=True)

    def finish(self) -> None:
        self.out.flush()


class TableWriter:
    """Collects cues and renders a rich table plus a summary panel once the run is over."""

    def __init__(self, out: TextIO, baseline_seconds: float = 2.0) -> None:
        self.out = out
        self.baseline_seconds = baseline_seconds
        self.cues: list[dict[str, Any]] = []
        self.summary: dict[str, Any] | None = None

    def write(self, event: object) -> None:
        if isinstance(event, FrameObservation):
            return
        record = event_record(event)
        if record is None:
            return
        if record.get("type") == "cue":
            self.cues.append(record)
        elif record.get("type") == "summary":
            self.summary = record

    def _cue_table(self) -> Any:
        from rich.table import Table

        # Narrow on purpose: a piped rich console is 80 columns and the cue name must never be cut.
        # The apex and intensity are in the jsonl and csv output.
        table = Table(title="Cues (guesses, not verdicts)", title_justify="left")
        table.add_column("time (s)", justify="right", no_wrap=True)
        table.add_column("cue", no_wrap=True, min_width=max(len(c.get("cue") or "") for c in self.cues))
        table.add_column("emotion", no_wrap=True)
        table.add_column("scale")
        table.add_column("conf.", justify="right")
        table.add_column("face", justify="right")
        for cue in sorted(self.cues, key=lambda c: (c.get("onset_s") or 0.0, c.get("face") or 0)):
            onset, offset = cue.get("onset_s"), cue.get("offset_s")
            span = f"{onset:.2f}–{offset:.2f}" if offset is not None else f"{onset:.2f}–…"
            table.add_row(
                span,
                str(cue.get("cue")),
                _cell(cue.get("emotion")),
                _cell(cue.get("scale")),
                f"{float(cue.get('confidence') or 0.0):.2f}",
                _cell(cue.get("face")),
            )
        return table

    def finish(self) -> None:
        from rich.console import Console, Group
        from rich.panel import Panel
        from rich.text import Text

        console = Console(file=self.out)
        if self.cues:
            console.print(self._cue_table())
        s = self.summary or {}
        lines = [
            f"frames: {s.get('frames', 0)}",
            f"with a face: {s.get('frames_with_face', 0)} ({100.0 * float(s.get('face_share', 0.0)):.1f}%)",
            f"duration: {float(s.get('duration_s', 0.0)):.2f} s",
            f"cues: {s.get('cues', 0)}",
        ]
        lines += [f"  {name}: {count}" for name, count in (s.get("cues_by_name") or {}).items()]
        notes: list[Text] = []
        if not s.get("frames_with_face"):
            notes.append(Text("No face was found, so no cues could be spotted.", style="bold yellow"))
        elif s.get("frames") == 1:
            notes.append(
                Text(
                    "A single photo has no movement to compare, so it gives no cues; use a video "
                    "(or --format jsonl --per-frame for this photo's readings).",
                    style="bold yellow",
                )
            )
        elif not s.get("baseline_ready"):
            notes.append(
                Text(
                    f"The baseline never became ready (it needs {self.baseline_seconds:g} s of a steady, "
                    "visible face), so only a smile clear enough to need no baseline could be reported. "
                    "Try a longer clip or --baseline-seconds 0.",
                    style="bold yellow",
                )
            )
        elif not self.cues:
            notes.append(Text("No cues were spotted.", style="dim"))
        if s.get("complete") is False:
            notes.append(
                Text(
                    f"Stopped early ({s.get('error')}); the figures cover the frames read before that.",
                    style="bold red",
                )
            )
        title = f"Summary: {s.get('source') or 'input'}"
        console.print(Panel(Group(Text("\n".join(lines)), *notes), title=title, title_align="left"))


def make_writer(
    fmt: str,
    out: TextIO,
    err: TextIO | None = None,
    per_frame: bool = False,
    baseline_seconds: float = 2.0,
) -> Writer:
    if fmt == "jsonl":
        return JsonlWriter(out, per_frame=per_frame)
    if fmt == "csv":
        return CsvWriter(out, err)
    if fmt == "table":
        return TableWriter(out, baseline_seconds=baseline_seconds)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
