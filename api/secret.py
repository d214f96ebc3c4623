"""The secret that signs pagination cursors.

``EVENT_RECORDS_SECRET`` when it is set (every node of a deployment sets the same
value). Otherwise one node on SQLite generates a random secret at its first
start and keeps it in a file of its own in the data directory (mode 0600), so a
restart keeps the cursors it issued valid; the file is never in the database, a
dump or an answer. Several nodes (PostgreSQL, replicas) would each generate
their own and reject each other's cursors, so there a missing secret stops the
start, unless ``EVENT_RECORDS_ALLOW_LOCAL_SECRET=1`` says one node is all there is.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from models.db import database_file

SECRET_FILENAME = "cursor-secret"
#: random bytes of a generated secret (written as hex)
SECRET_BYTES = 32


class SecretMissing(RuntimeError):
    """The configuration needs EVENT_RECORDS_SECRET and has none."""


def data_directory(database_url: str) -> Path:
    """``EVENT_RECORDS_DATA_DIR``, else the directory of the SQLite file, else ./data."""
    configured = os.environ.get("EVENT_RECORDS_DATA_DIR")
    if configured:
        return Path(configured)
    path = database_file(database_url)
    return path.parent if path is not None else Path("data")


def cursor_secret(database_url: str, replica_urls: list[str]) -> str:
    configured = os.environ.get("EVENT_RECORDS_SECRET")
    if configured:
        return configured
    several_nodes = database_file(database_url) is None or bool(replica_urls)
    if several_nodes and os.environ.get("EVENT_RECORDS_ALLOW_LOCAL_SECRET") != "1":
        raise SecretMissing(
            "EVENT_RECORDS_SECRET is not set. With PostgreSQL or read replicas the API may run on several "
            "nodes, which must sign cursors with one secret: set EVENT_RECORDS_SECRET to the same long random "
            "value on every node (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`), or, on a "
            "single node, set EVENT_RECORDS_ALLOW_LOCAL_SECRET=1 to keep a generated one in the data directory.")
    return stored_secret(data_directory(database_url))


def stored_secret(directory: Path) -> str:
    """The secret kept in ``directory``, generated (mode 0600, created once even when several
    processes start together) when there is none."""
    path = directory / SECRET_FILENAME
    directory.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text("ascii").strip()
        if len(value) < SECRET_BYTES:
            raise SecretMissing(f"{path} holds no usable secret; remove it to have a new one generated "
                                "(cursors issued before become invalid) or set EVENT_RECORDS_SECRET") from None
        return value
    value = secrets.token_hex(SECRET_BYTES)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(value + "\n")
    return value
