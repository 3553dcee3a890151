"""A throwaway PostgreSQL cluster for the multi-node tests (test_500_pgsql.py).

initdb into a fresh temporary directory, postgres listening on 127.0.0.1 at a
free port and on a unix socket in that directory only, one database and one
password-protected role for mod_dbd, `pg_ctl stop` at the end.  PostgreSQL
refuses to run as root: as root, every server command runs as the `postgres`
system user (created by Debian's postgresql package) through runuser.

Only the Python standard library is used here; SQL from the tests goes
through psql over the private unix socket as the superuser.
"""

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time

START_TIMEOUT = 30


class PgUnavailable(Exception):
    """PostgreSQL's server binaries are not installed (the caller skips)."""


class PgError(Exception):
    pass


def find_bindir():
    """The directory of initdb/pg_ctl/postgres/psql, newest major version first."""
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
                   reverse=True)
    for initdb in cands:
        d = os.path.dirname(initdb)
        if all(os.access(os.path.join(d, b), os.X_OK) for b in ("pg_ctl", "postgres", "psql")):
            return d
    initdb = shutil.which("initdb")
    if initdb:
        d = os.path.dirname(initdb)
        if all(os.access(os.path.join(d, b), os.X_OK) for b in ("pg_ctl", "postgres")):
            return d
    return None


def apr_dbd_pgsql_installed():
    """True when apr-util's pgsql driver (libaprutil1-dbd-pgsql) is present."""
    return bool(glob.glob("/usr/lib/*/apr-util-1/apr_dbd_pgsql*.so")
                or glob.glob("/usr/lib/apr-util-1/apr_dbd_pgsql*.so"))


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """One private postgres: data, socket and log in a temporary directory."""

    def __init__(self, dbname="ajtest", user="ajtest"):
        self.bindir = find_bindir()
        if not self.bindir:
            raise PgUnavailable("PostgreSQL server binaries (initdb, pg_ctl) are not "
                                "installed (Debian: apt-get install postgresql)")
        self.is_root = os.geteuid() == 0
        self.run_user = "postgres" if self.is_root else None
        if self.run_user:
            try:
                pwd.getpwnam(self.run_user)
            except KeyError:
                raise PgUnavailable("running as root and there is no `postgres` user "
                                    "to run the server as") from None
        self.dbname = dbname
        self.user = user
        self.password = secrets.token_urlsafe(18)
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.base = tempfile.mkdtemp(prefix="mod_auth_jwt-pg-")
        # the postgres user must enter it (and httpd's children need no access:
        # they use TCP)
        os.chmod(self.base, 0o755)
        self.datadir = os.path.join(self.base, "data")
        self.sockdir = os.path.join(self.base, "sock")
        self.logfile = os.path.join(self.base, "postgres.log")
        os.makedirs(self.sockdir)
        if self.run_user:
            pw = pwd.getpwnam(self.run_user)
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
            os.chown(self.sockdir, pw.pw_uid, pw.pw_gid)
        self.running = False

    # ---- commands ------------------------------------------------------------

    def _cmd(self, argv, check=True, timeout=120, input=None):
        argv = [os.path.join(self.bindir, argv[0])] + list(argv[1:])
        if self.run_user:
            argv = ["runuser", "-u", self.run_user, "--"] + argv
        env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
        for k in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGDATA"):
            env.pop(k, None)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           cwd=self.base, env=env, input=input)
        if check and p.returncode != 0:
            raise PgError(f"{' '.join(argv)} failed ({p.returncode}):\n{p.stdout}{p.stderr}"
                          f"\n--- postgres log tail:\n{self.log_tail()}")
        return p

    def log_tail(self, n=30):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def log_size(self):
        try:
            return os.path.getsize(self.logfile)
        except OSError:
            return 0

    def log_since(self, offset):
        try:
            with open(self.logfile, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def init(self):
        self._cmd(["initdb", "-D", self.datadir, "-U", "postgres", "-E", "UTF8",
                   "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256",
                   "--no-sync"])
        with open(os.path.join(self.datadir, "postgresql.conf"), "a") as f:
            f.write(f"\n# mod_auth_jwt tests\nlisten_addresses = '{self.host}'\n"
                    f"port = {self.port}\nunix_socket_directories = '{self.sockdir}'\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                    "max_connections = 200\nlog_min_messages = warning\n")

    def start(self):
        self._cmd(["pg_ctl", "-D", self.datadir, "-l", self.logfile, "-w",
                   "-t", str(START_TIMEOUT), "start"])
        self.running = True

    def stop(self, mode="fast"):
        """pg_ctl stop on this cluster's data directory (its postmaster.pid)."""
        if not os.path.exists(os.path.join(self.datadir, "postmaster.pid")):
            self.running = False
            return
        self._cmd(["pg_ctl", "-D", self.datadir, "-m", mode, "-w", "-t", "60", "stop"])
        self.running = False

    def setup(self):
        """initdb, start, and the role and database mod_dbd uses."""
        self.init()
        self.start()
        self.psql(f"CREATE ROLE {self.user} LOGIN PASSWORD '{self.password}'", db="postgres")
        self.psql(f"CREATE DATABASE {self.dbname} OWNER {self.user}", db="postgres")
        return self

    def destroy(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def psql(self, sql, db=None, user="postgres"):
        """Runs SQL as the superuser over the unix socket; returns rows (lists of str)."""
        p = self._cmd(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                       "-h", self.sockdir, "-p", str(self.port), "-U", user,
                       "-d", db or self.dbname, "-f", "-"], input=sql)
        return [line.split("\t") for line in p.stdout.splitlines() if line != ""]

    def scalar(self, sql):
        rows = self.psql(sql)
        return rows[0][0] if rows else None

    # ---- what mod_dbd gets -------------------------------------------------

    @property
    def conninfo(self):
        """A libpq connection string for DBDParams (TCP on 127.0.0.1)."""
        return (f"host={self.host} port={self.port} dbname={self.dbname} "
                f"user={self.user} password={self.password} connect_timeout=5")

    def wait_connections_gone(self, timeout=10):
        """Waits until no client of our database is connected (after a stop)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            n = self.scalar(f"SELECT count(*) FROM pg_stat_activity "
                            f"WHERE datname = '{self.dbname}'")
            if n == "0":
                return True
            time.sleep(0.1)
        return False


class TcpProxy:
    """A TCP relay on 127.0.0.1 in front of the cluster, so that one node can
    lose the database while the others keep it (a network partition).
    cut() drops every relayed connection and turns new ones away at once;
    heal() lets them through again."""

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(256)
        self.port = self.lsock.getsockname()[1]
        self.is_cut = False
        self.closed = False
        self.lock = threading.Lock()
        self.socks = set()
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    def _accept_loop(self):
        while not self.closed:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            if self.is_cut:
                c.close()
                continue
            try:
                u = socket.create_connection(self.target, timeout=5)
                u.settimeout(None)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.socks.update((c, u))
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self.lock:
                for s in (a, b):
                    if s in self.socks:
                        self.socks.discard(s)
                        s.close()

    def _drop_all(self):
        with self.lock:
            socks, self.socks = list(self.socks), set()
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut(self):
        self.is_cut = True
        self._drop_all()

    def heal(self):
        self.is_cut = False

    def close(self):
        self.closed = True
        self.is_cut = True
        try:
            self.lsock.close()
        except OSError:
            pass
        self._drop_all()
