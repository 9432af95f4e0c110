"""A throw-away PostgreSQL 15 server for houston's end-to-end tests (Python 3 stdlib only).

The Python twin of testing/pg_server.cc: PgServer.start() initialises a cluster in a fresh
directory /tmp/houston-pg-XXXXXX (under /tmp, not $TMPDIR: a Unix socket's path must stay under
108 bytes) and starts it listening on a Unix socket in that directory only (no TCP), durability
off for speed (fsync=off) but synchronous_commit on, so that no commit is lost when a server is
killed. Role `houston` is the superuser and logs in without a password (trust). Tests get a
fresh database each with new_database(), and can stop, restart or kill the server to exercise
reconnection. cleanup() stops it and deletes the directory; a test process that dies without
running it leaves both behind, and the next start() on this host (from Python or C++: both
write the same "owner" file) stops and deletes them.

When run as root, initdb, pg_ctl and postgres run as the `postgres` system user (PostgreSQL
refuses to run as root) through runuser, and the directory belongs to it. psql and createdb are
clients: they run as the caller.

    pg = PgServer().start()
    url = pg.new_database("t1")   # postgresql://houston@/t1?host=/tmp/houston-pg-..&port=..
    pg.psql("t1", "SELECT count(*) FROM alerts")
    pg.restart(); pg.stop(); pg.start(); pg.kill(); pg.cleanup()
"""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile

PG_BIN = "/usr/lib/postgresql/15/bin"
PSQL = "/usr/bin/psql"
RUNUSER_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
INSTALL_HINT = ("PostgreSQL 15 is not installed: run scripts/install-deps.sh "
                "(package postgresql-15)")
# A fixed environment: no PG* variables, locale or preloads of the test process leak in.
_ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "TZ": "UTC"}


class PgError(AssertionError):
    """A PostgreSQL tool failed or is missing (an AssertionError, so that a test fails)."""


def _tool(name):
    return os.path.join(PG_BIN, name)


def _owner_tag(pid):
    return f"{socket.gethostname()} {pid}"


