"""A small harness that runs a private Apache httpd for the integration tests.

In the spirit of mod_md's test/pyhttpd (our own code): the httpd.conf is
written from `apxs -q` paths into a temporary ServerRoot, the server is started
and stopped with apachectl / its PidFile, and the error log is read back so
that every test can check that nothing unexpected was logged.

Only the Python standard library is used here.
"""

import base64
import contextlib
import http.client
import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import string
import subprocess
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# AJ_MODULE: another build of the module (make integration-asan: the ASan one)
MODULE_PATH = os.environ.get("AJ_MODULE") or os.path.join(REPO, "build", "mod_auth_jwt.so")
# AJ_HTTPD_ENV: NAME=VALUE pairs (shell words) added to the environment of
# apachectl, hence of httpd; @SAN@ is the server's logs/san directory, where
# sanitizer reports go (make integration-asan: LD_PRELOAD of the ASan/UBSan
# runtimes, ASAN_OPTIONS/UBSAN_OPTIONS with log_path=@SAN@/...).
HTTPD_ENV = os.environ.get("AJ_HTTPD_ENV", "")
# AJ_VALGRIND=1: servers run as `valgrind httpd -X` (make valgrind), with
# the suppressions file AJ_VALGRIND_SUPP; reports go to logs/valgrind.<pid>.
VALGRIND = os.environ.get("AJ_VALGRIND", "") not in ("", "0")
VALGRIND_SUPP = os.environ.get("AJ_VALGRIND_SUPP", "")
BUILD_DIR = os.path.join(REPO, "build", "itest")


def _reachable_by_others(path):
    """True when every directory from / down to path lets others through."""
    path = os.path.abspath(path)
    while True:
        try:
            if not os.stat(path).st_mode & 0o001:
                return False
        except FileNotFoundError:
            pass
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def server_base_dir():
    """Where ServerRoots go.  Run as root, httpd's children are www-data and
    must enter the ServerRoot: a checkout in a private directory (a 0700
    mktemp dir, /root) cannot hold them, so they go under the system's
    temporary directory instead."""
    if os.geteuid() != 0 or _reachable_by_others(os.path.dirname(BUILD_DIR)):
        return BUILD_DIR
    base = os.path.join(tempfile.gettempdir(), "mod_auth_jwt-itest")
    os.makedirs(base, exist_ok=True)
    os.chmod(base, 0o711)
    return base

# Stock modules the test servers load (our module comes last).
STOCK_MODULES = [
    ("mpm_event_module", "mod_mpm_event.so"),
    ("authn_core_module", "mod_authn_core.so"),
    ("authn_file_module", "mod_authn_file.so"),
    ("authz_core_module", "mod_authz_core.so"),
    ("authz_user_module", "mod_authz_user.so"),
    ("authz_host_module", "mod_authz_host.so"),
    ("auth_basic_module", "mod_auth_basic.so"),
    ("dbd_module", "mod_dbd.so"),
    ("socache_shmcb_module", "mod_socache_shmcb.so"),
    ("mime_module", "mod_mime.so"),
    ("dir_module", "mod_dir.so"),
    ("alias_module", "mod_alias.so"),
    ("headers_module", "mod_headers.so"),
    ("env_module", "mod_env.so"),
    ("setenvif_module", "mod_setenvif.so"),
    ("lua_module", "mod_lua.so"),
    # the client address behind a proxy (RemoteIPHeader; inert until configured)
    ("remoteip_module", "mod_remoteip.so"),
]

# Error log lines that fail a test unless it declares them expected.
RE_LOG_LEVEL = re.compile(r"^\[[^\]]*\] \[(?:(?P<module>[^:\]]+):)?(?P<level>[a-z0-9]+)\]")
BAD_LEVELS = {"error", "crit", "alert", "emerg"}
RE_LOG_FATAL = re.compile(r"exit signal|AH00052")
# mpm_event's advice to raise MaxRequestWorkers (AH00484, AH10159) is logged
# at error level when a concurrency test keeps the small test server busy
# (more so under the slower ASan build): capacity, not a fault of the module.
CAPACITY_ADVICE = [r"\[mpm_event:error\] .*(AH00484|AH10159): "]

