"""The Debian package, end to end, on this machine.

Builds libapache2-mod-auth-jwt with `make deb`, installs it with
`apt-get install ./build/deb/libapache2-mod-auth-jwt_*.deb`, enables it with
`a2enmod auth_jwt`, starts Debian's own apache2 binary with a small site of
its own (its own config file, pid file and logs in a temporary directory, on
a free 127.0.0.1 port: never the system service), logs in, checks a token,
then stops it, disables the modules the test enabled and purges the package.

Whatever happens, the fixture leaves the machine as it found it: the server
stopped, the package purged, /etc/apache2/mods-enabled and a2enmod's
bookkeeping (/var/lib/apache2/module/) as they were.  The integration suite
is not affected: it loads the module from build/, never the installed one.

Needs root (apt-get, a2enmod); skipped otherwise, and skipped when the
package is already installed (the test would remove an administrator's).
"""

import glob
import http.client
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PACKAGE = "libapache2-mod-auth-jwt"
DEB_GLOB = os.path.join(REPO, "build", "deb", f"{PACKAGE}_*.deb")
APACHE_BIN = "/usr/sbin/apache2"
MODS_ENABLED = "/etc/apache2/mods-enabled"
A2_STATE = "/var/lib/apache2/module"
RUN_USER = "www-data"
# What the package puts on the machine (checked present, then gone after purge).
INSTALLED_FILES = [
    "/usr/lib/apache2/modules/mod_auth_jwt.so",
    "/etc/apache2/mods-available/auth_jwt.load",
    "/etc/apache2/mods-available/auth_jwt.conf",
    "/usr/bin/htjwt",
    "/usr/share/man/man1/htjwt.1.gz",
    f"/usr/share/doc/{PACKAGE}/copyright",
    # dh_compress gzips documents over 4 KiB: either name counts
    f"/usr/share/doc/{PACKAGE}/docs/reference.md.gz",
]
# apt/dpkg may be busy with another job for a moment
APT = ["apt-get", "-y", "-o", "DPkg::Lock::Timeout=300"]
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
USER, PASSWORD = "pkguser", "package-test-password"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (apt-get install, a2enmod)"),
    pytest.mark.skipif(not os.path.exists(APACHE_BIN), reason="Debian's apache2 is not installed"),
]


def run(cmd, **kw):
    """Runs cmd; on failure the assertion shows its output."""
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert p.returncode == 0, f"{cmd} exited {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def package_installed():
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PACKAGE],
                       capture_output=True, text=True)
    return p.returncode == 0 and "install ok installed" in p.stdout


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_files(top):
    out = set()
    for d, _, files in os.walk(top):
        out.update(os.path.join(d, f) for f in files)
    return out


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


SITE_CONF = """\
# written by tests/package/test_deb.py: Debian's apache2 with the modules
# a2enmod enabled, and a site of its own
ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{root}/run/apache2.pid"
DefaultRuntimeDir "{root}/run"
ErrorLog "{root}/logs/error_log"
LogLevel info
User {user}
Group {user}
IncludeOptional /etc/apache2/mods-enabled/*.load
IncludeOptional /etc/apache2/mods-enabled/*.conf
DocumentRoot "{root}/htdocs"
<Directory />
    Require all denied
</Directory>
<Directory "{root}/htdocs">
    Require all granted
</Directory>
DBDriver sqlite3
DBDParams "{root}/data/users.db"
AuthJWTSigningKey HS256 "file:{root}/hs256.key"
<Location /auth/login>
    Require all granted
    SetHandler auth-jwt-login
</Location>
<Location /protected>
    AuthType JWT
    AuthName "package test"
    Require valid-user
</Location>
"""


