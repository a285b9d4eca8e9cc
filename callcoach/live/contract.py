"""Re-export: the listener contract now lives in ``callcoach.contract``, below the session and the live
stage, so the session recorder can implement it without importing ``callcoach.live``. Kept because tests
and callers import these names from here."""

from callcoach.contract import Advisor, LiveListener

__all__ = ["Advisor", "LiveListener"]
