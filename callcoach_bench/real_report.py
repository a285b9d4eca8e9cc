"""The table `callcoach bench real` prints: both halves of the split, per source, both columns."""

from __future__ import annotations

from typing import Any

from callcoach.cues.aus import AUS
from callcoach_bench.posed import SIX


def _pct(x: float) -> str:
    return f"{x:.2f}"


def _table(title: str) -> Any:
    from rich import box
    from rich.table import Table

    # Light borders: ten columns then fit 80 characters, a terminal's or a pipe's default width.
    return Table(title=title, box=box.SIMPLE, collapse_padding=True, pad_edge=False)


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console

    console = Console()
    for split in ("dev", "report"):
        mark = (
            "DEV half: thresholds and weights were chosen here"
            if split == "dev"
            else "REPORT half: held-out people, the figures to quote"
        )
        table = _table(f"callcoach bench real: {mark}")
        for col in ("source", "n", "fer 6", "cc 6", "fer 7", "cc 7", "cue", "no cue", "CNN 6", "AUs 6"):
            table.add_column(col, no_wrap=True, justify="left" if col == "source" else "right")
        for source, s in result["photos"][split].items():
            if not s["n"]:
                continue
            table.add_row(
                source,
                str(s["n"]),
                _pct(s["fer"]["acc6"]),
                _pct(s["callcoach"]["acc6"]),
                _pct(s["fer"]["acc7"]),
                _pct(s["callcoach"]["acc7"]),
                _pct(s["cue"]),
                str(s["cue_names"].get("none", 0)),
                _pct(s["cnn_only"]["acc6"]),
                _pct(s["aus_only"]["acc6"]),
            )
        console.print(table)
    report = result["photos"]["report"]["kdef+jaffe"]
    for side in ("callcoach", "fer"):
        table = _table(f"report half, KDEF+JAFFE: {side} 6-class confusion (rows: label)")
        table.add_column("label")
        for e in (*SIX, "no face"):
            table.add_column(e, justify="right")
        for label, row in report[side]["confusion6"].items():
            table.add_row(label, *(str(row.get(e, 0)) for e in (*SIX, "no face")))
        console.print(table)
    fires = result["photos"]["report"]["all photos"]["au_firing"]
    table = _table("report half, all photos: share of apex photos with the AU >= 0.3, per label")
    table.add_column("AU")
    for label in fires:
        table.add_column(label, justify="right")
    for au in AUS:
        table.add_row(au, *(_pct(fires[label][au]) for label in fires))
    console.print(table)
    clips = result["clips"]
    if clips:
        console.print(
            f"CASME II ({clips['n']} clips, report-only): MEGC spotting IoU>=0.5 any cue: "
            f"TP {clips['tp']} FP {clips['fp']} FN {clips['fn']}, F1 {clips['f1']:.2f}; strongest cue "
            f"names the coded emotion in {clips['named_right']}/{clips['named_n']} labelled clips",
            highlight=False,
        )
        for c in result["clip_items"]:
            strongest = c["strongest"]["cue"] if c["strongest"] else "none"
            console.print(
                f"  {c['clip']}: {c['label']}, strongest cue {strongest}, {len(c['cues'])} cue(s)", highlight=False
            )
    console.print(
        "columns: fer = fer's own pipeline (Haar box, fer's crop; no baseline); cc = callcoach, the engine's "
        "fused reading at the apex; cue = share where the strongest cue suggests the labelled emotion "
        "(no cue = photos with no cue at all, counted wrong); "
        "CNN/AUs = callcoach's two parts alone (diagnostic); 6 = top of the six basic emotions, "
        "7 = with neutral",
        highlight=False,
    )
    console.print(f"split: {result['split']}", highlight=False)
    console.print(f"protocol: {result['protocol']}", highlight=False)
