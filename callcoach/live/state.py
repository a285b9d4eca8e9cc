"""Re-export: the live states now live in ``callcoach.core.state`` (the bottom layer), so sources and the
playbook can name them without importing the live stage. Kept because many tests import it from here."""

from callcoach.core.state import LiveState, LiveStatus

__all__ = ["LiveState", "LiveStatus"]