# The audit line of a refused password check (docs/reference.md §10: logged at [error],
# one per unknown user or wrong password), and the login throttle's lines
# when a count reaches its limit.
REFUSED_CHECK_LOG = r"AJ200: password check refused"
THROTTLE_LIMIT_LOG = r"AJ20[12]: login throttle"

START_TIMEOUT = 120.0 if VALGRIND else 15.0
STOP_TIMEOUT = 60.0 if VALGRIND else 15.0


def apxs_query(var):
    out = subprocess.run(["apxs", "-q", var], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def free_port():
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def basic(user, password):
    """The value of an Authorization header for HTTP Basic."""
    raw = f"{user}:{password}".encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")


def extra_httpd_env(san_dir):
    """AJ_HTTPD_ENV as a dict, its @SAN@ being san_dir."""
    out = {}
    for word in shlex.split(HTTPD_ENV):
        name, _, value = word.partition("=")
        out[name] = value.replace("@SAN@", san_dir)
    return out


def clean_stale_roots(env):
    """Removes ServerRoots left by earlier runs whose pytest process is gone."""
    if not os.path.isdir(env.build_dir):
        return
    for d in os.listdir(env.build_dir):
        pid = d.split("-", 1)[0]
        root = os.path.join(env.build_dir, d)
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            # an httpd a crashed run left behind: stop it (it runs from this root)
            try:
                with open(os.path.join(root, "run", "httpd.pid")) as f:
                    hpid = int(f.read().strip())
                with open(f"/proc/{hpid}/cmdline", "rb") as f:
                    if root.encode() in f.read():
                        os.kill(hpid, signal.SIGTERM)
            except (OSError, ValueError):
                pass
            shutil.rmtree(root, ignore_errors=True)


class Env:
    """Where httpd and its modules live on this machine."""

    def __init__(self):
        self.repo = REPO
        self.libexecdir = apxs_query("LIBEXECDIR")
        self.sbindir = apxs_query("SBINDIR")
        self.apachectl = os.path.join(self.sbindir, "apachectl")
        if not os.path.exists(self.apachectl):
            self.apachectl = shutil.which("apachectl") or shutil.which("apache2ctl")
        self.module_path = MODULE_PATH
        self.httpd_bin = os.path.join(self.sbindir, apxs_query("TARGET"))
        self.is_root = os.geteuid() == 0
        self.run_user = "www-data" if self.is_root else None
        self.build_dir = server_base_dir()

    def module_built(self):
        return os.path.exists(self.module_path)


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers          # list of (name, value), in wire order
        self.body = body                # bytes

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"<Response {self.status} {self.headers!r} {self.body[:300]!r}>"


def read_log_text(path, offset=0):
    """A log file's text from offset on (bytes that are not UTF-8 replaced),
    "" while the file does not exist yet."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


class ErrorLog:
    """Reads the error log from a remembered position forward."""

    def __init__(self, path):
        self.path = path
        self.pos = 0

    def size(self):
        try:
            return os.path.getsize(self.path)
        except FileNotFoundError:
            return 0

    def mark(self):
        self.pos = self.size()

    def read_since_mark(self):
        return read_log_text(self.path, self.pos)

    def read_all(self):
        return read_log_text(self.path)

    def tail(self, n=40):
        return "\n".join(self.read_all().splitlines()[-n:])

    @staticmethod
    def bad_lines(text, expected=()):
        """Lines at error level or worse (or a child crash) not matching expected."""
        bad = []
        pats = [re.compile(p) for p in list(expected) + CAPACITY_ADVICE]
        for line in text.splitlines():
            m = RE_LOG_LEVEL.match(line)
            is_bad = (m is not None and m.group("level") in BAD_LEVELS) or \
                RE_LOG_FATAL.search(line) is not None
            if is_bad and not any(p.search(line) for p in pats):
                bad.append(line)
        return bad


class HttpdError(Exception):
    pass


class Httpd:
    """One private httpd instance with its own ServerRoot."""

    _seq = 0
    _seq_lock = threading.Lock()

    def __init__(self, env, name, config="", loglevel=None,
                 load_module=True, signing_key=True, server_config="",
                 dbd_driver="sqlite3", dbd_params=None):
        self.env = env
        with Httpd._seq_lock:
            Httpd._seq += 1
            seq = Httpd._seq
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60]
        self.root = os.path.join(env.build_dir, f"{os.getpid()}-{seq:03d}-{safe}")
        self.port = free_port()
        self.host = "127.0.0.1"
        self.config = config
        self.server_config = server_config
        if loglevel is None:
            loglevel = "info auth_jwt:debug" if load_module else "info"
        self.loglevel = loglevel
        self.load_module = load_module
        self.signing_key = signing_key
        self.conf_path = os.path.join(self.root, "conf", "httpd.conf")
        self.data_dir = os.path.join(self.root, "data")
        self.db_path = os.path.join(self.data_dir, "users.db")
        # the store: DBDriver/DBDParams (default: SQLite in data/users.db)
        self.dbd_driver = dbd_driver
        self.dbd_params = self.db_path if dbd_params is None else dbd_params
        self.htdocs = os.path.join(self.root, "htdocs")
        self.secret_path = os.path.join(self.root, "conf", "hs256.key")
        self.pid_path = os.path.join(self.root, "run", "httpd.pid")
        self.error_log_path = os.path.join(self.root, "logs", "error_log")
        self.access_log_path = os.path.join(self.root, "logs", "access_log")
        self.san_dir = os.path.join(self.root, "logs", "san")
        self._san_seen = set()
        self._vg_proc = None
        self.error_log = ErrorLog(self.error_log_path)
        self.secret = None
        self.running = False
        self.expected_log = []
        self._setup_dirs()

    def expect_log(self, *regexes):
        """Declares error-log lines (regexes) that the running test causes on purpose."""
        self.expected_log.extend(regexes)

    # ---- files ------------------------------------------------------------

    def _setup_dirs(self):
        if os.path.exists(self.root):
            shutil.rmtree(self.root)
        for d in ("conf", "logs", "run", "data", "htdocs", os.path.join("logs", "san")):
            os.makedirs(os.path.join(self.root, d))
        # the run user must reach htdocs and data through every parent
        for d in (self.env.build_dir, os.path.dirname(self.env.build_dir), self.root,
                  self.htdocs):
            os.chmod(d, 0o755)
        # the site files the children read (mod_lua scripts), copied where they can
        for name in ("hello.lua",):
            shutil.copy(os.path.join(self.env.repo, "conf", name),
                        os.path.join(self.root, "conf", name))
            os.chmod(os.path.join(self.root, "conf", name), 0o644)
        os.chmod(os.path.join(self.root, "conf"), 0o755)
        with open(os.path.join(self.htdocs, "index.html"), "w") as f:
            f.write("<!doctype html><title>itest</title><p>hello from the test server</p>\n")
        # 64 url-safe characters: a 512-bit HS256 secret (RFC 7518 wants >= 32 bytes)
        alphabet = string.ascii_letters + string.digits + "-_"
        self.secret = "".join(secrets.choice(alphabet) for _ in range(64)).encode("ascii")
        self.write_file(self.secret_path, self.secret, mode=0o600)
        if self.env.run_user:
            pw = pwd.getpwnam(self.env.run_user)
            os.chown(self.data_dir, pw.pw_uid, pw.pw_gid)
            os.chmod(self.data_dir, 0o750)
            # sanitizer reports are written by the children, as the run user
            os.chown(self.san_dir, pw.pw_uid, pw.pw_gid)

    @staticmethod
    def write_file(path, data, mode=0o644):
        if isinstance(data, str):
            data = data.encode("utf-8")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(path, mode)

    def substitute(self, text):
        """Fills @ROOT@, @DATA@, @HTDOCS@, @SECRET@, @REPO@, @CONF@, @PORT@ in text."""
        repl = {
            "@ROOT@": self.root,
            "@DATA@": self.data_dir,
            "@HTDOCS@": self.htdocs,
            "@SECRET@": self.secret_path,
            "@REPO@": self.env.repo,
            "@CONF@": os.path.join(self.root, "conf"),
            "@PORT@": str(self.port),
            "@DB@": self.db_path,
        }
        for k, v in repl.items():
            text = text.replace(k, v)
        return text

    def render_conf(self, config=None, server_config=None, load_module=None,
                    signing_key=None, loglevel=None):
        config = self.config if config is None else config
        server_config = self.server_config if server_config is None else server_config
        load_module = self.load_module if load_module is None else load_module
        signing_key = self.signing_key if signing_key is None else signing_key
        loglevel = self.loglevel if loglevel is None else loglevel
        lib = self.env.libexecdir
        lines = [
            "# written by tests/integration/pyhttpd.py",
            f'ServerRoot "{self.root}"',
            "ServerName 127.0.0.1",
            f"Listen 127.0.0.1:{self.port}",
            f'PidFile "{self.pid_path}"',
            f'DefaultRuntimeDir "{self.root}/run"',
        ]
        for name, so in STOCK_MODULES:
            lines.append(f'LoadModule {name} "{lib}/{so}"')
        if load_module:
            lines.append(f'LoadModule auth_jwt_module "{self.env.module_path}"')
        if self.env.run_user:
            lines += [f"User {self.env.run_user}", f"Group {self.env.run_user}"]
        lines += [
            "StartServers 2",
            "ServerLimit 2",
            "ThreadLimit 16",
            "ThreadsPerChild 16",
            "MaxRequestWorkers 32",
            "MinSpareThreads 8",
            "MaxSpareThreads 32",
            "MaxConnectionsPerChild 0",
            "Timeout 30",
            "KeepAlive On",
            f'ErrorLog "{self.error_log_path}"',
            f"LogLevel {loglevel}",
            'LogFormat "%h %u %t \\"%r\\" %>s %b %P" itest',
            f'CustomLog "{self.access_log_path}" itest',
            "TypesConfig /etc/mime.types",
            f'DocumentRoot "{self.htdocs}"',
            "DirectoryIndex index.html",
            "<Directory />",
            "    AllowOverride None",
            "    Require all denied",
            "</Directory>",
            f'<Directory "{self.htdocs}">',
            "    Require all granted",
            "</Directory>",
            f"DBDriver {self.dbd_driver}",
            f'DBDParams "{self.dbd_params}"',
        ]
        if load_module and signing_key:
            lines.append(f'AuthJWTSigningKey HS256 "file:{self.secret_path}"')
        if server_config:
            lines.append(self.substitute(server_config))
        if config:
            lines.append(self.substitute(config))
        return "\n".join(lines) + "\n"

    def write_conf(self, **kw):
        self.write_file(self.conf_path, self.render_conf(**kw))

    # ---- control ----------------------------------------------------------

    def httpd_env(self):
        """The environment httpd runs with (AJ_HTTPD_ENV added)."""
        env = dict(os.environ)
        env.pop("APACHE_ARGUMENTS", None)
        env.update(extra_httpd_env(self.san_dir))
        return env

    def sanitizer_reports(self):
        """Sanitizer reports (AJ_HTTPD_ENV log_path=@SAN@/...) and, under
        valgrind, module errors not returned before: [(path, text)]."""
        out = []
        try:
            names = sorted(os.listdir(self.san_dir))
        except FileNotFoundError:
            names = []
        for n in names:
            path = os.path.join(self.san_dir, n)
            if path in self._san_seen:
                continue
            self._san_seen.add(path)
            with open(path, "rb") as f:
                out.append((path, f.read().decode("utf-8", "replace")))
        return out

    def _apachectl(self, *args, timeout=60):
        env = self.httpd_env()
        p = subprocess.run([self.env.apachectl, "-f", self.conf_path, *args],
                           capture_output=True, text=True, timeout=timeout, env=env)
        return p.returncode, (p.stdout + p.stderr)

    def configtest(self, **kw):
        """Writes the config (kw as render_conf) and runs `apachectl -f CONF -t`."""
        self.write_conf(**kw)
        return self._apachectl("-t")

    def pid(self):
        try:
            with open(self.pid_path) as f:
                return int(f.read().strip())
        except (FileNotFoundError, ValueError):
            return None

    @staticmethod
    def _alive(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            return state not in ("Z", "X")
        except (FileNotFoundError, IndexError, ProcessLookupError):
            return False

    def _port_open(self):
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def _count_ready(self):
        return self.error_log.read_all().count("resuming normal operations")

    def _wait_ready(self, ready_before, what):
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            pid = self.pid()
            # httpd -X (valgrind) does not log "resuming normal operations"
            if pid and self._alive(pid) and (VALGRIND or self._count_ready() > ready_before) \
                    and self._port_open():
                return
            time.sleep(0.05)
        raise HttpdError(f"httpd did not become ready after {what}\n"
                         f"--- error_log tail:\n{self.error_log.tail()}")

    def _valgrind_start(self):
        """`valgrind httpd -X`: one process in the foreground, its pid in
        the PidFile as usual.  Module errors are collected at stop."""
        cmd = ["valgrind", "--tool=memcheck", "--vgdb=no", "--keep-debuginfo=yes", "--num-callers=30",
               "--track-origins=yes",
               "--leak-check=full", "--show-leak-kinds=definite",
               "--errors-for-leak-kinds=definite",
               f"--log-file={self.root}/logs/valgrind.%p"]
        if VALGRIND_SUPP:
            cmd.append(f"--suppressions={VALGRIND_SUPP}")
        cmd += [self.env.httpd_bin, "-X", "-f", self.conf_path]
        self._vg_proc = subprocess.Popen(cmd, env=self.httpd_env(), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self):
        self.write_conf()
        ready = self._count_ready()
        if VALGRIND:
            self._valgrind_start()
            self._wait_ready(ready, "start under valgrind")
            self.running = True
            return
        rc, out = self._apachectl("-k", "start")
        if rc != 0:
            raise HttpdError(f"apachectl start failed ({rc}):\n{out}\n"
                             f"--- error_log tail:\n{self.error_log.tail()}")
        self._wait_ready(ready, "start")
        self.running = True

    def _signal_restart(self, how):
        if VALGRIND:
            # httpd -X ends on a restart signal: stop and start it instead
            self.stop()
            self.start()
            return
        ready = self._count_ready()
        rc, out = self._apachectl("-k", how)
        if rc != 0:
            raise HttpdError(f"apachectl -k {how} failed ({rc}):\n{out}")
        self._wait_ready(ready, how)

    def restart(self):
        """Rewrites the config and does `-k restart` (children replaced at once)."""
        self.write_conf()
        self._signal_restart("restart")

    def graceful(self):
        """Rewrites the config and does `-k graceful`."""
        self.write_conf()
        self._signal_restart("graceful")

    def stop(self):
        """SIGTERM to the pid in the PidFile, then waits for it to be gone."""
        pid = self.pid()
        self.running = False
        if not pid or not self._alive(pid):
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + STOP_TIMEOUT
        while time.time() < deadline:
            if not self._alive(pid):
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
            raise HttpdError(f"httpd pid {pid} did not stop on SIGTERM")
        if self._vg_proc is not None:
            self._vg_proc.wait(STOP_TIMEOUT)
            self._vg_proc = None
            self._valgrind_collect()
        # the listener socket may linger briefly after the parent is gone
        deadline = time.time() + 5
        while self._port_open() and time.time() < deadline:
            time.sleep(0.05)

    def _valgrind_collect(self):
        """Writes each valgrind error with a frame in the module to
        logs/san/valgrind.N (so it is reported like a sanitizer finding) and
        keeps the whole log; returns how many module errors there were."""
        found = 0
        logs = os.path.join(self.root, "logs")
        for n in sorted(os.listdir(logs)):
            if not n.startswith("valgrind."):
                continue
            with open(os.path.join(logs, n), "rb") as f:
                text = f.read().decode("utf-8", "replace")
            for block in re.split(r"\n==\d+== \n", text):
                if re.search(r"mod_auth_jwt\.so|\b(aj|auth_jwt)_[a-z_0-9]+ \(", block):
                    found += 1
                    self.write_file(os.path.join(self.san_dir, f"{n}.{found}"), block)
        return found

    def child_pids(self):
        pid = self.pid()
        kids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                    kids.append(int(d))
            except (FileNotFoundError, IndexError, ValueError):
                pass
        return kids

    # ---- HTTP -------------------------------------------------------------

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def request(self, method, path, headers=None, body=None, auth=None, bearer=None,
                json_body=None, timeout=30, host=None):
        """One request on a fresh connection.

        headers: a list of (name, value) pairs (duplicates allowed) or a dict.
        auth: (user, password) for Basic; bearer: a token for Bearer.
        json_body: serialised to JSON with Content-Type application/json.
        host: the Host header (a name-based <VirtualHost>); default the
        server's address and port.
        """
        hdrs = []
        if isinstance(headers, dict):
            hdrs = list(headers.items())
        elif headers:
            hdrs = list(headers)
        if auth is not None:
            hdrs.append(("Authorization", basic(*auth)))
        if bearer is not None:
            hdrs.append(("Authorization", f"Bearer {bearer}"))
        if json_body is not None:
            body = json.dumps(json_body)
            if not any(k.lower() == "content-type" for k, _ in hdrs):
                hdrs.append(("Content-Type", "application/json"))
        if isinstance(body, str):
            body = body.encode("utf-8")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", host or f"{self.host}:{self.port}")
            for k, v in hdrs:
                conn.putheader(k, v)
            if not any(k.lower() == "connection" for k, _ in hdrs):
                # one connection per request: no keep-alive left in the server
                # when a test restarts or stops it
                conn.putheader("Connection", "close")
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            elif method in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", "0")
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, resp.reason, resp.getheaders(), data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def raw(self, data, timeout=30):
        """Sends raw bytes (a whole request) and parses the response."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        with socket.create_connection((self.host, self.port), timeout=timeout) as s:
            s.sendall(data)
            resp = http.client.HTTPResponse(s)
            resp.begin()
            body = resp.read()
            return Response(resp.status, resp.reason, resp.getheaders(), body)

    # ---- store ------------------------------------------------------------

    def sql(self, query, params=()):
        """Runs one statement on the server's SQLite file; returns all rows."""
        con = sqlite3.connect(self.db_path, timeout=15)
        try:
            cur = con.execute(query, params)
            rows = cur.fetchall()
            con.commit()
        finally:
            con.close()
        if self.env.run_user:
            pw = pwd.getpwnam(self.env.run_user)
            for suffix in ("", "-wal", "-shm", "-journal"):
                p = self.db_path + suffix
                if os.path.exists(p):
                    os.chown(p, pw.pw_uid, pw.pw_gid)
        return rows

    def access_log_lines(self, marker, count=1, timeout=5.0):
        """Access-log lines containing marker, waiting until count of them are written
        (httpd logs a request just after the client has its response)."""
        deadline = time.time() + timeout
        while True:
            lines = [ln for ln in self.read_access_log().splitlines() if marker in ln]
            if len(lines) >= count or time.time() > deadline:
                return lines
            time.sleep(0.05)

    def set_claims(self, username, claims):
        self.sql("UPDATE users SET claims = ? WHERE username = ?",
                 (json.dumps(claims), username))

    def read_access_log(self):
        return read_log_text(self.access_log_path)


class ServerPool:
    """Keeps one server running and reuses it while the wanted config is the same."""

    def __init__(self, env):
        self.env = env
        self.current = None
        self.current_key = None
        self.failed = {}
        self.shutdown_problems = []     # (server root, lines) logged while stopping

    def get(self, key, name, fresh=False, **kw):
        if key in self.failed:
            raise HttpdError(self.failed[key])
        if self.current is not None and self.current_key == key and not fresh \
                and self.current.running:
            return self.current
        self.stop_current()
        server = Httpd(self.env, name, **kw)
        try:
            server.start()
        except HttpdError as e:
            self.failed[key] = str(e)
            try:
                server.stop()
            except HttpdError:
                pass
            raise
        self.current = server
        self.current_key = key
        return server

    def stop_current(self):
        if self.current is not None:
            try:
                stop_and_check(self.current, self.shutdown_problems)
            finally:
                self.current = None
                self.current_key = None


# (path, text) of sanitizer/valgrind reports found when servers stopped
SANITIZER_REPORTS = []
# (server root, lines) logged while servers stopped: the session summary
SHUTDOWN_PROBLEMS = []


def stop_and_check(server, problems):
    """Stops server; error-log trouble written while it stopped (after the last
    check) goes to problems.  Stock httpd's event MPM itself, stopped under load
    right after its start, now and then loses a child to SIGSEGV
    (apr_os_sock_get in the child's main thread), so these are reported in the
    session summary rather than failing a test."""
    server.stop()
    bad = ErrorLog.bad_lines(server.error_log.read_since_mark())
    server.error_log.mark()
    if bad:
        problems.append((server.root, bad))
    # a sanitizer report written while stopping fails the session (conftest)
    SANITIZER_REPORTS.extend(server.sanitizer_reports())


@contextlib.contextmanager
def running(servers):
    """Starts servers (in order) for the block, then stops each with
    stop_and_check (what stopping logs goes to the session summary), however
    the block ends: a group of servers a module-scoped fixture runs."""
    try:
        for s in servers:
            s.start()
        yield servers
    finally:
        for s in servers:
            try:
                stop_and_check(s, SHUTDOWN_PROBLEMS)
            except HttpdError:
                pass


def stop_in_test(server, expected, action):
    """Runs action (server.stop, server.restart) in the middle of a test the
    way the fixtures stop servers at its end: what the test logged before it
    must be clean (an AssertionError names the lines), and what stopping
    logs goes to the session summary with the other shutdown trouble (see
    stop_and_check: stock httpd's event MPM, stopped right after requests,
    now and then loses a child to SIGSEGV).  Sanitizer reports still fail
    the session."""
    bad = ErrorLog.bad_lines(server.error_log.read_since_mark(), expected)
    if bad:
        raise AssertionError("unexpected error-log lines before the stop:\n" + "\n".join(bad[:20]))
    server.error_log.mark()
    action()
    trouble = ErrorLog.bad_lines(server.error_log.read_since_mark(), expected)
    server.error_log.mark()
    if trouble:
        SHUTDOWN_PROBLEMS.append((server.root, trouble))
    SANITIZER_REPORTS.extend(server.sanitizer_reports())


# ---- the REST-auth API as most tests mount it --------------------------------

REALM = "itest"

# What a 401 of a JWT location offers: both schemes, one realm.
BOTH_CHALLENGES = sorted([f'Bearer realm="{REALM}"', f'Basic realm="{REALM}"'])


def location(path, *directives):
    """A <Location path> section holding the given directive lines."""
    body = "".join(f"    {d}\n" for d in directives)
    return f"<Location {path}>\n{body}</Location>\n"


def jwt_location(path, *directives, realm=REALM):
    """A <Location path> behind AuthType JWT (AuthName realm, any valid user),
    with more directive lines after those."""
    return location(path, "AuthType JWT", f'AuthName "{realm}"', "Require valid-user",
                    *directives)


def basic_location(path, *directives, realm=REALM):
    """A <Location path> behind AuthType Basic checked by the jwt provider
    (passwords from the module's store), with more directive lines."""
    return location(path, "AuthType Basic", f'AuthName "{realm}"', "AuthBasicProvider jwt",
                    "Require valid-user", *directives)


def require_location(path, *directives, auth_type="JWT", realm=REALM):
    """A <Location path> behind AuthType auth_type (JWT, or Basic checked by
    the jwt provider) whose only Require lines are those among directives:
    no `Require valid-user` beside them, which would grant on its own."""
    provider = ("AuthBasicProvider jwt",) if auth_type == "Basic" else ()
    return location(path, f"AuthType {auth_type}", f'AuthName "{realm}"', *provider,
                    *directives)


def configtest_require(server, line):
    """configtest of server (not started) with a require_location holding the
    Require line: (exit status, what apachectl and the error log said)."""
    rc, out = server.configtest(config=require_location("/x", line))
    return rc, out + server.error_log.read_all()


def handler_location(path, handler):
    """A <Location path> that only mounts a handler (no authentication)."""
    return location(path, f"SetHandler {handler}")


def lua_hello(pattern):
    """Serves conf/hello.lua at the URLs matching pattern."""
    return f'LuaMapHandler "{pattern}" "@CONF@/hello.lua"\n'


# The protected resource most tests ask for: mod_lua's hello at /api/resource.
RESOURCE_CONFIG = jwt_location("/api/resource") + lua_hello("^/api/resource$")

# The public key set, unauthenticated.
JWKS_LOCATION = handler_location("/jwks", "auth-jwt-jwks")

# The session endpoints behind a token: logout and password change.
LOGOUT_LOCATION = jwt_location("/auth/logout", "SetHandler auth-jwt-logout")
PASSWORD_LOCATION = jwt_location("/auth/password", "SetHandler auth-jwt-password")

# Mirrors conf/demo.conf: users, token, resource (mod_lua), login, status.
API_CONFIG = (
    "\nAuthJWTRegistration On\nAuthJWTPasswordMinLength 6\n"
    + location("/", "AuthzSendForbiddenOnFailure On")
    + handler_location("/api/users", "auth-jwt-users")
    + jwt_location("/api/token", "SetHandler auth-jwt-token")
    + RESOURCE_CONFIG
    + handler_location("/auth/login", "auth-jwt-login")
    + jwt_location("/auth/status", "SetHandler auth-jwt-status")
)

# The schema the version before users.changed_at created (no defaults for
# the time columns), for the upgrade tests; id_column is the driver's
# auto-increment key.
def old_store_schema(id_column):
    return f"""
CREATE TABLE users (id {id_column}, username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL, claims TEXT NOT NULL DEFAULT '{{}}',
    tokens_valid_after BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL);
CREATE TABLE revoked_tokens (jti TEXT NOT NULL PRIMARY KEY,
    expires_at BIGINT NOT NULL, revoked_at BIGINT NOT NULL);
CREATE INDEX revoked_tokens_revoked_at ON revoked_tokens (revoked_at);
CREATE INDEX users_tokens_valid_after ON users (tokens_valid_after);
"""


# Fast password hashing for suites that register many users.
FAST_BCRYPT = "AuthJWTBcryptCost 4\n"

_name_lock = threading.Lock()
_name_seq = [0]


def unique_name(prefix="user"):
    """A user name not used before in this test run."""
    with _name_lock:
        _name_seq[0] += 1
        return f"{prefix}{_name_seq[0]}"


def register(server, username=None, password="secret-pw", expect=201):
    """POSTs a new user to /api/users; returns (username, password, id)."""
    username = username or unique_name()
    r = server.post("/api/users", json_body={"username": username, "password": password})
    assert r.status == expect, r
    uid = r.json().get("id") if r.status == 201 else None
    return username, password, uid


def get_token(server, username, password, path="/api/token"):
    r = server.get(path, auth=(username, password))
    assert r.status == 200, r
    return r.json()["token"]


# ---- hand-made tokens (structure under the test's control) -------------------

def b64url(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(s):
    s = s + "=" * (-len(s) % 4)
    return base64.urlsafe_b64decode(s.encode("ascii"))


def sign_hs(header, payload, secret, alg="HS256"):
    """A compact JWS from raw header/payload bytes (or dicts) signed with HMAC."""
    import hashlib
    import hmac
    if isinstance(header, dict):
        header = json.dumps(header, separators=(",", ":"))
    if isinstance(payload, dict):
        payload = json.dumps(payload, separators=(",", ":"))
    signing_input = b64url(header) + "." + b64url(payload)
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
              "HS512": hashlib.sha512}[alg]
    sig = hmac.new(secret, signing_input.encode("ascii"), digest).digest()
    return signing_input + "." + b64url(sig)


def mint(server, user, auth_time_ago=0, **over):
    """A token of server's own HS256 key for user (name, password, id) with
    auth_time that many seconds ago (over: claims to add or change; None
    drops one)."""
    name, _, uid = user
    t = int(time.time())
    c = {"sub": str(uid), "name": name, "iat": t, "nbf": t, "exp": t + 300,
         "jti": b64url(os.urandom(16)), "auth_time": t - auth_time_ago}
    c.update(over)
    c = {k: v for k, v in c.items() if v is not None}
    return sign_hs({"alg": "HS256", "typ": "JWT"}, c, server.secret)


def token_claims(token):
    """The payload of a compact JWS, not verified."""
    return json.loads(b64url_decode(token.split(".")[1]))


def token_header(token):
    return json.loads(b64url_decode(token.split(".")[0]))
