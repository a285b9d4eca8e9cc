"""Bounds on what a playbook file may cost to read, checked before anything is built from it.

The playbook is hand-edited and reloaded during a call, so a file that is huge, not a file at all (a symlink
to ``/dev/zero``, a pipe), nested thousands deep or an alias bomb ("billion laughs": a few hundred bytes
whose aliases expand to billions of nodes) must fail in well under a second with a line that names the
limit, instead of exhausting memory, the stack or the CPU.

YAML's event stream (``yaml.parse``) is flat: no recursion and nothing expanded, so it is where depth,
node count and alias expansion are counted; only a document that passes is composed and validated.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import yaml

from callcoach.errors import PlaybookError

#: The packaged default is about 37 KB; a playbook 25 times that size is not one a person wrote by hand.
MAX_BYTES = 1024 * 1024
#: Mappings and lists inside each other; the playbook's own shape needs six levels.
MAX_DEPTH = 64
#: Nodes of the document with every alias expanded (the default has about 3,000).
MAX_NODES = 200_000

#: libyaml when PyYAML was built with it (much faster); the pure-Python classes otherwise.
Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _size_text(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def read_bounded(path: Path | str) -> str:
    """The file's text, read once and at most ``MAX_BYTES`` of it; anything else is a one-line error."""
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer that may never come.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise PlaybookError(f"{path}: no such file") from None
    except OSError as exc:
        raise PlaybookError(f"{path}: cannot read it ({_os_reason(exc)})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise PlaybookError(f"{path}: is a folder, not a playbook file")
        if not stat.S_ISREG(info.st_mode):
            raise PlaybookError(
                f"{path}: not a regular file (a device, pipe or socket); a playbook is a YAML text file"
            )
        if info.st_size > MAX_BYTES:
            raise PlaybookError(
                f"{path}: {_size_text(info.st_size)} is over the {_size_text(MAX_BYTES)} limit "
                "for a playbook; start again from 'callcoach playbook reset'"
            )
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_BYTES + 1)  # the size may have changed since fstat
    except OSError as exc:
        raise PlaybookError(f"{path}: cannot read it ({_os_reason(exc)})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise PlaybookError(
            f"{path}: over the {_size_text(MAX_BYTES)} limit for a playbook; "
            "start again from 'callcoach playbook reset'"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PlaybookError(f"{path}: not UTF-8 text") from None


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symlink loop"
    return exc.strerror or str(exc)


def check_shape(text: str, source: str) -> None:
    """Refuse a document nested deeper than ``MAX_DEPTH`` or whose aliases expand past ``MAX_NODES``.

    Each finished node's expanded size is known from the events alone: a scalar or alias-free collection
    counts its own nodes, an alias counts the size of the node its anchor named. YAML errors pass through
    untouched for the parser proper to report with their line.
    """
    # ``seen`` counts every node of the document as if each alias were written out; an anchor's size is
    # how much ``seen`` grew between its collection's start and end.
    open_at: list[tuple[int, str | None]] = []  # (seen at the collection's start, its anchor)
    sizes: dict[str, int] = {}
    seen = 0
    for event in yaml.parse(text, Loader=Loader):
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_at) >= MAX_DEPTH:
                raise PlaybookError(
                    f"{source}:{line}: nested more than {MAX_DEPTH} levels deep, the limit "
                    "for a playbook; check the indentation and the brackets"
                )
            open_at.append((seen, event.anchor))
            seen += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            start, anchor = open_at.pop()
            if anchor is not None:
                sizes[anchor] = seen - start
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = 1
            seen += 1
        elif isinstance(event, yaml.AliasEvent):
            # An alias to an unknown anchor is a YAML error that composing reports with its line.
            seen += sizes.get(event.anchor or "", 1)
        if seen > MAX_NODES:
            raise PlaybookError(
                f"{source}:{line}: more than {MAX_NODES:,} entries, each alias (*name) counted as all it "
                "stands for: over the limit for a playbook; shorten it or use fewer aliases"
            )
