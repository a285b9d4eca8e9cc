"""Reading ``strace -f -e trace=network`` output: which internet traffic a process tried to send.

What counts as traffic leaving the machine: a DNS query (anything to port 53, loopback included, since a
local stub resolver forwards it) and any ``connect``/``sendto``/``sendmsg``/``sendmmsg`` to an AF_INET or
AF_INET6 address outside 127.0.0.0/8 and ::1, whatever the kernel answered: an attempt counts even when it
fails. Creating a socket sends nothing; internet sockets are counted apart (``inet_sockets``), with the
ones the sandbox refused.

Lines of different threads interleave: a call split into ``<unfinished ...>`` and ``<... resumed>`` is put
back together per thread id before it is read.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

_LINE = re.compile(r"^(?:\[pid\s+)?(\d+)\]?\s+(.*)$")
_CALL = re.compile(r"^([a-z_0-9]+)\((.*)\)\s+=\s+(.*)$")
_UNFINISHED = " <unfinished ...>"
_RESUMED = re.compile(r"^<\.\.\. ([a-z_0-9]+) resumed>\s?(.*)$")
_SOCKADDR = re.compile(r"\{sa_family=(AF_INET6?)\b([^{}]*)\}")
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
_ADDR4 = re.compile(r'sin_addr=inet_addr\("([^"]+)"\)')
_ADDR6 = re.compile(r'inet_pton\(AF_INET6,\s*"([^"]+)"')
_SENDS = frozenset({"connect", "sendto", "sendmsg", "sendmmsg"})
INET_FAMILIES = frozenset({"AF_INET", "AF_INET6"})


@dataclass(frozen=True)
class NetCall:
    """One network system call as strace showed it."""

    tid: int
    name: str
    args: str
    result: str
    #: For connect/send calls: each internet address in the arguments, as (family, address, port).
    targets: tuple[tuple[str, str, int], ...] = ()

    @property
    def failed(self) -> bool:
        return self.result.startswith("-1")

    @property
    def family(self) -> str | None:
        """For ``socket``: the address family asked for."""
        if self.name != "socket":
            return None
        return self.args.split(",", 1)[0].strip()

    def __str__(self) -> str:
        return f"{self.tid} {self.name}({self.args}) = {self.result}"


def _calls(lines: Iterable[str]) -> Iterable[tuple[int, str]]:
    pending: dict[int, str] = {}
    for raw in lines:
        match = _LINE.match(raw.rstrip("\n"))
        if not match:
            continue  # stack frames of -k, blank lines
        tid, body = int(match.group(1)), match.group(2)
        if body.startswith(("---", "+++")):
            continue  # signals and exits
        if body.endswith(_UNFINISHED):
            pending[tid] = body[: -len(_UNFINISHED)]
            continue
        resumed = _RESUMED.match(body)
        if resumed:
            body = pending.pop(tid, resumed.group(1) + "(") + resumed.group(2)
        yield tid, body


def parse(text: str | Iterable[str]) -> list[NetCall]:
    """Every complete system call in ``text`` (strace -f output, with or without -k stacks)."""
    lines = text.splitlines() if isinstance(text, str) else text
    out = []
    for tid, body in _calls(lines):
        match = _CALL.match(body)
        if not match:
            continue
        name, args, result = match.groups()
        targets: list[tuple[str, str, int]] = []
        if name in _SENDS:
            for family, inner in _SOCKADDR.findall(args):
                port = _PORT.search(inner)
                addr = (_ADDR4 if family == "AF_INET" else _ADDR6).search(inner)
                targets.append((family, addr.group(1) if addr else "?", int(port.group(1)) if port else -1))
        out.append(NetCall(tid, name, args, result.strip(), tuple(targets)))
    return out


def is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # unreadable: treated as outside
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def dns_queries(calls: Iterable[NetCall]) -> list[NetCall]:
    return [c for c in calls if any(port == 53 for _, _, port in c.targets)]


def outside_traffic(calls: Iterable[NetCall]) -> list[NetCall]:
    """Calls that tried to reach the network: DNS anywhere, or any internet address that is not loopback."""
    return [c for c in calls if any(port == 53 or not is_loopback(addr) for _, addr, port in c.targets)]


def inet_sockets(calls: Iterable[NetCall]) -> tuple[list[NetCall], list[NetCall]]:
    """Internet sockets asked for: (created, refused)."""
    asked = [c for c in calls if c.family in INET_FAMILIES]
    return [c for c in asked if not c.failed], [c for c in asked if c.failed]


def programs_run(calls: Iterable[NetCall]) -> list[str]:
    """Paths of the programs a traced process started (successful ``execve``; needs trace=execve)."""
    out = []
    for c in calls:
        if c.name == "execve" and not c.failed:
            match = re.match(r'"([^"]*)"', c.args)
            if match:
                out.append(match.group(1))
    return out
