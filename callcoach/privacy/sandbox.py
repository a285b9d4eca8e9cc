"""A kernel-enforced wall against the network, installed at start-up where the OS offers one.

On Linux a seccomp filter (through the ``seccompy`` binding) makes ``socket()`` fail for every address
family except AF_UNIX (X11, D-Bus, Wayland) and AF_NETLINK (the C library's interface queries): no DNS
query, TCP connection or datagram can leave the process, from Python or from any native library's own
thread. The filter is installed with TSYNC, so threads that already exist get it too, and children inherit
it. ``io_uring_setup`` is refused as well, because io_uring can open sockets without the ``socket`` system
call. The refusal is EACCES, the error ``socket(2)`` documents for "permission denied": libraries fail at
once and quietly (a resolver reports "no address", an HTTP client "couldn't connect") instead of timing out.

macOS and Windows offer no unprivileged per-process equivalent that this project can rely on; there the
telemetry switches in ``callcoach.privacy.switches`` are the defence (see docs/privacy.md).

``CALLCOACH_NETWORK_SANDBOX=off`` leaves the wall down (for a display reached over TCP, e.g. X11 forwarding
over SSH, which needs an AF_INET socket to the local end of the tunnel).
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import sys
from dataclasses import dataclass

SANDBOX_ENV = "CALLCOACH_NETWORK_SANDBOX"

#: Families a socket may still be created in; everything else (AF_INET, AF_INET6, AF_PACKET, ...) is refused.
ALLOWED_FAMILIES: tuple[int, ...] = (1, 16)  # AF_UNIX, AF_NETLINK (Linux numbers)
REFUSAL_ERRNO = errno.EACCES
# x32 system calls reach the kernel with the native AUDIT_ARCH and this bit set on the number.
_X32_BIT = 0x40000000


@dataclass(frozen=True)
class SandboxStatus:
    active: bool
    #: How the network is kept out, or why it is not, in one line for people.
    detail: str


_status: SandboxStatus | None = None


def status() -> SandboxStatus:
    """What ``install()`` did in this process (or what the kernel says, if something else installed it)."""
    if _status is not None:
        return _status
    if _seccomp_mode() == 2:
        return SandboxStatus(True, "a seccomp filter is in force (inherited from the parent process)")
    return SandboxStatus(False, "not installed in this process")


def install() -> SandboxStatus:
    """Install the wall once for the whole process. Never raises: the result says what happened."""
    global _status
    if _status is not None:
        return _status
    if os.environ.get(SANDBOX_ENV, "").strip().lower() in ("off", "0", "no", "false"):
        _status = SandboxStatus(False, f"switched off by {SANDBOX_ENV}={os.environ[SANDBOX_ENV]}")
    elif not sys.platform.startswith("linux"):
        _status = SandboxStatus(False, f"no kernel sandbox on {sys.platform}: telemetry switches only")
    else:
        _status = _install_seccomp()
    return _status


def _install_seccomp() -> SandboxStatus:
    try:
        import seccompy
        from seccompy import _syscall
    except ImportError as exc:
        return SandboxStatus(False, f"seccomp binding missing ({exc}); reinstall with pip install -e .")
    try:
        # seccompy finds libc with ctypes.util.find_library, which runs ldconfig (and gcc when that fails) at
        # every start; the running interpreter already has libc loaded, so hand it over directly.
        if getattr(_syscall, "_libc", "absent") is None:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
            libc.prctl.restype = ctypes.c_int
            libc.ioctl.restype = ctypes.c_int
            _syscall._libc = libc
        if not seccompy.supported():
            return SandboxStatus(False, "this kernel has no seccomp filters")
        flt = seccompy.Filter(default=seccompy.Action.ALLOW, flags=seccompy.FilterFlag.TSYNC)
        for number in (seccompy.syscall_nr("socket"), seccompy.syscall_nr("socket") | _X32_BIT):
            for family in ALLOWED_FAMILIES:
                # Only the low 32 bits: the kernel reads the family as an int.
                flt.allow(number, args=[seccompy.ArgCmp(0, seccompy.CmpOp.MASKED_EQ, family, mask=0xFFFFFFFF)])
            flt.errno(number, REFUSAL_ERRNO)
        flt.errno("io_uring_setup", errno.ENOSYS)
        flt.load()
    # An old kernel, an unknown architecture, a container that forbids seccomp: ctypes and the binding raise
    # what they raise, and the wall is best effort, so any failure becomes the status line that says so.
    except Exception as exc:  # noqa: BLE001
        return SandboxStatus(False, f"seccomp filter could not be installed ({exc})")
    return SandboxStatus(True, "seccomp: socket() refused (EACCES) for every family but AF_UNIX and AF_NETLINK")


def _seccomp_mode() -> int:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Seccomp:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def internet_refused() -> bool:
    """True when this process cannot create an internet socket (the wall holds), checked by trying."""
    try:
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    except OSError:
        return True
    probe.close()
    return False
