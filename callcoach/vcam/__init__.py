"""The virtual camera: the user's webcam passed through unchanged to "CallCoach Camera" (issue 6).

Nothing here draws on, analyses or stores the outgoing video; see ``passthrough`` and docs/vcam.md.
"""

from callcoach.vcam.passthrough import PassThrough, blurred_still
from callcoach.vcam.sink import FrameSink, PyVirtualCamSink, device_fix

__all__ = ["FrameSink", "PassThrough", "PyVirtualCamSink", "blurred_still", "device_fix"]
