"""Keep the vision libraries' own caches and network features in check (see ``callcoach.privacy``).

Kept as the vision stage's import point; the work is done in ``callcoach.privacy.scratch``.
"""

from __future__ import annotations

from callcoach.privacy.scratch import contained_caches

__all__ = ["contained_caches"]
