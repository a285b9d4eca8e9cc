"""Local only, enforced: telemetry switched off by each library's own means, a kernel wall where the OS has
one, private files, nothing left in the temp folder. See docs/privacy.md for what each platform gets.

``lockdown()`` is the CLI's first call, before any native library is loaded or any thread started.
"""

from __future__ import annotations

from callcoach.privacy import sandbox
from callcoach.privacy.scratch import remove_stale
from callcoach.privacy.switches import apply_offline_environment


def lockdown() -> sandbox.SandboxStatus:
    apply_offline_environment()
    remove_stale()
    return sandbox.install()


__all__ = ["lockdown"]
