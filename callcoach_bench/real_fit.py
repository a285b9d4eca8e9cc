"""`callcoach bench real --fit`: the fused reading's weights, fitted on the dev half of the people only.

A multinomial logistic regression (softmax of linear scores, L2 penalty, plain gradient descent in numpy)
over ``callcoach.cues.aus.fusion_features``: the 18 AUs and the appearance model's change from the
person's resting face, to the seven classes. Training examples: every dev-half item (expression photos and
extra neutral photos), plus one neutral example per dev person (the resting face read against itself: no
AU, no change), so that a still face reads as neutral; and each item again with the appearance model's
change set to zero, so that the AU weights carry each emotion on their own. The L2 strength is chosen by
leave-people-out cross-validation inside the dev half (the report half is never looked at); the weights printed are then
fitted on the whole dev half and pasted into ``FUSION_WEIGHTS``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np

from callcoach.cues.aus import FEATURE_NAMES, FUSED_CLASSES, fusion_features

L2_CHOICES = (0.0003, 0.001, 0.003, 0.01, 0.03)
FOLDS = 5
STEPS = 4000
RATE = 0.5


def _examples(items: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    xs, ys, people = [], [], []
    seen: set[str] = set()
    for i in items:
        if not i["aus"]:
            continue
        person = f"{i['source']}/{i['subject']}"
        xs.append(fusion_features(i["aus"], i["appearance"], i["resting"]))
        ys.append(FUSED_CLASSES.index(i["label"]))
        people.append(person)
        # The same item with the appearance model silent: the AU weights must carry the emotion on their own
        # (the CNN may not have run on a frame, and it must not be the only evidence for any emotion).
        xs.append(fusion_features(i["aus"], None, None))
        ys.append(FUSED_CLASSES.index(i["label"]))
        people.append(person)
        if person not in seen:
            seen.add(person)
            xs.append([0.0] * len(FEATURE_NAMES))
            ys.append(FUSED_CLASSES.index("neutral"))
            people.append(person)
    return np.array(xs, dtype=np.float64), np.array(ys), people


def fit(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """Weights (features + bias) x classes."""
    xb = np.c_[x, np.ones(len(x))]
    w = np.zeros((xb.shape[1], len(FUSED_CLASSES)))
    target = np.eye(len(FUSED_CLASSES))[y]
    penalty = np.ones((xb.shape[1], 1))
    penalty[-1] = 0.0  # the bias is not penalised
    for _ in range(STEPS):
        z = xb @ w
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        w -= RATE * (xb.T @ (p - target) / len(xb) + l2 * penalty * w)
    return w


def _accuracy(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    return float(((np.c_[x, np.ones(len(x))] @ w).argmax(axis=1) == y).mean()) if len(y) else 0.0


def choose(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Cross-validate L2 over people inside the given (dev) items, then fit on all of them."""
    x, y, people = _examples(items)
    persons = sorted(set(people))
    fold_of = {p: n % FOLDS for n, p in enumerate(persons)}
    folds = np.array([fold_of[p] for p in people])
    cv = {}
    for l2 in L2_CHOICES:
        scores = [_accuracy(fit(x[folds != k], y[folds != k], l2), x[folds == k], y[folds == k]) for k in range(FOLDS)]
        cv[l2] = float(np.mean(scores))
    best = max(L2_CHOICES, key=lambda v: (cv[v], v))
    w = fit(x, y, best)
    weights = {e: tuple(round(float(v), 3) for v in w[:, c]) for c, e in enumerate(FUSED_CLASSES)}
    return {"cv_accuracy": cv, "l2": best, "examples": len(y), "people": len(persons), "weights": weights}


def print_weights(chosen: dict[str, Any]) -> None:
    print(
        f"# fitted on {chosen['examples']} dev examples from {chosen['people']} people; "
        f"L2 {chosen['l2']} (5-fold leave-people-out CV accuracy: "
        + ", ".join(f"{k}: {v:.3f}" for k, v in chosen["cv_accuracy"].items())
        + ")"
    )
    print("FUSION_WEIGHTS: dict[str, tuple[float, ...]] = {")
    for e, ws in chosen["weights"].items():
        body = textwrap.fill(
            ", ".join(str(w) for w in ws), width=104, initial_indent=" " * 8, subsequent_indent=" " * 8
        )
        print(f'    "{e}": (\n{body},\n    ),')
    print("}")
