"""A private PostgreSQL cluster for the tests: initdb in a temp dir, loopback only, stopped after.

Debian's PostgreSQL binaries refuse to run as root, so as root the cluster runs as the
`postgres` system user (the package creates it) through runuser, in a directory it owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

OWNER = "nbowner"
OWNER_PASSWORD = "owner-pw-CANARY"
DATABASE = "nbplayground"


def bindir() -> Path | None:
    """Where initdb and pg_ctl are: pg_config's answer, else the newest Debian install."""
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                             check=True).stdout.strip()
        if (Path(out) / "initdb").exists():
            return Path(out)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if
                   Path(p).parent.parent.name.isdigit() else 0)
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Cluster:
    root: Path
    port: int

    def dsn(self, user: str = OWNER, password: str | None = OWNER_PASSWORD,
            database: str = DATABASE) -> str:
        auth = user if password is None else f"{user}:{password}"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A fresh database owned by the owner; its owner DSN."""
        import psycopg

        with psycopg.connect(self.dsn(database="postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(database=name)


def _as_cluster_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@contextlib.contextmanager
def private_cluster(*, fsync: bool = False) -> Iterator[Cluster]:
    """initdb + pg_ctl start on a free 127.0.0.1 port; stopped and removed at the end."""
    bins = bindir()
    if bins is None:
        raise RuntimeError("PostgreSQL is not installed (no initdb); run scripts/bootstrap.sh "
                           "as root or apt-get install postgresql")
    root = Path(tempfile.mkdtemp(prefix="nbplayground-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    (root / "pw").write_text(OWNER_PASSWORD + "\n")
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        for p in (root, sock, root / "pw"):
            os.chown(p, pg.pw_uid, pg.pw_gid)
    started = False
    try:
        subprocess.run(_as_cluster_user([
            str(bins / "initdb"), "-D", str(data), "-U", OWNER, f"--pwfile={root / 'pw'}",
            "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8",
            "--no-instructions", "--locale=C.UTF-8"]), check=True, capture_output=True)
        port = 0
        for _attempt in range(5):  # a port taken between free_port() and the bind: try another
            port = free_port()
            opts = (f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} "
                    f"-c fsync={'on' if fsync else 'off'} -c max_connections=100")
            run = subprocess.run(_as_cluster_user([
                str(bins / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w",
                "-t", "30", "-o", opts, "start"]), capture_output=True, text=True)
            if run.returncode == 0:
                started = True
                break
            time.sleep(0.1)
        if not started:
            log = (root / "log").read_text() if (root / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {log[-2000:]}")
        cluster = Cluster(root, port)
        cluster.create_database(DATABASE)
        yield cluster
    finally:
        if started:
            subprocess.run(_as_cluster_user([
                str(bins / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
