"""Each vision library's own network features, switched off by the library's own means.

- onnxruntime (1.32 on Linux too) starts a telemetry uploader with its own thread, its own HTTP client and
  an event queue on disk (a device id and ``onnxruntime.db`` under the cache folder). ``ORT_DISABLE_TELEMETRY``
  read when the library loads keeps all of that from starting (measured: no device id, no database, no
  DNS query); ``disable_telemetry_events()`` is called as well before any session, its documented switch.
- MediaPipe 1.2's native library posts usage logs from a thread of its own through a libcurl built into
  ``libmediapipe.so``. It has no switch of its own (no environment variable, flag or option names it:
  checked in the library's strings and the Python package). libcurl reads the standard proxy variables on
  every transfer, so they are pointed at a SOCKS proxy on a Unix socket that never exists: with
  ``socks5h`` the host name is left to the proxy, so no DNS query is made, and the connection attempt is
  an AF_UNIX ``connect()`` that fails at once with ENOENT. Nothing reaches an internet socket, with or
  without the seccomp wall of ``callcoach.privacy.sandbox``; onnxruntime's libcurl honours the same
  variables, a second layer under its own switch. ``NO_PROXY`` is removed so that no host escapes the proxy.

Everything here is idempotent and cheap; it is applied by the CLI at start-up and again, as a safety net for
library use, where the vision stage imports the libraries.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

#: Where libcurl is sent: a Unix socket path that is never created (the folder does not exist either).
DEAD_PROXY = "socks5h://localhost/nonexistent-callcoach-offline/no-network.sock"
_PROXY_VARS = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")
_NO_PROXY_VARS = ("no_proxy", "NO_PROXY")
#: Every variable the offline environment sets or removes.
PROXY_VARIABLES = _PROXY_VARS + _NO_PROXY_VARS

#: Imports that the vision libraries make for features callcoach never uses, and which cost a start-up:
#: MediaPipe's audio tasks import sounddevice, whose ctypes.util.find_library("portaudio") runs ldconfig,
#: gcc and ld three times on every start. MediaPipe catches the ImportError and disables its audio helpers.
UNUSED_IMPORTS = ("sounddevice",)


def apply_offline_environment() -> None:
    """Set the environment that the libraries read when they load (and libcurl on each transfer)."""
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    for name in _PROXY_VARS:
        os.environ[name] = DEAD_PROXY
    for name in _NO_PROXY_VARS:
        os.environ.pop(name, None)


def offline_environment_applied() -> bool:
    return (
        os.environ.get("ORT_DISABLE_TELEMETRY") == "1"
        and all(os.environ.get(name) == DEAD_PROXY for name in _PROXY_VARS)
        and not any(name in os.environ for name in _NO_PROXY_VARS)
    )


@contextlib.contextmanager
def without_unused_imports() -> Iterator[None]:
    """Around the import of a vision library: the modules in ``UNUSED_IMPORTS`` fail to import."""
    blocked = [name for name in UNUSED_IMPORTS if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # the documented way to make an import fail
    try:
        yield
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


def quiet_onnxruntime(ort: Any) -> None:
    """onnxruntime's documented switch; must run before the first InferenceSession."""
    disable = getattr(ort, "disable_telemetry_events", None)
    if callable(disable):
        disable()
