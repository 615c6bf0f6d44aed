"""Setting up a team log on PostgreSQL: `team.init(owner_dsn, users={...}, admins={...})`.

Run by the database's owner (a DBA, or any role that may create roles). Idempotent: run it
again to add users, change passwords or upgrade the schema. Shell:
`python -m nbplayground team init DSN --user alice --user bob --admin carol`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nbplayground.accounts.limits import check_plan
from nbplayground.errors import InvalidInput

Logins = Mapping[str, str | None] | Iterable[str] | None


def init(owner_dsn: str, users: Logins = None, admins: Logins = None, *,
         plan: str = "free") -> dict[str, Any]:
    """Schema (the file log's tables), one LOGIN role per user and admin (with the password
    given, else the DBA's own authentication), grants, FORCE ROW LEVEL SECURITY and the
    policies: users see and write only their own rows, admins read every row and set limits.
    New users start on `plan`; the summary returned holds no password."""
    from nbplayground.adapters.postgres import is_url
    from nbplayground.adapters.postgres.team_setup import init as set_up

    if not is_url(owner_dsn):
        raise InvalidInput("owner_dsn must be a postgresql:// URL of the team log's database, "
                           "e.g. 'postgresql://postgres@127.0.0.1:5432/nbplayground'")
    return set_up(owner_dsn, _logins(users, "users"), _logins(admins, "admins"),
                  plan=check_plan(plan))


def _logins(given: Logins, what: str) -> dict[str, str | None]:
    if given is None:
        return {}
    if isinstance(given, str):
        raise InvalidInput(f"{what} must be a dict of name -> password or a list of names, "
                           f"not the string {given!r}")
    if isinstance(given, Mapping):
        return dict(given)
    return dict.fromkeys(given)
