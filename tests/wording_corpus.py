"""Score the wording guard on tests/data/wording_corpus.yaml: accuracy per part and on the whole.

    PYTHONPATH=. python tests/wording_corpus.py [--show]

A bad line counts as right when the guard refuses it with the expected kind; a good line when it is accepted.
Part a is what the guard was tuned on; b, c, d and e were each held out until scored once (docs/playbook.md has
those first figures); all of them pass now.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from callcoach.playbook.wording import refusals

CORPUS = Path(__file__).resolve().parent / "data" / "wording_corpus.yaml"


@dataclass
class Score:
    right: int = 0
    total: int = 0
    wrong: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Share right; 1.0 for a part without lines of this sort (part e has only lines to accept)."""
        return self.right / self.total if self.total else 1.0

    def text(self) -> str:
        return f"{self.right}/{self.total} ({self.accuracy:.1%})" if self.total else "-"


def load(path: Path = CORPUS) -> dict[str, list[dict[str, object]]]:
    corpus: dict[str, list[dict[str, object]]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return corpus


def judge(item: dict[str, object]) -> str | None:
    """None when the guard does what the corpus says, else what went wrong."""
    found = refusals(str(item["text"]), spoken=bool(item["spoken"]))
    kinds = [r.kind for r in found]
    if item["kind"] == "ok":
        return None if not found else f"refused a good line as {kinds}"
    if not found:
        return "accepted"
    return None if item["kind"] in kinds else f"refused as {kinds}, expected {item['kind']}"


def score(items: list[dict[str, object]]) -> tuple[Score, Score]:
    """(bad lines refused with the right kind, good lines accepted)."""
    bad, good = Score(), Score()
    for item in items:
        target = good if item["kind"] == "ok" else bad
        target.total += 1
        problem = judge(item)
        if problem is None:
            target.right += 1
        else:
            target.wrong.append(f"[{item['kind']}] {item['text']}: {problem}")
    return bad, good


def main(argv: list[str]) -> int:
    corpus = load()
    halves = {**corpus, "whole": [x for items in corpus.values() for x in items]}
    for name, items in halves.items():
        bad, good = score(items)
        both = (bad.right + good.right) / (bad.total + good.total)
        print(f"{name:5}: bad refused {bad.text()}, good accepted {good.text()}, accuracy {both:.1%}")
        if "--show" in argv and name != "whole":
            for line in bad.wrong + good.wrong:
                print("   ", line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
