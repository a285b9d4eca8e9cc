"""The fixed person split of the real-face benches: one half of the people for choosing, the other for figures.

One rule for every bench (`bench real`, `bench appearance`), so their dev halves are the same people: within
each source the subject ids are sorted and alternate, the 1st, 3rd, 5th ... are **dev** (thresholds, weights
and model choices are made there) and the 2nd, 4th ... are **report** (the figures in docs/detector.md). A
person is never on both sides, and the halves stay balanced within a source.
"""

from __future__ import annotations

from collections.abc import Iterable

SPLITS = ("dev", "report")


def split_of(subjects: Iterable[str]) -> dict[str, str]:
    """``{subject: "dev" | "report"}`` for the subjects of one source: sorted ids alternate dev, report, ..."""
    return {s: SPLITS[i % 2] for i, s in enumerate(sorted(set(subjects)))}


def dev_subjects(rows: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The dev half from ``(source, subject)`` pairs, split source by source."""
    by_source: dict[str, set[str]] = {}
    for source, subject in rows:
        by_source.setdefault(source, set()).add(subject)
    return frozenset(s for subjects in by_source.values() for s, half in split_of(subjects).items() if half == "dev")
