"""The command line: `python -m nbplayground team init DSN --user alice --admin carol`."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence

from nbplayground.errors import NbPlaygroundError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nbplayground")
    commands = parser.add_subparsers(dest="command", required=True)
    team = commands.add_parser("team", help="the team log on PostgreSQL")
    team_commands = team.add_subparsers(dest="team_command", required=True)
    init = team_commands.add_parser(
        "init", help="set a database up as a team log (idempotent; run as its owner)")
    init.add_argument("dsn", help="the owner's postgresql:// URL of the database")
    init.add_argument("--user", action="append", default=[], metavar="NAME",
                      help="a login that reads and writes only its own rows (repeatable)")
    init.add_argument("--admin", action="append", default=[], metavar="NAME",
                      help="a login that reads every row and sets limits (repeatable)")
    init.add_argument("--plan", default="free", help="the plan new users start on")
    init.add_argument("--ask-passwords", action="store_true",
                      help="prompt for each login's password (else the DBA's authentication, "
                           "e.g. peer or an existing password, is left as it is)")
    args = parser.parse_args(argv)

    from nbplayground import team as team_log

    def logins(names: list[str]) -> dict[str, str | None]:
        if not args.ask_passwords:
            return dict.fromkeys(names)
        return {n: getpass.getpass(f"password for {n}: ") or None for n in names}

    try:
        summary = team_log.init(args.dsn, users=logins(args.user), admins=logins(args.admin),
                                plan=args.plan)
    except NbPlaygroundError as e:
        print(f"nbplayground: {e}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
