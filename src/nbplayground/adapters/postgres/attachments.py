"""Images' bytes in the team log: once per user and sha256, under the user's row security."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def save(conn: Any, items: Sequence[Mapping[str, Any]]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO attachments VALUES (%s, %s, %s, %s, now()) ON CONFLICT DO NOTHING",
            [[i["sha256"], i["user_id"], i["media_type"], i["bytes"]] for i in items])


def load(conn: Any, sha256: str) -> bytes | None:
    found = conn.execute("SELECT bytes FROM attachments WHERE sha256 = %s LIMIT 1",
                         [sha256]).fetchone()
    return bytes(found[0]) if found else None
