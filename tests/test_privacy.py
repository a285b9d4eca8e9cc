"""Local only, the parts that run fast: the strace reader, the scratch-folder cleanup, the store's modes,
the telemetry switches and (on Linux) the seccomp wall in a child process."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from callcoach.privacy import strace
from callcoach.privacy.check import _leaves_machine
from callcoach.privacy.files import private_store
from callcoach.privacy.scratch import PREFIX, contained_caches, remove_stale, stale_folders
from callcoach.privacy.switches import DEAD_PROXY, apply_offline_environment, without_unused_imports

# Shaped like strace 6 output of one traced analyze run: two threads interleave, a -k stack frame follows a call.
TRACE = """\
7236  socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = -1 EACCES (Permission denied)
 > /usr/lib/x86_64-linux-gnu/libc.so.6(__socket+0x7) [0x10adc7]
7330  socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0) = 12
7330  connect(12, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)
7330  socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 12
7330  connect(12, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16 <unfinished ...>
7337  socket(AF_INET6, SOCK_DGRAM, IPPROTO_IP) = 11
7330  <... connect resumed>) = 0
7330  sendmmsg(12, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="x", iov_len=37}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=37}], 2, MSG_NOSIGNAL) = 2
7337  sendto(11, "x", 1, 0, {sa_family=AF_INET6, sin6_port=htons(9), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 1
7337  connect(11, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::7", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH (Network is unreachable)
7337  connect(11, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ECONNREFUSED (Connection refused)
7338  connect(5, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 0
7339  getsockname(8, {sa_family=AF_INET, sin_port=htons(5000), sin_addr=inet_addr("192.0.2.1")}, [16]) = 0
7340  --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=7341} ---
7341  execve("/usr/bin/gcc", ["/usr/bin/gcc", "-Wl,-t", "-o", "/tmp/tmp4s3bu2i2", "-lportaudio"], 0x7f9 /* 46 vars */) = 0
7342  execve("/root/.cargo/bin/ld", ["ld"], 0x7f9 /* 4 vars */) = -1 ENOENT (No such file or directory)
7343  +++ exited with 0 +++
"""  # noqa: E501


def test_strace_reader_finds_dns_and_outside_connections_only() -> None:
    calls = strace.parse(TRACE)
    outside = strace.outside_traffic(calls)
    # The resumed connect to the resolver, the IPv6 connect to a documentation address, the local stub resolver
    # (port 53 counts even on loopback); not the ::1 datagram, the v4-mapped loopback, a getsockname or AF_UNIX.
    assert [(c.tid, c.name, c.targets) for c in outside] == [
        (7330, "connect", (("AF_INET", "10.255.255.53", 53),)),
        (7337, "connect", (("AF_INET6", "2001:db8::7", 443),)),
        (7338, "connect", (("AF_INET", "127.0.0.53", 53),)),
    ]
    assert len(strace.dns_queries(calls)) == 2
    created, refused = strace.inet_sockets(calls)
    assert [c.tid for c in created] == [7330, 7337] and [c.tid for c in refused] == [7236]
    assert strace.programs_run(calls) == ["/usr/bin/gcc"]


def test_strace_reader_sees_an_address_inside_sendmsg_and_an_empty_trace() -> None:
    line = (
        '9  sendmsg(3, {msg_name={sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("198.51.100.4")}, '
        'msg_namelen=16, msg_iov=[{iov_base="x", iov_len=1}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 1'
    )
    assert [c.targets for c in strace.outside_traffic(strace.parse(line))] == [(("AF_INET", "198.51.100.4", 443),)]
    assert strace.parse("") == [] and strace.outside_traffic(strace.parse("garbage\n\n > frame")) == []


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.1", False),
        ("::", False),
        ("not an address", False),
        ("192.168.1.1", False),
    ],
)
def test_loopback(address: str, loopback: bool) -> None:
    assert strace.is_loopback(address) is loopback


def test_python_level_events_count_only_what_leaves_the_machine() -> None:
    assert _leaves_machine("socket.connect", (None, ("192.0.2.1", 443)))
    assert _leaves_machine("socket.getaddrinfo", ("example.invalid", 443, 0, 0, 0))
    assert not _leaves_machine("socket.connect", (None, ("127.0.0.1", 6000)))
    assert not _leaves_machine("socket.connect", (None, "/tmp/.X11-unix/X0"))
    assert not _leaves_machine("socket.getaddrinfo", ("localhost", 80, 0, 0, 0))


# --- scratch folders -------------------------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    return int(proc.stdout)


def test_stale_scratch_of_dead_processes_is_removed_and_nothing_else(tmp_path: Path) -> None:
    dead = tmp_path / f"{PREFIX}{_dead_pid()}-abc"
    (dead / "sub").mkdir(parents=True)
    (dead / "sub" / "fontlist.json").write_text("{}")
    alive = tmp_path / f"{PREFIX}{os.getppid()}-def"  # pytest's parent: running
    alive.mkdir()
    mine = tmp_path / f"{PREFIX}{os.getpid()}-ghi"
    mine.mkdir()
    other = tmp_path / f"{PREFIX}oldstyle"  # no pid in the name: not ours to judge
    other.mkdir()
    assert stale_folders(str(tmp_path)) == [dead]
    assert remove_stale(str(tmp_path)) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, mine.name, other.name])


def test_contained_caches_removes_its_folder_and_restores_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("MPLCONFIGDIR", raising=False)
    monkeypatch.setenv("NO_PROXY", "*")
    with contained_caches():
        cache = Path(os.environ["XDG_CACHE_HOME"])
        assert cache.parent == tmp_path and cache.name.startswith(f"{PREFIX}{os.getpid()}-")
        assert os.environ["MPLCONFIGDIR"] == str(cache)
        (cache / "fontlist.json").write_text("{}")
        with pytest.raises(ImportError):
            import sounddevice  # noqa: F401
    assert list(tmp_path.iterdir()) == []
    assert "XDG_CACHE_HOME" not in os.environ and "MPLCONFIGDIR" not in os.environ
    assert os.environ["ORT_DISABLE_TELEMETRY"] == "1" and os.environ["https_proxy"] == DEAD_PROXY
    assert "NO_PROXY" not in os.environ  # would let a host past the dead proxy


def test_unused_imports_are_blocked_only_inside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    with without_unused_imports():
        assert sys.modules["sounddevice"] is None
    assert "sounddevice" not in sys.modules


def test_offline_environment_points_libcurl_at_a_unix_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "no_proxy", "NO_PROXY", "ORT_DISABLE_TELEMETRY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "localhost,.example")
    apply_offline_environment()
    assert DEAD_PROXY.startswith("socks5h://localhost/")  # socks5h: the proxy resolves names, so no DNS here
    assert not Path(DEAD_PROXY.removeprefix("socks5h://localhost")).parent.exists()
    assert os.environ["HTTPS_PROXY"] == os.environ["ALL_PROXY"] == DEAD_PROXY and "no_proxy" not in os.environ


# --- the store's modes -----------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_store_folder_and_files_are_private(tmp_path: Path) -> None:
    from callcoach.session.store import SessionStore

    old = os.umask(0o022)  # the usual umask, under which SQLite alone made 0644 files
    try:
        db = tmp_path / "new" / "callcoach" / "sessions.db"
        with SessionStore(db, retention_days=None) as store:
            sid = store.begin_session(source_kind="video", source_name="x", context="general")
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in db.parent.iterdir()}
            store.end_session(sid)
    finally:
        os.umask(old)
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert {"sessions.db", "sessions.db-wal", "sessions.db-shm"} <= set(modes), modes
    assert all(mode == 0o600 for mode in modes.values()), modes


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_an_existing_store_is_tightened_but_a_folder_the_user_chose_is_left_alone(tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir(mode=0o755)
    os.chmod(own, 0o755)
    db = own / "sessions.db"
    db.write_text("")
    os.chmod(db, 0o644)
    private_store(db, tighten_existing_folder=False)
    assert stat.S_IMODE(own.stat().st_mode) == 0o755 and stat.S_IMODE(db.stat().st_mode) == 0o600
    private_store(db, tighten_existing_folder=True)
    assert stat.S_IMODE(own.stat().st_mode) == 0o700


# --- the wall -------------------------------------------------------------------------------------------

_WALL = """
import json, socket, threading
from callcoach.privacy import sandbox
status = sandbox.install()
seen = {"active": status.active}
def tries(family, kind=socket.SOCK_STREAM):
    try:
        socket.socket(family, kind).close()
        return "ok"
    except OSError as exc:
        return exc.errno
seen["inet"] = tries(socket.AF_INET)
seen["inet6"] = tries(socket.AF_INET6, socket.SOCK_DGRAM)
seen["unix"] = tries(socket.AF_UNIX)
out = []
t = threading.Thread(target=lambda: out.append(tries(socket.AF_INET))); t.start(); t.join()
seen["thread"] = out[0]
try:
    socket.getaddrinfo("example.invalid", 443)
    seen["dns"] = "answered"
except OSError as exc:
    seen["dns"] = "failed"
print(json.dumps(seen))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the seccomp wall is Linux only")
def test_the_wall_refuses_internet_sockets_in_every_thread_and_keeps_unix_sockets() -> None:
    import errno

    seccompy = pytest.importorskip("seccompy", reason="seccompy is not installed")
    if not seccompy.supported():
        pytest.skip("this kernel has no seccomp filters")
    env = {k: v for k, v in os.environ.items() if k != "CALLCOACH_NETWORK_SANDBOX"}
    proc = subprocess.run(
        [sys.executable, "-c", _WALL], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    seen = json.loads(proc.stdout)
    assert seen == {
        "active": True,
        "inet": errno.EACCES,
        "inet6": errno.EACCES,
        "unix": "ok",
        "thread": errno.EACCES,
        "dns": "failed",
    }
    env["CALLCOACH_NETWORK_SANDBOX"] = "off"
    proc = subprocess.run(
        [sys.executable, "-c", _WALL], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    assert json.loads(proc.stdout)["inet"] == "ok"  # the switch works, so the first run measured the wall
    socket.socket(socket.AF_INET).close()  # and this test process itself was never walled in


# --- callcoach privacy -----------------------------------------------------------------------------------


def _report(python_attempts: list[str], kernel_attempts: list[str] | None) -> dict[str, object]:
    report: dict[str, object] = {"python_level": {"network_attempts": python_attempts}}
    if kernel_attempts is not None:
        report["kernel_level"] = {"network_attempts": kernel_attempts}
    return report


def test_privacy_check_fails_when_anything_was_attempted(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from callcoach.errors import CallcoachError
    from callcoach.privacy import check

    assert check.network_attempts(_report([], [])) == 0
    assert check.network_attempts(_report([], ["7 connect(...)", "8 sendto(...)"])) == 2
    assert check.network_attempts(_report(["socket.connect(('192.0.2.1', 443),)"], None)) == 1
    monkeypatch.setattr(check, "run_check", lambda seconds, use_strace: _report([], ["7 connect(...)"]))
    monkeypatch.setattr(check, "_text", lambda report: "report")
    args = argparse.Namespace(probe=None, seconds=1.0, no_strace=False, json=False)
    with pytest.raises(CallcoachError, match="1 network attempt"):
        check.main(args)
    with pytest.raises(CallcoachError, match="--seconds"):
        check.main(argparse.Namespace(probe=None, seconds=0.0, no_strace=False, json=False))


def _groups(lines: list[str]) -> dict[str, list[str]]:
    """The paths under each two-space-indented group heading of the files section."""
    out: dict[str, list[str]] = {}
    current = ""
    for line in lines[1:]:
        if not line.startswith("   "):
            current = line[:19].strip()
            out[current] = []
        else:
            out[current].append(line.strip())
    return out


def test_files_written_and_files_still_there_are_separate_groups() -> None:
    from callcoach.privacy.check import files_lines

    store = "/tmp/callcoach-privacy-x/store/sessions.db"
    kernel = {
        "files_written": ["/tmp/callcoach-libs-1/", "/home/u/.cache/left.json", store],
        "files_removed": ["/tmp/callcoach-libs-1/"],
        "files_left": ["/home/u/.cache/left.json"],
        "files_in_probe_store": [store],
    }
    lines = files_lines(kernel)
    assert lines[0].startswith("Files written      3 ")
    assert _groups(lines) == {
        "still there": ["/home/u/.cache/left.json"],
        "removed again": ["/tmp/callcoach-libs-1/"],
        "probe's store": [store],
    }
    clean = files_lines({**kernel, "files_left": []})
    assert "  still there      0: nothing the probe wrote is left on disk" in clean
