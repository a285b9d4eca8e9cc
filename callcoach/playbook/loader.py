"""Reading the playbook: YAML to typed model, one-line errors that point at the line (hot reload is in
``callcoach.playbook.watcher``).

A person edits this file by hand, often during a call, so every failure becomes a ``PlaybookError`` whose
text is ``FILE:LINE: FIELD: what is wrong`` and nothing else. Pydantic reports where a problem is as a
path of keys and indexes; the YAML node tree (``yaml.compose``) knows where each key sits in the file, so
the path is walked through the tree to find the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import platformdirs
import yaml
from pydantic import ValidationError

from callcoach.errors import PlaybookError
from callcoach.playbook.limits import Loader, check_shape, read_bounded
from callcoach.playbook.model import Playbook

PLAYBOOK_FILENAME = "playbook.yaml"


def default_playbook_path() -> Path:
    """The playbook shipped inside the package (read-only; ``callcoach playbook edit`` copies it)."""
    return Path(__file__).with_name("default.yaml")


def user_playbook_path() -> Path:
    """Where the user's own copy lives, whether or not it exists yet."""
    return Path(platformdirs.user_config_dir("callcoach")) / PLAYBOOK_FILENAME


def active_playbook_path() -> Path:
    """The file ``load_playbook()`` reads: the user's copy if there is one, else the packaged default."""
    user = user_playbook_path()
    return user if user.is_file() else default_playbook_path()


# --- error locations ------------------------------------------------------------------------------------


def _key_text(node: yaml.Node) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else "?"


def _locate(root: yaml.Node, loc: Sequence[int | str]) -> tuple[int, str, yaml.Node | None]:
    """The 1-based line of the deepest part of ``loc`` present in the file, ``loc`` as a field path, and the
    node it names (None when the field is missing from the file)."""
    node, line = root, root.start_mark.line + 1
    path = ""
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if _key_text(key) == part:
                    child, line = value, key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        elif isinstance(part, str) and not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            # Pydantic names the branch of a union it tried ("str", "CueOverride"); the file has no such key.
            continue
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
        if child is None:
            return line, path, None  # a missing field: point at the mapping that should hold it
        node = child
    return line, path or "(top level)", node


def _duplicate_key(node: yaml.Node) -> tuple[int, str] | None:
    """YAML quietly keeps the last of two equal keys; in a hand-edited file that is almost always a slip."""
    stack: list[tuple[yaml.Node, str]] = [(node, "")]
    while stack:
        current, path = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in current.value:
                name = _key_text(key)
                child_path = f"{path}.{name}" if path else name
                if name in seen:
                    return key.start_mark.line + 1, child_path
                seen.add(name)
                stack.append((value, child_path))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(current.value))
    return None


def _message(error: Any, node: yaml.Node | None) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        return "not a known field (check the spelling and the indentation)"
    if kind == "string_type" and isinstance(node, yaml.MappingNode):
        return "expected text, found a mapping: put text that contains ': ' in double quotes"
    msg = str(error.get("msg", "invalid"))
    # Our own validators raise ValueError; pydantic prefixes that, which reads oddly in a one-line error.
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


# --- parsing --------------------------------------------------------------------------------------------


def _compose(text: str, loader_class: type) -> tuple[Any, Any]:
    """The node tree (for lines) and the data built from it, from one pass over the text."""
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        return root, (loader.construct_document(root) if root is not None else None)
    finally:
        loader.dispose()


#: Up to this size a YAML error is described by PyYAML's pure-Python parser, whose words and line numbers
#: read better than libyaml's (which points past an unclosed bracket at the end); beyond it, libyaml's.
_WORDING_BYTES = 64 * 1024


def _yaml_problem(text: str, source: str, exc: yaml.YAMLError) -> str:
    if Loader is not yaml.SafeLoader and len(text) <= _WORDING_BYTES:
        # Safe to parse again: the error came before any depth or alias limit was crossed, so the
        # recursive pure-Python composer stays as shallow as the events already read.
        try:
            _compose(text, yaml.SafeLoader)
        except yaml.YAMLError as pure:
            exc = pure
        except RecursionError:
            pass
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = " ".join(str(exc.problem or exc.context or "unreadable").split())
        return f"{where}: not valid YAML: {problem}"
    return f"{source}: not valid YAML: {' '.join(str(exc).split())}"


def parse_playbook(text: str, source: str = "<playbook>") -> Playbook:
    """Validate playbook YAML; any problem raises ``PlaybookError`` naming ``source``, the line and the field."""
    try:
        check_shape(text, source)  # depth and alias expansion are bounded before anything is built
        root, data = _compose(text, Loader)
    except yaml.YAMLError as exc:
        raise PlaybookError(_yaml_problem(text, source, exc)) from None
    if root is None or data is None:
        raise PlaybookError(f"{source}:1: the playbook is empty")
    duplicate = _duplicate_key(root)
    if duplicate:
        line, path = duplicate
        raise PlaybookError(f"{source}:{line}: {path}: appears twice; keep one")
    if not isinstance(data, dict):
        raise PlaybookError(f"{source}:1: a playbook is a mapping of keys (version, contexts, cues...)")
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        line, path, node = _locate(root, first.get("loc", ()))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise PlaybookError(f"{source}:{line}: {path}: {_message(first, node)}{more}") from None


def read_playbook_text(path: Path | str) -> str:
    """The file's text: a regular UTF-8 file of at most ``limits.MAX_BYTES``, read once."""
    return read_bounded(path)


def load_playbook(path: Path | str | None = None) -> Playbook:
    """Load ``path``, or the user's copy if it exists, or the packaged default."""
    target = Path(path) if path is not None else active_playbook_path()
    return parse_playbook(read_playbook_text(target), str(target))