def _orphaned(path):
    """Whether the server directory belongs to a process of this host that no longer exists."""
    try:
        with open(os.path.join(path, "owner")) as f:
            host, pid = f.read().split()
        pid = int(pid)
    except (OSError, ValueError):
        return False
    if pid <= 0 or host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _free_port():
    """A loopback TCP port nobody listens on now. The server only listens on its Unix socket,
    whose name carries the port; this merely keeps the port plausible."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path, limit=3000):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", errors="replace")


def check_installed():
    """Raises PgError naming scripts/install-deps.sh unless PostgreSQL 15 is usable here."""
    for name in ("initdb", "pg_ctl", "postgres", "createdb"):
        if not os.access(_tool(name), os.X_OK):
            raise PgError(f"{INSTALL_HINT} ({_tool(name)} is missing)")
    if not os.access(PSQL, os.X_OK):
        raise PgError(f"{INSTALL_HINT} ({PSQL} is missing)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise PgError("PostgreSQL refuses to run as root and there is no `postgres` user to "
                          "run it as: run scripts/install-deps.sh (package postgresql-15)") from None
        if shutil.which("runuser", path=RUNUSER_PATH) is None:
            raise PgError("running as root needs runuser (util-linux) to start PostgreSQL as "
                          "the postgres user")


class PgServer:
    """One PostgreSQL 15 cluster in its own directory; see the module docstring."""

    def __init__(self):
        self.dir = None
        self.port = None
        self.running = False
        self._account = None  # (uid, gid) of `postgres` when we run as root

    # ---- paths and URLs

    @property
    def log_path(self):
        """The server's log."""
        return os.path.join(self.dir, "log")

    @property
    def commands_log_path(self):
        """initdb's, pg_ctl's and createdb's output."""
        return os.path.join(self.dir, "commands.log")

    def url(self, database="houston"):
        return f"postgresql://houston@/{database}?host={self.dir}&port={self.port}"

    # ---- lifecycle

    def start(self):
        """The first call creates and starts the cluster (with database `houston`); later calls
        start it again after stop() or kill(), on the same socket and port."""
        if self.dir is not None:
            if not self.running:
                self._pg_ctl("start", "-l", self.log_path)
                self.running = True
            return self
        check_installed()
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            self._account = (pw.pw_uid, pw.pw_gid)
        self.reap_orphans()
        self.dir = tempfile.mkdtemp(prefix="houston-pg-", dir="/tmp")
        try:
            with open(os.path.join(self.dir, "owner"), "w") as f:
                f.write(_owner_tag(os.getpid()) + "\n")
            if self._account:
                os.chown(self.dir, *self._account)
            self.port = _free_port()
            self._run([_tool("initdb"), "-D", os.path.join(self.dir, "data"), "-U", "houston",
                       "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync",
                       "--no-instructions"], as_server=True)
            # Settings go to the configuration file (they survive restarts). With fsync off a
            # commit only reaches the OS's cache, which survives kill(): synchronous_commit
            # stays on so that no acknowledged commit is lost.
            with open(os.path.join(self.dir, "data", "postgresql.conf"), "a") as conf:
                conf.write("\n# tests/e2e/pg.py\n"
                           "listen_addresses = ''\n"
                           f"unix_socket_directories = '{self.dir}'\n"
                           f"port = {self.port}\n"
                           "max_connections = 200\n"
                           "fsync = off\n"
                           "synchronous_commit = on\n"
                           "full_page_writes = off\n"
                           "timezone = 'UTC'\n")
            self._pg_ctl("start", "-l", self.log_path)
            self.running = True
            self.createdb("houston")
        except BaseException:
            self.cleanup()
            raise
        return self

    def new_database(self, name):
        """Creates database `name` (lower-case letters, digits, '_') and returns its URL."""
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name):
            raise ValueError(f"bad database name {name!r}")
        self.createdb(name)
        return self.url(name)

    def createdb(self, name):
        self._run([_tool("createdb"), "-h", self.dir, "-p", str(self.port), "-U", "houston",
                   "-w", name], as_server=False)

    def stop(self):
        """Stops the server cleanly (-m fast: sessions are terminated)."""
        if self.running:
            self._pg_ctl("stop", "-m", "fast")
            self.running = False

    def kill(self):
        """Stops it as a crash would (-m immediate); the next start runs crash recovery."""
        if self.running:
            self._pg_ctl("stop", "-m", "immediate")
            self.running = False

    def restart(self):
        """pg_ctl restart -m fast: every open connection is terminated. Returns once the server
        accepts connections again."""
        self.running = False
        self._pg_ctl("restart", "-m", "fast", "-l", self.log_path)
        self.running = True

    def cleanup(self):
        """Stops the server (if it runs) and deletes its directory. Safe to call twice."""
        if self.dir is None:
            return
        if os.path.exists(os.path.join(self.dir, "data", "postmaster.pid")):
            try:
                self._pg_ctl("stop", "-m", "immediate")
            except PgError:
                pass
        self.running = False
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    @classmethod
    def reap_orphans(cls):
        """Stops and deletes the servers of processes on this host that died without it."""
        try:
            names = os.listdir("/tmp")
        except OSError:
            return
        for name in names:
            path = os.path.join("/tmp", name)
            if not name.startswith("houston-pg-") or not _orphaned(path):
                continue
            orphan = cls()
            orphan.dir = path
            if os.geteuid() == 0:
                try:
                    pw = pwd.getpwnam("postgres")
                    orphan._account = (pw.pw_uid, pw.pw_gid)
                except KeyError:
                    pass
            orphan.cleanup()

    # ---- SQL

    def psql(self, database, sql, timeout=30):
        """Runs `sql` with psql (unaligned, tuples only, ON_ERROR_STOP); returns the rows as
        lists of strings (fields split on '|')."""
        p = subprocess.run(
            [PSQL, "-h", self.dir, "-p", str(self.port), "-U", "houston", "-d", database,
             "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, timeout=timeout, env=_ENV, stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise PgError(f"psql -d {database} -c {sql!r} exited {p.returncode}: "
                          f"{p.stderr.strip()}")
        return [line.split("|") for line in p.stdout.splitlines() if line != ""]

    def scalar(self, database, sql):
        rows = self.psql(database, sql)
        return rows[0][0] if rows else None

    # ---- running tools

    def _pg_ctl(self, mode, *extra):
        argv = [_tool("pg_ctl"), mode, "-D", os.path.join(self.dir, "data"), "-w", "-t", "60",
                "-s", *extra]
        try:
            self._run(argv, as_server=True)
        except PgError as e:
            if mode == "stop":
                raise
            raise PgError(f"{e}\nserver log:\n{_tail(self.log_path)}") from None

    def _run(self, argv, as_server, timeout=120):
        """Runs argv to completion with its output appended to commands.log; as `postgres`
        when as_server and we are root. PgError unless it exits with 0."""
        if as_server and self._account:
            argv = [shutil.which("runuser", path=RUNUSER_PATH), "-u", "postgres", "--", *argv]
        with open(self.commands_log_path, "ab") as log:
            start = log.tell()
            log.write(("$ " + " ".join(argv) + "\n").encode())
            log.flush()
            try:
                p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, env=_ENV, cwd=self.dir,
                                   timeout=timeout, close_fds=True)
                rc = p.returncode
            except subprocess.TimeoutExpired:
                rc = f"timeout after {timeout} s"
        if rc != 0:
            with open(self.commands_log_path, "rb") as f:
                f.seek(start)
                out = f.read()[-3000:].decode("utf-8", errors="replace")
            how = f"exit status {rc}" if isinstance(rc, int) and rc > 0 else (
                f"signal {signal.Signals(-rc).name}" if isinstance(rc, int) else rc)
            raise PgError(f"{' '.join(argv)} failed ({how}); output:\n{out}")
