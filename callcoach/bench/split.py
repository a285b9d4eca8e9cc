"""The fixed person split of the real-face benches: one half of the people for choosing, the other for figures.

The rule is a hash of the manifest's ``subject`` column, so every bench (and every engineer) draws the same
halves without a list to keep in step, and a person is never on both sides.
"""

from __future__ import annotations

import hashlib


def is_dev(subject: str) -> bool:
    return int(hashlib.sha256(subject.encode()).hexdigest(), 16) % 2 == 0