class Site:
    """Debian's apache2 binary with its own configuration in a temp dir."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="mod_auth_jwt-pkg-")
        os.chmod(self.root, 0o755)       # the children (www-data) enter it
        self.port = free_port()
        self.conf = os.path.join(self.root, "apache2.conf")
        self.pid_file = os.path.join(self.root, "run", "apache2.pid")
        self.error_log = os.path.join(self.root, "logs", "error_log")
        self.db = os.path.join(self.root, "data", "users.db")
        self.key = os.path.join(self.root, "hs256.key")
        for d in ("run", "logs", "data", "lock"):
            os.makedirs(os.path.join(self.root, d))
        os.makedirs(os.path.join(self.root, "htdocs", "protected"))
        for d in ("htdocs", os.path.join("htdocs", "protected")):
            os.chmod(os.path.join(self.root, d), 0o755)
        with open(os.path.join(self.root, "htdocs", "index.html"), "w") as f:
            f.write("<p>package test</p>\n")
        with open(os.path.join(self.root, "htdocs", "protected", "index.html"), "w") as f:
            f.write("<p>protected page</p>\n")
        pw = pwd.getpwnam(RUN_USER)
        os.chown(os.path.join(self.root, "data"), pw.pw_uid, pw.pw_gid)
        os.chmod(os.path.join(self.root, "data"), 0o750)
        with open(self.conf, "w") as f:
            f.write(SITE_CONF.format(root=self.root, port=self.port, user=RUN_USER))
        # what the conf files of modules enabled on this machine may name
        # (Debian's /etc/apache2/envvars), pointed into the temp dir
        self.env = dict(os.environ,
                        APACHE_RUN_USER=RUN_USER, APACHE_RUN_GROUP=RUN_USER,
                        APACHE_RUN_DIR=os.path.join(self.root, "run"),
                        APACHE_PID_FILE=self.pid_file,
                        APACHE_LOCK_DIR=os.path.join(self.root, "lock"),
                        APACHE_LOG_DIR=os.path.join(self.root, "logs"),
                        LANG="C")
        self.env.pop("APACHE_ARGUMENTS", None)
        self.started = False

    def ctl(self, action):
        """apache2 -k start|stop, or -t for action "configtest"."""
        args = ["-t"] if action == "configtest" else ["-k", action]
        return subprocess.run([APACHE_BIN, "-f", self.conf] + args,
                              capture_output=True, text=True, env=self.env)

    def log_tail(self):
        try:
            with open(self.error_log, errors="replace") as f:
                return "".join(f.readlines()[-30:])
        except FileNotFoundError:
            return "(no error log)"

    def start(self):
        p = self.ctl("start")
        assert p.returncode == 0, f"apache2 -k start: {p.stdout}{p.stderr}\n{self.log_tail()}"
        self.started = True
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if request(self.port, "GET", "/")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        pytest.fail(f"apache2 did not answer on port {self.port}\n{self.log_tail()}")

    def pid(self):
        try:
            with open(self.pid_file) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        if not self.started:
            return
        pid = self.pid()
        self.ctl("stop")
        deadline = time.monotonic() + STOP_TIMEOUT
        while pid and os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid and os.path.exists(f"/proc/{pid}"):
            # only the server this test started (its pid file, its config)
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if self.conf.encode() in f.read():
                    os.kill(pid, 9)
        self.started = False

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def machine():
    """Records the machine's state; afterwards puts it back, even on failure."""
    if package_installed():
        pytest.skip(f"{PACKAGE} is installed on this machine: the test would purge it")
    enabled_before = set(os.listdir(MODS_ENABLED))
    state_before = tree_files(A2_STATE)
    site = Site()
    try:
        yield site
    finally:
        site.stop()
        site.remove()
        # disable what the test enabled (a2dismod, so a2enmod's own state
        # stays consistent), then remove the package if it is still there
        for name in sorted(set(os.listdir(MODS_ENABLED)) - enabled_before):
            if name.endswith(".load"):
                subprocess.run(["a2dismod", "-q", "-f", name[:-len(".load")]],
                               capture_output=True)
        if package_installed() or subprocess.run(
                ["dpkg-query", "-W", PACKAGE], capture_output=True).returncode == 0:
            subprocess.run(APT + ["purge", PACKAGE], capture_output=True, env=APT_ENV)
        # a2enmod/a2dismod leave enabled_by_admin/disabled_by_admin marks
        for path in tree_files(A2_STATE) - state_before:
            try:
                os.unlink(path)
            except OSError:
                pass


def test_deb_installs_serves_a_token_and_purges(machine):
    site = machine
    # build (lintian runs as part of `make deb`)
    run(["make", "-C", REPO, "deb"])
    debs = glob.glob(DEB_GLOB)
    assert len(debs) == 1, f"expected one {DEB_GLOB}, found {debs}"

    # install and enable as an administrator would
    run(APT + ["install", debs[0]], env=APT_ENV)
    assert package_installed()
    for path in INSTALLED_FILES:
        names = [path, path[:-len(".gz")]] if path.endswith(".md.gz") else [path]
        assert any(os.path.exists(n) for n in names), f"{path} is not installed"
    run(["a2enmod", "auth_jwt"])
    for mod in ("auth_jwt", "dbd", "socache_shmcb"):
        assert os.path.exists(os.path.join(MODS_ENABLED, f"{mod}.load")), \
            f"a2enmod auth_jwt did not enable {mod}"

    # a key and a user store made with the installed htjwt
    run(["/usr/bin/htjwt", "keygen", "HS256", "-o", site.key])
    assert os.stat(site.key).st_mode & 0o077 == 0, "htjwt keygen wrote a key others can read"
    run(["runuser", "-u", RUN_USER, "--", "/usr/bin/htjwt", "-b", site.db,
         "add", USER, PASSWORD])

    p = site.ctl("configtest")
    assert p.returncode == 0, f"configtest: {p.stdout}{p.stderr}"
    site.start()

    status, headers, _ = request(site.port, "GET", "/protected/")
    assert status == 401, "no credentials must be a 401"
    challenges = headers.get_all("WWW-Authenticate") or []
    assert any(c.startswith("Bearer ") for c in challenges), challenges

    body = json.dumps({"username": USER, "password": PASSWORD})
    status, _, raw = request(site.port, "POST", "/auth/login", body=body,
                             headers={"Content-Type": "application/json"})
    assert status == 200, raw
    token = json.loads(raw)["token"]

    status, _, raw = request(site.port, "GET", "/protected/index.html",
                             headers={"Authorization": f"Bearer {token}"})
    assert status == 200 and b"protected page" in raw, raw

    site.stop()
    with open(site.error_log, errors="replace") as f:
        log = f.read()
    assert "AH00052" not in log and "exit signal" not in log, log

    # disable, purge: nothing of the package is left
    run(["a2dismod", "-q", "auth_jwt"])
    run(APT + ["purge", PACKAGE], env=APT_ENV)
    assert not package_installed()
    assert subprocess.run(["dpkg-query", "-W", PACKAGE],
                          capture_output=True).returncode != 0, "dpkg still knows the package"
    for path in INSTALLED_FILES + [f"/usr/share/doc/{PACKAGE}"]:
        assert not os.path.exists(path), f"{path} is left after purge"
    assert not os.path.lexists(os.path.join(MODS_ENABLED, "auth_jwt.load"))
