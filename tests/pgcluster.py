"""Throw-away PostgreSQL servers for tests.

A small, dependency-light harness that runs a private PostgreSQL cluster
(optionally with a streaming-replication hot standby) in a temporary
directory.  It is a plain module -- no pytest import -- so conftest fixtures
can wrap it however they like::

    from pgcluster import PgCluster, external_url, pg_available_reason

    url = external_url()                 # TEST_DATABASE_URL, if set
    if url is None:
        reason = pg_available_reason()   # None when a local server can run
        ...
        with PgCluster() as pg:          # initdb + start; stop + rm on exit
            url = pg.create_database("app_test")

Servers listen on 127.0.0.1 only (a free port picked by binding port 0),
use trust authentication for loopback/socket connections, and keep their
unix socket inside the temporary directory.  They are tuned for speed, not
durability (fsync=off, synchronous_commit=off, ...).

PostgreSQL refuses to run as root.  When the current process is root, every
server binary (initdb, postgres, pg_basebackup) is run as the
unprivileged ``postgres`` system user (created by Debian's ``postgresql``
package) and the temporary directory is chowned to that user.  Otherwise the
binaries run as the current user.

psycopg (3) is imported lazily; it is only needed by the methods that talk
SQL (create_database, drop_database, connect, wait_for_replay).
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Mapping

__all__ = [
    "PgCluster",
    "PgClusterError",
    "external_url",
    "find_pg_bin",
    "pg_available_reason",
    "wait_for_replay",
]

#: Environment variable naming an existing server to use instead of a local one.
EXTERNAL_URL_ENV = "TEST_DATABASE_URL"
#: Environment variable naming a directory holding initdb/pg_ctl/... (optional).
PG_BIN_ENV = "PG_BIN"
#: Globs searched (newest version first) for the server binaries.
PG_BIN_GLOBS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin")
#: Binaries the harness needs.
REQUIRED_BINARIES = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
#: OS user that runs the server when we are root.
DEFAULT_OS_USER = "postgres"

_STOP_MODES = ("smart", "fast", "immediate")
_CONF_FILE = "pgcluster.conf"  # harness-owned include file inside the data dir
_MAX_SOCKET_PATH = 107  # sizeof(sun_path) - 1 on Linux
# libpq environment that must not leak into the children (it would redirect
# pg_basebackup / the standby's primary_conninfo somewhere else).
_PG_ENV_VARS = (
    "PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD",
    "PGPASSFILE", "PGSERVICE", "PGSERVICEFILE", "PGOPTIONS", "PGSSLMODE",
    "PGAPPNAME", "PGCONNECT_TIMEOUT", "PGTARGETSESSIONATTRS", "PGDATA",
    "PGSYSCONFDIR", "PGTZ", "PGDATESTYLE", "PGCLIENTENCODING",
)


class PgClusterError(RuntimeError):
    """A test server could not be initialised, started, stopped or reached."""


# --------------------------------------------------------------------------
# discovery
# --------------------------------------------------------------------------

def _version_key(path: Path) -> tuple[int, ...]:
    """Sort key for /usr/lib/postgresql/<version>/bin style paths."""
    for part in reversed(path.parts):
        nums = re.findall(r"\d+", part)
        if nums:
            return tuple(int(n) for n in nums)
    return ()


def _has_binaries(d: Path) -> bool:
    return all(os.access(d / name, os.X_OK) and (d / name).is_file()
               for name in REQUIRED_BINARIES)


def find_pg_bin() -> Path | None:
    """Return the directory holding initdb, pg_ctl, pg_basebackup and postgres.

    Search order: ``$PG_BIN``; ``/usr/lib/postgresql/*/bin`` (and a couple of
    other distribution layouts), newest major version first; the directory of
    ``initdb`` or ``pg_ctl`` on ``$PATH``; ``pg_config --bindir``.
    Returns None when no complete set of binaries is found.
    """
    candidates: list[Path] = []
    env_dir = os.environ.get(PG_BIN_ENV)
    if env_dir:
        candidates.append(Path(env_dir))
    for pattern in PG_BIN_GLOBS:
        parent = Path(pattern)
        globbed = [p for p in Path("/").glob(str(parent.relative_to("/"))) if p.is_dir()]
        candidates.extend(sorted(globbed, key=_version_key, reverse=True))
    for name in ("initdb", "pg_ctl"):
        found = shutil.which(name)
        if found:
            candidates.append(Path(found).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True,
                                 text=True, timeout=10, check=False).stdout.strip()
            if out:
                candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass
    for cand in candidates:
        if _has_binaries(cand):
            return cand
    return None


def _os_user_for_server() -> str | None:
    """OS user the server binaries must run as (None: the current user)."""
    return DEFAULT_OS_USER if os.geteuid() == 0 else None


def pg_available_reason() -> str | None:
    """Why a local test server cannot be started, or None if it can.

    Suitable as a ``pytest.skip`` message.
    """
    if find_pg_bin() is None:
        return "PostgreSQL binaries not found (apt-get install postgresql)"
    user = _os_user_for_server()
    if user is not None:
        try:
            pwd.getpwnam(user)
        except KeyError:
            return (f"running as root but there is no {user!r} system user to run "
                    f"the PostgreSQL server as (apt-get install postgresql creates it)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    return None


def external_url() -> str | None:
    """The ``TEST_DATABASE_URL`` environment variable, or None when unset/empty.

    When set, tests should use that server instead of starting their own.
    """
    url = os.environ.get(EXTERNAL_URL_ENV, "").strip()
    return url or None


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------

def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _conf_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        # state is the field after the parenthesised command name
        return data[data.rindex(b")") + 2:data.rindex(b")") + 3] not in (b"Z", b"X")
    except (OSError, ValueError):
        return True


def _children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc only; [] elsewhere)."""
    kids = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return kids
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                data = f.read()
            ppid = int(data[data.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            kids.append(int(entry))
    return kids


def _traversable(path: Path, uid: int, gids: set[int]) -> bool:
    """Whether ``uid`` (with groups ``gids``) can traverse every ancestor of path."""
    for p in [path, *path.parents]:
        try:
            st = p.stat()
        except OSError:
            return False
        if st.st_uid == uid:
            ok = st.st_mode & stat.S_IXUSR
        elif st.st_gid in gids:
            ok = st.st_mode & stat.S_IXGRP
        else:
            ok = st.st_mode & stat.S_IXOTH
        if not ok:
            return False
    return True


# Strong references until close(): a cluster that is dropped without close()
# is still stopped (and its directory removed) when the interpreter exits.
_LIVE: "set[PgCluster]" = set()
_LIVE_LOCK = threading.Lock()


@atexit.register
def _cleanup_at_exit() -> None:  # safety net: never leave servers behind
    with _LIVE_LOCK:
        clusters = list(_LIVE)
    for cluster in clusters:
        try:
            cluster.close()
        except Exception:  # pragma: no cover - best effort at interpreter exit
            pass


# --------------------------------------------------------------------------
# the cluster
# --------------------------------------------------------------------------

class PgCluster:
    """A private PostgreSQL server in a temporary directory.

    Parameters
    ----------
    bin_dir:
        Directory with the server binaries (default: :func:`find_pg_bin`).
    superuser:
        Name of the database superuser created by initdb (and used in URLs).
    replication:
        Configure the server as a streaming-replication primary
        (``wal_level=replica``, WAL senders, ``replication`` line in
        pg_hba.conf, ``full_page_writes=on``).  Required for
        :meth:`make_standby`.  When False the server uses
        ``wal_level=minimal`` which is a little faster.
    settings:
        Extra/overriding postgresql.conf settings (``{"work_mem": "8MB"}``).
        Python bools become on/off, numbers are written bare, anything else
        is quoted.
    port:
        Fixed TCP port; default is a free port chosen by binding port 0
        (re-chosen automatically if it gets taken before the server starts).
    base_dir:
        Parent of the temporary directory (default: the system temp dir).
    name:
        Label used in error messages.
    start_timeout / stop_timeout:
        Seconds to wait for the server to start / stop.

    The object is a context manager: ``with PgCluster() as pg`` initialises and
    starts the server and on exit stops it (and any standbys made from it) and
    deletes the temporary directory.
    """

    def __init__(
        self,
        *,
        bin_dir: str | os.PathLike[str] | None = None,
        superuser: str = "postgres",
        replication: bool = False,
        settings: Mapping[str, Any] | None = None,
        port: int | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        name: str = "pgcluster",
        start_timeout: float = 30.0,
        stop_timeout: float = 30.0,
    ) -> None:
        found = Path(bin_dir) if bin_dir is not None else find_pg_bin()
        if found is None:
            raise PgClusterError(pg_available_reason() or
                                 "PostgreSQL binaries not found (apt-get install postgresql)")
        self.bin_dir: Path = found
        self.superuser = superuser
        self.replication = replication
        self.settings: dict[str, Any] = dict(settings or {})
        self.name = name
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.host = "127.0.0.1"
        self._fixed_port = port is not None
        self.port: int = port if port is not None else _free_port(self.host)
        self._base_parent = Path(base_dir) if base_dir is not None else None

        self.os_user = _os_user_for_server()
        self._uid: int | None = None
        self._gid: int | None = None
        if self.os_user is not None:
            try:
                pw = pwd.getpwnam(self.os_user)
            except KeyError:
                raise PgClusterError(
                    f"running as root, but there is no {self.os_user!r} system user "
                    f"to run PostgreSQL as (apt-get install postgresql creates it)") from None
            self._uid, self._gid = pw.pw_uid, pw.pw_gid

        self.base_dir: Path | None = None   # temporary directory (owned by the server user)
        self.data_dir: Path | None = None
        self.log_path: Path | None = None
        self.is_standby = False
        self.primary: PgCluster | None = None
        self._standbys: list[PgCluster] = []
        self._initialized = False
        self._closed = False
        self._version: tuple[int, int] | None = None
        self._proc: subprocess.Popen | None = None
        with _LIVE_LOCK:
            _LIVE.add(self)

    # ---------------------------------------------------------------- misc

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        role = "standby" if self.is_standby else "primary"
        return f"<PgCluster {self.name} {role} {self.host}:{self.port} {state} {self.base_dir}>"

    def __enter__(self) -> "PgCluster":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def version(self) -> tuple[int, int]:
        """(major, minor) of the server binaries, e.g. (15, 8)."""
        if self._version is None:
            out = subprocess.run([str(self.bin_dir / "postgres"), "--version"],
                                 capture_output=True, text=True, timeout=10).stdout
            m = re.search(r"(\d+)(?:\.(\d+))?", out)
            if not m:
                raise PgClusterError(f"cannot parse `postgres --version` output: {out!r}")
            self._version = (int(m.group(1)), int(m.group(2) or 0))
        return self._version

    def url(self, dbname: str = "postgres") -> str:
        """``postgresql://USER@127.0.0.1:PORT/DBNAME`` (trust auth, no password)."""
        return f"postgresql://{self.superuser}@{self.host}:{self.port}/{dbname}"

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server log ('' if none yet)."""
        if self.log_path is None:
            return ""
        try:
            return _tail(self.log_path.read_text(errors="replace"), lines)
        except OSError:
            return ""

    def _error(self, msg: str, *, output: str = "", log: bool = True) -> PgClusterError:
        parts = [f"[{self.name} {self.host}:{self.port}] {msg}"]
        if output.strip():
            parts.append("--- command output ---\n" + _tail(output.strip(), 30))
        if log:
            tail = self.log_tail()
            if tail:
                parts.append(f"--- server log tail ({self.log_path}) ---\n{tail}")
        return PgClusterError("\n".join(parts))

    # ---------------------------------------------------- process plumbing

    def _child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _PG_ENV_VARS}
        env.update(LC_ALL="C", LANG="C", LC_MESSAGES="C")
        if self.base_dir is not None:
            env["HOME"] = str(self.base_dir)
        return env

    def _run(self, args: list[str], *, timeout: float, what: str,
             check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, Any] = dict(
            cwd=str(self.base_dir) if self.base_dir is not None else "/",
            env=self._child_env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            errors="replace", timeout=timeout,
        )
        if self._uid is not None:
            kwargs.update(user=self._uid, group=self._gid, extra_groups=[])
        try:
            proc = subprocess.run(args, **kwargs)
        except subprocess.TimeoutExpired as e:
            out = e.output.decode(errors="replace") if isinstance(e.output, bytes) else (e.output or "")
            raise self._error(f"{what} timed out after {timeout:.0f}s: {' '.join(args)}",
                              output=out) from None
        except OSError as e:
            raise self._error(f"{what} could not be run: {e}", log=False) from None
        if check and proc.returncode != 0:
            raise self._error(f"{what} failed (exit {proc.returncode}): {' '.join(args)}",
                              output=proc.stdout)
        return proc

    def _chown(self, path: Path) -> None:
        if self._uid is not None:
            os.chown(path, self._uid, self._gid)

    def _make_base_dir(self) -> None:
        if self.base_dir is not None:
            return
        parent = self._base_parent or Path(tempfile.gettempdir())
        if self._uid is not None:
            gids = {self._gid} | {g for g in os.getgrouplist(self.os_user, self._gid)}
            if not _traversable(parent.resolve(), self._uid, gids):
                if self._base_parent is not None:
                    raise PgClusterError(f"{parent} is not accessible to the "
                                         f"{self.os_user!r} user that runs PostgreSQL")
                parent = Path("/tmp")
        base = Path(tempfile.mkdtemp(prefix="pgcluster-", dir=parent))
        self._chown(base)
        self.base_dir = base
        self.data_dir = base / "data"
        self.log_path = base / "postgres.log"

    # ------------------------------------------------------- configuration

    def _socket_dir_setting(self) -> str:
        assert self.base_dir is not None
        if len(str(self.base_dir)) + len(f"/.s.PGSQL.{self.port}") > _MAX_SOCKET_PATH:
            return ""  # path too long for a unix socket: TCP only
        return str(self.base_dir)

    def effective_settings(self) -> dict[str, Any]:
        """The settings written to the harness include file."""
        major = self.version[0]
        s: dict[str, Any] = {
            "listen_addresses": self.host,
            "port": self.port,
            "unix_socket_directories": self._socket_dir_setting(),
            "max_connections": 100,
            "shared_buffers": "16MB",
            "fsync": False,
            "synchronous_commit": False,
            # pg_basebackup / standbys want full page images; otherwise skip them.
            "full_page_writes": bool(self.replication),
            "logging_collector": False,
            "log_line_prefix": "%m [%p] ",
            "lc_messages": "C",
            "timezone": "UTC",
        }
        if major >= 11:
            s["jit"] = False
        if self.replication:
            s.update(wal_level="replica", max_wal_senders=10, max_replication_slots=10,
                     hot_standby=True)
            if major >= 13:
                s["wal_keep_size"] = "128MB"
            else:
                s["wal_keep_segments"] = 8
        else:
            s.update(wal_level="minimal", max_wal_senders=0)
        s.update(self.settings)
        return s

    def _write_config(self) -> None:
        assert self.data_dir is not None
        path = self.data_dir / _CONF_FILE
        lines = ["# written by tests/pgcluster.py; rewritten on every start"]
        lines += [f"{k} = {_conf_value(v)}" for k, v in self.effective_settings().items()]
        path.write_text("\n".join(lines) + "\n")
        self._chown(path)

    def _write_hba(self) -> None:
        assert self.data_dir is not None
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(
            "# written by tests/pgcluster.py: trust on loopback/unix socket only\n"
            "local   all          all                    trust\n"
            "host    all          all    127.0.0.1/32    trust\n"
            "local   replication  all                    trust\n"
            "host    replication  all    127.0.0.1/32    trust\n"
        )
        self._chown(hba)

    # ----------------------------------------------------------- lifecycle

    def init(self, timeout: float = 120.0) -> "PgCluster":
        """Run initdb (done implicitly by :meth:`start`)."""
        self._check_open()
        if self._initialized:
            return self
        self._make_base_dir()
        assert self.data_dir is not None
        self._run([str(self.bin_dir / "initdb"), "-D", str(self.data_dir),
                   "-U", self.superuser, "--auth=trust", "--encoding=UTF8",
                   "--locale=C", "--no-sync"],
                  timeout=timeout, what="initdb")
        self._write_hba()
        with open(self.data_dir / "postgresql.conf", "a") as f:
            f.write(f"\n# tests/pgcluster.py settings (port, speed, replication)\n"
                    f"include_if_exists = '{_CONF_FILE}'\n")
        self._initialized = True
        return self

    def start(self, timeout: float | None = None) -> "PgCluster":
        """Initialise if needed, start the server and wait until it accepts connections.

        The postmaster is a direct child of this process (so it is reaped
        here, never left as a zombie) in its own session; its output goes to
        :attr:`log_path`.  Raises PgClusterError with the log tail if it
        exits or is not ready within ``timeout`` seconds (default 30).
        """
        self._check_open()
        timeout = self.start_timeout if timeout is None else timeout
        if self.is_running():
            return self
        self.init()
        assert self.data_dir is not None and self.log_path is not None
        attempts = 1 if self._fixed_port else 3
        for attempt in range(attempts):
            self._write_config()
            (self.data_dir / "postmaster.pid").unlink(missing_ok=True)  # stale, we checked
            log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            self._proc = self._spawn_postmaster()
            problem = self._wait_ready(self._proc, timeout)
            if problem is None:
                return self
            self._kill_server()
            new_log = ""
            try:
                with open(self.log_path, errors="replace") as f:
                    f.seek(log_offset)
                    new_log = f.read()
            except OSError:
                pass
            port_clash = ("could not bind" in new_log or "Address already in use" in new_log
                          or "could not create any TCP/IP sockets" in new_log)
            if port_clash and attempt + 1 < attempts:
                self.port = _free_port(self.host)
                continue
            raise self._error(problem)
        raise AssertionError("unreachable")  # pragma: no cover

    def _spawn_postmaster(self) -> subprocess.Popen:
        assert self.data_dir is not None and self.log_path is not None
        log = open(self.log_path, "ab")
        try:
            self._chown(self.log_path)
            kwargs: dict[str, Any] = dict(
                cwd=str(self.base_dir), env=self._child_env(), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
            if self._uid is not None:
                kwargs.update(user=self._uid, group=self._gid, extra_groups=[])
            try:
                return subprocess.Popen([str(self.bin_dir / "postgres"), "-D", str(self.data_dir)],
                                        **kwargs)
            except OSError as e:
                raise self._error(f"could not run postgres: {e}", log=False) from None
        finally:
            log.close()

    def _wait_ready(self, proc: subprocess.Popen, timeout: float) -> str | None:
        """Poll postmaster.pid (like ``pg_ctl -w``); None when ready, else the problem."""
        assert self.data_dir is not None
        deadline = time.monotonic() + timeout
        pidfile = self.data_dir / "postmaster.pid"
        delay = 0.01
        while True:
            rc = proc.poll()
            if rc is not None:
                return f"postgres exited with code {rc} during startup"
            try:
                lines = pidfile.read_text().split("\n")
            except OSError:
                lines = []
            # line 1: pid ... line 8: status ("ready" / "standby" once accepting)
            if (len(lines) >= 8 and lines[0].strip() == str(proc.pid)
                    and lines[7].strip() in ("ready", "standby")):
                return None
            if time.monotonic() >= deadline:
                return f"server did not become ready within {timeout:.0f}s"
            time.sleep(delay)
            delay = min(delay * 1.5, 0.1)

    def _postmaster_pid(self) -> int | None:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc.pid
        if self.data_dir is None:
            return None
        try:
            first = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
            return int(first.strip())
        except (OSError, ValueError):
            return None

    def is_running(self) -> bool:
        """True if this cluster's postmaster process is alive."""
        if self._proc is not None and self._proc.poll() is None:
            return True
        pid = self._postmaster_pid()
        return pid is not None and _pid_alive(pid)

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        """Wait (reaping our child) until ``pid`` is gone; False on timeout."""
        if self._proc is not None and self._proc.pid == pid:
            try:
                self._proc.wait(timeout=timeout)
                return True
            except subprocess.TimeoutExpired:
                return False
        deadline = time.monotonic() + timeout
        while _pid_alive(pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def stop(self, mode: str = "fast", timeout: float | None = None) -> None:
        """Stop the server and wait (``timeout``, default 30 s) until it has exited.

        ``mode`` is pg_ctl's shutdown mode: ``smart`` (SIGTERM, waits for
        clients), ``fast`` (SIGINT, disconnects them) or ``immediate``
        (SIGQUIT, no shutdown checkpoint).  If the server is still there after
        the timeout it is killed (SIGQUIT, then SIGKILL) with a
        RuntimeWarning; PgClusterError if even that fails.  Standbys made from
        this cluster keep running (see :meth:`close`).
        """
        if mode not in _STOP_MODES:
            raise ValueError(f"mode must be one of {_STOP_MODES}, not {mode!r}")
        timeout = self.stop_timeout if timeout is None else timeout
        pid = self._postmaster_pid()
        if pid is None or not self.is_running():
            return
        sig = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
        if self._wait_exit(pid, timeout):
            return
        self._kill_server()
        if self.is_running():
            raise self._error(f"could not stop the server (pid {pid})")
        warnings.warn(f"{self.name}: {mode} shutdown did not finish within {timeout:.0f}s; "
                      f"killed the server instead", RuntimeWarning, stacklevel=2)

    def _kill_server(self, grace: float = 5.0) -> None:
        """Immediate shutdown by signal (SIGQUIT, then SIGKILL for everything)."""
        pid = self._postmaster_pid()
        if pid is None or not self.is_running():
            return
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            kids = _children_of(pid) if sig == signal.SIGKILL else []
            for p in [pid, *kids]:
                try:
                    os.kill(p, sig)
                except (ProcessLookupError, PermissionError):
                    pass
            if self._wait_exit(pid, grace):
                return

    def close(self) -> None:
        """Stop standbys made from this cluster, stop it, delete its directory.

        Idempotent; called by ``__exit__`` and at interpreter exit.
        """
        if self._closed:
            return
        errors: list[BaseException] = []
        for sb in self._standbys:
            try:
                sb.close()
            except Exception as e:
                errors.append(e)
        self._standbys.clear()
        try:
            self.stop("fast")
        except Exception as e:
            errors.append(e)
            self._kill_server()
        if self.base_dir is not None and not self.is_running():
            shutil.rmtree(self.base_dir, ignore_errors=True)
        self._closed = True
        with _LIVE_LOCK:
            _LIVE.discard(self)
        if errors:
            raise errors[0]

    cleanup = close

    def _check_open(self) -> None:
        if self._closed:
            raise PgClusterError(f"{self.name}: cluster has been closed")

    # ------------------------------------------------------------------ SQL

    def connect(self, dbname: str = "postgres", *, autocommit: bool = False,
                connect_timeout: int = 10, **kwargs: Any):
        """A psycopg connection to ``dbname`` (caller closes it)."""
        try:
            import psycopg
        except ImportError as e:  # pragma: no cover
            raise PgClusterError("psycopg is required for PgCluster.connect()") from e
        try:
            return psycopg.connect(self.url(dbname), autocommit=autocommit,
                                   connect_timeout=connect_timeout, **kwargs)
        except psycopg.OperationalError as e:
            raise self._error(f"cannot connect to database {dbname!r}: {e}") from e

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """CREATE DATABASE ``name`` (owned by the superuser); returns its URL."""
        from psycopg import sql
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            stmt += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.connect("postgres", autocommit=True) as conn:
            conn.execute(stmt)
        return self.url(name)

    def drop_database(self, name: str, *, missing_ok: bool = True) -> None:
        """DROP DATABASE ``name``, terminating its open connections first."""
        from psycopg import sql
        stmt = sql.SQL("DROP DATABASE {}{}").format(
            sql.SQL("IF EXISTS ") if missing_ok else sql.SQL(""), sql.Identifier(name))
        with self.connect("postgres", autocommit=True) as conn:
            if conn.info.server_version >= 130000:
                stmt += sql.SQL(" WITH (FORCE)")
            else:  # pragma: no cover - old servers
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            conn.execute(stmt)

    # ---------------------------------------------------------- replication

    def make_standby(self, *, name: str | None = None, settings: Mapping[str, Any] | None = None,
                     timeout: float = 60.0) -> "PgCluster":
        """Create and start a hot standby of this (running) primary.

        Uses ``pg_basebackup -R -X stream`` into a new temporary directory, on
        another free port.  The standby is closed together with this cluster
        (:meth:`close`), or earlier by calling its own ``close()``.
        """
        self._check_open()
        if not self.replication:
            raise PgClusterError(f"{self.name}: make_standby() needs a primary created "
                                 f"with PgCluster(replication=True)")
        if not self.is_running():
            raise self._error("make_standby(): the primary is not running")
        sb = PgCluster(bin_dir=self.bin_dir, superuser=self.superuser, replication=True,
                       settings={**self.settings, **(settings or {})},
                       base_dir=self._base_parent,
                       name=name or f"{self.name}-standby{len(self._standbys) + 1}",
                       start_timeout=self.start_timeout, stop_timeout=self.stop_timeout)
        try:
            sb._make_base_dir()
            assert sb.data_dir is not None
            sb._run([str(self.bin_dir / "pg_basebackup"), "-D", str(sb.data_dir),
                     "-R", "-X", "stream", "--checkpoint=fast", "--no-sync", "-w",
                     "-h", self.host, "-p", str(self.port), "-U", self.superuser,
                     "--label", sb.name],
                    timeout=timeout, what="pg_basebackup", check=True)
            sb._initialized = True
            sb.is_standby = True
            sb.primary = self
            sb.start()
        except BaseException as e:
            try:
                sb.close()
            except Exception:
                pass
            if isinstance(e, PgClusterError):
                raise PgClusterError(f"{e}\n--- primary log tail ---\n{self.log_tail(15)}") from None
            raise
        self._standbys.append(sb)
        return sb


def wait_for_replay(primary: PgCluster, standby: PgCluster, timeout: float = 30.0) -> str:
    """Wait until ``standby`` has replayed ``primary``'s current WAL position.

    Flushes the primary's WAL (see below), then compares
    ``pg_current_wal_lsn()`` on the primary (read once, at call time) with
    ``pg_last_wal_replay_lsn()`` on the standby, polling every 10-200 ms.
    Everything committed on the primary before the call is then visible on
    the standby.  Returns the LSN waited
    for; raises PgClusterError (with both log tails) on timeout.
    """
    deadline = time.monotonic() + timeout
    with primary.connect("postgres", autocommit=True) as pconn:
        # The harness runs with synchronous_commit=off, so recent commits may
        # still sit in WAL buffers: walsenders only ship flushed WAL and
        # pg_current_wal_lsn() only counts written WAL.  A synchronous commit
        # of a transaction that wrote WAL flushes everything inserted before
        # it; a transactional logical message is the cheapest such write
        # (it leaves nothing behind and works at wal_level=replica).
        pconn.execute("SET synchronous_commit = on")
        with pconn.transaction():
            pconn.execute("SELECT pg_logical_emit_message(true, 'pgcluster', 'wait_for_replay')")
        target = pconn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
    replayed = None
    in_recovery = None
    with standby.connect("postgres", autocommit=True,
                         connect_timeout=max(2, int(timeout))) as sconn:
        delay = 0.01
        while True:
            replayed, in_recovery, done = sconn.execute(
                "SELECT pg_last_wal_replay_lsn()::text, pg_is_in_recovery(), "
                "coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)", (target,)
            ).fetchone()
            if done:
                return target
            if not in_recovery:
                raise standby._error("wait_for_replay(): the standby is not in recovery "
                                     "(was it promoted?)")
            if time.monotonic() >= deadline:
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
    raise standby._error(
        f"standby did not replay primary LSN {target} within {timeout:.0f}s "
        f"(replayed: {replayed}, in recovery: {in_recovery})\n"
        f"--- primary log tail ---\n{primary.log_tail(15)}")
