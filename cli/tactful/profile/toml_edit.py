"""Round-trip TOML edits that keep a hand-written file's comments, key order and layout.

tomlkit keeps every comment, but it files a comment line under the table that precedes
it, while a person writes a comment above the table it describes. The helpers here move
those comment blocks with the table they describe when a table is added or removed, and
put new keys after a table's last key rather than after the comments that follow it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Comment, Item, Table, Whitespace

from tactful.errors import ConfigError

Trivia = list[tuple[Any, Item]]


def parse_document(text: str, where: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}") from None


def set_value(text: str, keys: Sequence[str], value: Any) -> str:
    """``text`` with the dotted key ``keys`` set to ``value``, creating tables on the way."""
    doc = parse_document(text, "profile")
    container: Any = doc
    for depth, key in enumerate(keys[:-1]):
        if key not in container:
            add_item(container, key, tomlkit.table())
        container = container[key]
        if not isinstance(container, dict):
            raise ConfigError(f"'{'.'.join(keys[: depth + 1])}' is a value, not a table")
    if keys[-1] in container:
        container[keys[-1]] = value  # tomlkit keeps the key's inline comment
    else:
        add_item(container, keys[-1], value)
    return _one_final_newline(tomlkit.dumps(doc))


def add_item(container: Any, key: str, value: Any) -> None:
    """Add ``key`` after the last key of ``container``, before any trailing comments."""
    body = _body(container)
    if body is None:  # an inline table has no comments to step around
        container[key] = value
    elif isinstance(value, Table):
        _add_table(container, body, key, value)
    elif not _insert_before_tables(container, body, key, value):
        tail = _pop_trivia(body)
        container[key] = value
        body.extend(tail)


def _add_table(container: Any, body: Trivia, key: str, table: Table) -> None:
    # The comment block that ends what is rendered last describes what comes after it,
    # so it moves below the new table; without one, a blank line keeps them apart.
    previous = _last_table(container)
    block = _pop_comment_block(_deepest_body(previous) if previous is not None else body)
    table.value.body.extend(block or [(None, tomlkit.nl())])
    container[key] = table


def _insert_before_tables(container: Any, body: Trivia, key: str, value: Any) -> bool:
    """Put a plain key after the last plain key, above the comments of the first table."""
    first = next((i for i, (_, item) in enumerate(body) if isinstance(item, Table)), None)
    if first is None:
        return False
    while first and body[first - 1][0] is None:
        first -= 1
    inner = container if isinstance(container, Container) else container.value
    inner._insert_at(first, key, value)  # private, but tomlkit has no public insert-at
    return True


def remove_table(text: str, keys: Sequence[str]) -> str:
    """``text`` without the table at ``keys`` and without the comment block above it."""
    doc = parse_document(text, "profile")
    parent: Any = doc
    for key in keys[:-1]:
        parent = parent[key]
    table = parent[keys[-1]]
    before = _body_before(doc, keys)
    # The trivia at the end of the removed table belongs to the table after it: keep it.
    tail = _pop_trivia(_deepest_body(table)) if isinstance(table, Table) else []
    if before is not None:
        _pop_comment_block(before)
    del parent[keys[-1]]
    if before is not None and tail:
        while before and before[-1][0] is None and isinstance(before[-1][1], Whitespace):
            before.pop()  # the blank lines of the tail take their place
        before.extend(tail)
    return _one_final_newline(tomlkit.dumps(doc))


def _one_final_newline(text: str) -> str:
    # A table added last brings a blank line meant to separate it from what follows.
    return text.rstrip("\n") + "\n"


# ---------------------------------------------------------------- tomlkit bodies


def _body(container: Any) -> Trivia | None:
    if isinstance(container, Container):
        return container.body
    if isinstance(container, Table):
        return container.value.body
    return None


def _keyed(body: Trivia) -> list[tuple[Any, Item]]:
    return [(k, v) for k, v in body if k is not None]


def _last_table(container: Any) -> Table | None:
    body = _body(container) or []
    keyed = _keyed(body)
    return keyed[-1][1] if keyed and isinstance(keyed[-1][1], Table) else None


def _deepest_body(table: Table) -> Trivia:
    """The body rendered last inside ``table`` (its last sub-table's, if it has one)."""
    last = _last_table(table)
    return _deepest_body(last) if last is not None else table.value.body


def _pop_trivia(body: Trivia) -> Trivia:
    """Remove and return the comments and blank lines after the last key of ``body``."""
    tail: Trivia = []
    while body and body[-1][0] is None:
        tail.insert(0, body.pop())
    return tail


def _pop_comment_block(body: Trivia) -> Trivia:
    """Remove and return the final comment lines of ``body`` and the blank lines before them."""
    start = len(body)
    while start and body[start - 1][0] is None and isinstance(body[start - 1][1], Comment):
        start -= 1
    if start == len(body):
        return []
    while start and body[start - 1][0] is None and isinstance(body[start - 1][1], Whitespace):
        start -= 1
    block = body[start:]
    del body[start:]
    return block


def _body_before(doc: Container, keys: Sequence[str]) -> Trivia | None:
    """The body rendered just before the header of the table at ``keys``, if it ends there.

    None when the table comes first in its file (nothing to move; its comment stays).
    """
    for depth in range(len(keys), 0, -1):
        parent: Any = doc
        for key in keys[: depth - 1]:
            parent = parent[key]
        names = [k.key for k, _ in _keyed(_body(parent) or [])]
        index = names.index(keys[depth - 1])
        if index > 0:
            previous = parent[names[index - 1]]
            return _deepest_body(previous) if isinstance(previous, Table) else None
        if not (isinstance(parent, Table) and parent.is_super_table()):
            return None
    return None
