"""Authorization: whose rows a user may read. Own rows always; others' only with the admin role."""

from __future__ import annotations

from nbplayground.errors import NotAuthorized


def readable_user(current: str, *, user: str | None = None, all_users: bool = False,
                  admins: frozenset[str] = frozenset()) -> str | None:
    """The user_id filter for a read (None = every user), or NotAuthorized."""
    if user is not None and all_users:
        raise NotAuthorized("pass either user=... or all_users=True, not both")
    if all_users or (user is not None and user != current):
        if current not in admins:
            whose = "every user's rows" if all_users else f"{user!r}'s rows"
            raise NotAuthorized(
                f"{current!r} may not read {whose}: only admins may (set NBPLAYGROUND_ADMINS or "
                "`admins = [...]` in the nbplayground config.toml)")
        return None if all_users else user
    return current
