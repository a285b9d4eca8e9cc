"""One error root for the whole product, one subclass per stage.

Third-party failures are translated at the stage boundary with ``raise ... from`` so the CLI can print a
single clear line (``str(error)``) and exit non-zero without a traceback.
"""

from __future__ import annotations


class CallcoachError(Exception):
    """Root of every error callcoach raises on purpose. ``str()`` is the one line shown to the user."""

    exit_code = 1


class UsageError(CallcoachError):
    """The command line or a setting asks for something that cannot be done."""

    exit_code = 2


class SourceError(CallcoachError):
    """A frame source cannot be opened or read (missing file, not a video, empty directory...)."""


class VisionError(CallcoachError):
    """The vision stage failed (landmarker or appearance model)."""


class ModelError(VisionError):
    """A shipped model file is missing, altered or cannot be loaded."""


class CueError(CallcoachError):
    """The cue stage was given something it cannot work with."""


class PlaybookError(CallcoachError):
    """The playbook cannot be read or does not validate; ``str()`` names the file, line and field."""


class VcamError(CallcoachError):
    """The virtual camera cannot be opened or written to; ``str()`` says what to do on this platform."""
