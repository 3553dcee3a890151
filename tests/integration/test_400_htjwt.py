"""htjwt against a live server (docs/reference.md §7): users and claims that htjwt writes
are what the server reads, a revoke-all by htjwt reaches the running server
within AuthJWTRevocationRefresh, tokens that htjwt signs with the server's
key are accepted, htjwt verifies and decodes the server's tokens, and its
exit codes.

htjwt is built by `make` into build/htjwt.  It writes the server's SQLite
file directly (as the test user, root under CI), so every call that writes
is followed by handing the files back to the user httpd runs as."""

import http.server
import json
import os
import pwd
import subprocess
import threading
import time

import pytest

import pyhttpd

HTJWT = os.path.join(pyhttpd.REPO, "build", "htjwt")

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + r"""
AuthJWTRevocationRefresh 1
AuthJWTBasicCacheTTL 0
<Location /admin/resource>
    AuthType JWT
    AuthName "itest"
    Require jwt-claim role admin
</Location>
LuaMapHandler "^/admin/resource$" "@CONF@/hello.lua"
<Location /scoped/resource>
    AuthType JWT
    AuthName "itest"
    Require jwt-scope write
</Location>
LuaMapHandler "^/scoped/resource$" "@CONF@/hello.lua"
"""

# The 403s of the Require tests: mod_authz_core logs them at error level.
HTTPD_EXPECTED_LOG = [r"AH01631"]

PASSWORD = "htjwt-pass-1"


@pytest.fixture(scope="module", autouse=True)
def built():
    if not os.access(HTJWT, os.X_OK):
        pytest.fail(f"{HTJWT} is not built: run `make`", pytrace=False)


def run(*args, stdin=None):
    """Runs htjwt; returns the CompletedProcess (text)."""
    return subprocess.run([HTJWT, *args], input=stdin, capture_output=True, text=True,
                          timeout=60)


def give_back(server):
    """The database files belong to the user httpd runs as (as pyhttpd.sql does)."""
    if not server.env.run_user:
        return
    pw = pwd.getpwnam(server.env.run_user)
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = server.db_path + suffix
        if os.path.exists(p):
            os.chown(p, pw.pw_uid, pw.pw_gid)


def db(server, *args, stdin=None, options=("-b", "-c", "4")):
    """htjwt [options] DB args... on the server's database."""
    p = run(*options, server.db_path, *args, stdin=stdin)
    give_back(server)
    return p


def add_user(server, name=None, password=PASSWORD):
    name = name or pyhttpd.unique_name("htjwt-")
    p = db(server, "add", name, password)
    assert p.returncode == 0, p
    return name


def resource(server, path, token):
    return server.get(path, bearer=token)


# ---- users -------------------------------------------------------------------

@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_user_added_by_htjwt_logs_in(httpd):
    name = add_user(httpd)
    r = httpd.get("/api/resource", auth=(name, PASSWORD))
    assert r.status == 200, r
    assert r.json() == {"data": f"Hello, {name}!"}
    r = httpd.post("/auth/login", json_body={"username": name, "password": PASSWORD})
    assert r.status == 200, r
    assert pyhttpd.token_claims(r.json()["auth_token"])["name"] == name
    assert httpd.get("/api/resource", auth=(name, "wrong-password")).status == 401
    # list shows it, with its id, and never a hash
    p = run(httpd.db_path, "list")
    assert p.returncode == 0, p
    rows = [line.split("\t") for line in p.stdout.splitlines()]
    mine = [row for row in rows if row[1] == name]
    assert len(mine) == 1 and mine[0][4] == "{}"
    assert "$2y$" not in p.stdout


def test_password_from_stdin(httpd):
    name = pyhttpd.unique_name("htjwt-stdin-")
    p = db(httpd, "add", name, stdin="from-stdin-pw\n", options=("-c", "4"))
    assert p.returncode == 0, p
    assert "from-stdin-pw" not in p.stdout + p.stderr
    assert httpd.get("/api/resource", auth=(name, "from-stdin-pw")).status == 200


@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_server_registered_user_is_managed_by_htjwt(httpd):
    name, pw, uid = pyhttpd.register(httpd)
    p = run(httpd.db_path, "list")
    assert f"{uid}\t{name}\t" in p.stdout
    token = pyhttpd.get_token(httpd, name, pw)
    p = db(httpd, "passwd", name, "changed-by-htjwt")
    assert p.returncode == 0, p
    assert httpd.get("/api/resource", auth=(name, pw)).status == 401
    assert httpd.get("/api/resource", auth=(name, "changed-by-htjwt")).status == 200
    # passwd revokes the earlier tokens, as a password change on the server does
    deadline = time.time() + 10
    while resource(httpd, "/api/resource", token).status == 200 and time.time() < deadline:
        time.sleep(0.2)
    assert resource(httpd, "/api/resource", token).status == 401


@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_deleted_user_cannot_log_in(httpd):
    name = add_user(httpd)
    assert httpd.get("/api/resource", auth=(name, PASSWORD)).status == 200
    p = db(httpd, "del", name)
    assert p.returncode == 0, p
    assert httpd.get("/api/resource", auth=(name, PASSWORD)).status == 401
    assert run(httpd.db_path, "del", name).returncode == 8


# ---- claims ------------------------------------------------------------------

def test_claims_set_by_htjwt_are_in_tokens_and_authorize(httpd):
    admin = add_user(httpd)
    plain = add_user(httpd)
    p = db(httpd, "claims", admin, '{"role": "admin", "scope": "read write", "dept": 7}')
    assert p.returncode == 0, p
    p = db(httpd, "claims", plain, '{"role": "user", "scope": "read"}')
    assert p.returncode == 0, p
    p = run(httpd.db_path, "claims", admin)
    assert json.loads(p.stdout) == {"role": "admin", "scope": "read write", "dept": 7}

    token = pyhttpd.get_token(httpd, admin, PASSWORD)
    claims = pyhttpd.token_claims(token)
    assert claims["role"] == "admin" and claims["scope"] == "read write"
    assert claims["dept"] == 7 and claims["name"] == admin
    assert resource(httpd, "/admin/resource", token).status == 200
    assert resource(httpd, "/scoped/resource", token).status == 200
    # a password credential carries the stored claims as well
    assert httpd.get("/admin/resource", auth=(admin, PASSWORD)).status == 200

    other = pyhttpd.get_token(httpd, plain, PASSWORD)
    assert resource(httpd, "/admin/resource", other).status == 403
    assert resource(httpd, "/scoped/resource", other).status == 403


def test_claims_are_validated(httpd):
    name = add_user(httpd)
    for bad in ('{"sub": "1"}', '{"name": "root"}', '{"exp": 1}'):
        p = db(httpd, "claims", name, bad)
        assert p.returncode == 6, p
        assert "reserved" in p.stderr
    for bad in ('[1, 2]', '"admin"', '{"a": 1, "a": 2}', '{"a": 1', "[" * 40 + "]" * 40):
        p = db(httpd, "claims", name, bad)
        assert p.returncode == 6, (bad, p)
    p = db(httpd, "claims", name, json.dumps({"k": "x" * 5000}))
    assert p.returncode == 5, p
    # nothing was stored
    assert json.loads(run(httpd.db_path, "claims", name).stdout) == {}


# ---- revocation ----------------------------------------------------------------

def test_revoke_all_reaches_the_running_server(httpd):
    name = add_user(httpd)
    token = pyhttpd.get_token(httpd, name, PASSWORD)
    assert resource(httpd, "/api/resource", token).status == 200
    start = time.time()
    p = db(httpd, "revoke-all", name)
    assert p.returncode == 0, p
    # AuthJWTRevocationRefresh 1: every child refuses it after about a second
    while resource(httpd, "/api/resource", token).status == 200:
        assert time.time() - start < 5, "revoke-all by htjwt was not honoured"
        time.sleep(0.1)
    time.sleep(1.2)
    for _ in range(10):
        r = resource(httpd, "/api/resource", token)
        assert r.status == 401, r
        assert any("revoked" in h for h in r.header_all("WWW-Authenticate")), r
    # a new login is not affected
    fresh = pyhttpd.get_token(httpd, name, PASSWORD)
    assert resource(httpd, "/api/resource", fresh).status == 200


# ---- tokens --------------------------------------------------------------------

def test_token_signed_by_htjwt_for_a_user_is_accepted(httpd):
    name = add_user(httpd)
    db(httpd, "claims", name, '{"role": "admin"}')
    p = run("sign", "-k", httpd.secret_path, "-a", "HS256", "-u", name, "-D", httpd.db_path,
            "-l", "5m", "-C", '{"team": "blue"}')
    assert p.returncode == 0, p
    token = p.stdout.strip()
    claims = pyhttpd.token_claims(token)
    assert claims["name"] == name and claims["role"] == "admin" and claims["team"] == "blue"
    assert claims["exp"] - claims["iat"] == 300
    r = resource(httpd, "/api/resource", token)
    assert r.status == 200, r
    assert r.json() == {"data": f"Hello, {name}!"}
    assert resource(httpd, "/admin/resource", token).status == 200
    r = httpd.get("/auth/status", bearer=token)
    assert r.status == 200, r
    data = r.json()["data"]
    assert data["username"] == name and data["claims"]["team"] == "blue"
    # it renews like a server-issued token
    r = httpd.get("/api/token", bearer=token)
    assert r.status == 200, r
    assert pyhttpd.token_claims(r.json()["token"])["name"] == name


def test_service_token_signed_by_htjwt_is_accepted(httpd):
    p = run("sign", "-k", f"file:{httpd.secret_path}", "-a", "HS256", "-s", "svc-reports",
            "-n", "reports-bot", "-C", '{"scope": "read write"}')
    assert p.returncode == 0, p
    token = p.stdout.strip()
    r = resource(httpd, "/api/resource", token)
    assert r.status == 200, r
    assert r.json() == {"data": "Hello, reports-bot!"}
    assert resource(httpd, "/scoped/resource", token).status == 200
    assert resource(httpd, "/admin/resource", token).status == 403


def test_token_signed_with_another_key_is_refused(httpd, tmp_path):
    key = tmp_path / "other.key"
    assert run("keygen", "HS256", "-o", str(key)).returncode == 0
    p = run("sign", "-k", str(key), "-a", "HS256", "-s", "svc-x")
    assert p.returncode == 0, p
    r = resource(httpd, "/api/resource", p.stdout.strip())
    assert r.status == 401, r
    assert any('error="invalid_token"' in h for h in r.header_all("WWW-Authenticate"))


def test_verify_and_decode_a_server_token(httpd, tmp_path):
    name = add_user(httpd)
    token = pyhttpd.get_token(httpd, name, PASSWORD)
    p = run("verify", "-k", httpd.secret_path, "-a", "HS256", token)
    assert p.returncode == 0, p
    claims = json.loads(p.stdout)
    assert claims["name"] == name and claims == pyhttpd.token_claims(token)
    # from standard input too
    p = run("verify", "-k", httpd.secret_path, "-a", "HS256", "-", stdin=token + "\n")
    assert p.returncode == 0, p
    # the wrong algorithm, the wrong key, a tampered token
    p = run("verify", "-k", httpd.secret_path, "-a", "HS512", token)
    assert p.returncode == 1 and "invalid" in p.stdout, p
    key = tmp_path / "other.key"
    assert run("keygen", "HS256", "-o", str(key)).returncode == 0
    p = run("verify", "-k", str(key), "-a", "HS256", token)
    assert p.returncode == 1 and "signature" in p.stdout, p
    head, body, sig = token.split(".")
    forged = pyhttpd.b64url(json.dumps({**claims, "name": "root"}))
    assert run("verify", "-k", httpd.secret_path, "-a", "HS256",
               f"{head}.{forged}.{sig}").returncode == 1

    p = run("decode", token)
    assert p.returncode == 0, p
    assert '"alg": "HS256"' in p.stdout and f'"name": "{name}"' in p.stdout
    assert "not checked" in p.stdout
    p = run("decode", "-k", httpd.secret_path, "-a", "HS256", token)
    assert p.returncode == 0 and "Signature: valid" in p.stdout, p
    p = run("decode", "-k", str(key), "-a", "HS256", token)
    assert p.returncode == 1 and "Signature: INVALID" in p.stdout, p
    assert run("decode", "not-a-token").returncode == 7
    # the secret never shows
    assert httpd.secret.decode() not in p.stdout + p.stderr


def test_revoked_server_token_verifies_offline_but_not_on_the_server(httpd):
    """htjwt checks signature and claims only: revocation lives in the server."""
    name = add_user(httpd)
    token = pyhttpd.get_token(httpd, name, PASSWORD)
    db(httpd, "revoke-all", name)
    assert run("verify", "-k", httpd.secret_path, "-a", "HS256", token).returncode == 0


# ---- exit codes ----------------------------------------------------------------

def test_exit_codes(httpd, tmp_path):
    name = add_user(httpd)
    assert run().returncode == 2
    assert run("--no-such-option").returncode == 2
    assert run(httpd.db_path).returncode == 2
    assert run(httpd.db_path, "frobnicate", name).returncode == 2
    assert run("-c", "99", httpd.db_path, "add", "x", "y").returncode == 2
    p = run("-h")
    assert p.returncode == 0 and "Usage" in p.stdout
    # a password on the command line without -b
    assert run(httpd.db_path, "add", "someone", "password123").returncode == 2
    # unknown user
    for cmd in (("passwd", "nobody-here", "password123"), ("del", "nobody-here"),
                ("revoke-all", "nobody-here"), ("claims", "nobody-here", "{}")):
        p = db(httpd, *cmd)
        assert p.returncode == 8, (cmd, p)
        assert "not found" in p.stderr
    p = run("sign", "-k", httpd.secret_path, "-a", "HS256", "-u", "nobody-here",
            "-D", httpd.db_path)
    assert p.returncode == 8, p
    # the user exists already
    assert db(httpd, "add", name, PASSWORD).returncode == 8
    # short password (the default minimum is 8; -m changes it)
    p = db(httpd, "add", pyhttpd.unique_name("short-"), "short")
    assert p.returncode == 3 and "shorter than 8" in p.stderr, p
    assert db(httpd, "add", pyhttpd.unique_name("m5-"), "short",
              options=("-b", "-c", "4", "-m", "5")).returncode == 0
    assert db(httpd, "add", pyhttpd.unique_name("stdin-"), stdin="",
              options=("-c", "4")).returncode == 3
    # bad and too long usernames
    assert db(httpd, "add", "bad:name", PASSWORD).returncode == 6
    assert db(httpd, "add", "x" * 65, PASSWORD).returncode == 5
    assert db(httpd, "add", pyhttpd.unique_name(), "p" * 1025).returncode == 5
    # missing database, unusable key
    assert run(str(tmp_path / "missing.db"), "list").returncode == 1
    assert not (tmp_path / "missing.db").exists()
    short = tmp_path / "short.key"
    short.write_text("too-short")
    assert run("sign", "-k", str(short), "-a", "HS256", "-s", "svc").returncode == 7
    assert run("sign", "-k", str(tmp_path / "nokey"), "-a", "HS256",
               "-s", "svc").returncode == 1
    assert run("sign", "-k", httpd.secret_path, "-a", "none", "-s", "svc").returncode == 2
    # nothing above changed the user
    assert httpd.get("/api/resource", auth=(name, PASSWORD)).status == 200


# ---- conf/proxy-example.conf, live -----------------------------------------------

class _EchoHeaders(http.server.BaseHTTPRequestHandler):
    """The back end: answers with the request headers it received, as JSON."""

    def do_GET(self):
        body = json.dumps({"path": self.path,
                           "headers": {k.lower(): v for k, v in self.headers.items()}})
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def backend():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHeaders)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def proxy_example_config(port):
    """conf/proxy-example.conf with the harness's store and key and the test back end."""
    lib = pyhttpd.apxs_query("LIBEXECDIR")
    with open(os.path.join(pyhttpd.REPO, "conf", "proxy-example.conf")) as f:
        text = f.read()
    keep = [ln for ln in text.splitlines()
            if not ln.startswith(("DBDriver", "DBDParams", "AuthJWTSigningKey"))]
    text = "\n".join(keep).replace("127.0.0.1:9000", f"127.0.0.1:{port}")
    return (f'LoadModule proxy_module "{lib}/mod_proxy.so"\n'
            f'LoadModule proxy_http_module "{lib}/mod_proxy_http.so"\n' + text + "\n")


def test_proxy_example(httpd_factory, backend):
    server = httpd_factory("proxy-example", config=proxy_example_config(backend))
    server.expect_log(r"AH01631")
    server.start()
    name = pyhttpd.unique_name("proxied-")
    assert db(server, "add", name, PASSWORD).returncode == 0
    assert db(server, "claims", name, '{"role": "admin", "scope": "read write"}') \
        .returncode == 0
    r = server.get("/auth/token", auth=(name, PASSWORD))
    assert r.status == 200, r
    token = r.json()["token"]
    uid = pyhttpd.token_claims(token)["sub"]

    # the back end gets who the user is, never the credential, never the client's X-User
    for creds in ({"bearer": token}, {"auth": (name, PASSWORD)}):
        r = server.get("/app/hello", headers=[("X-User", "root"), ("X-User-Role", "admin2")],
                       **creds)
        assert r.status == 200, r
        seen = r.json()
        assert seen["path"] == "/hello"
        h = seen["headers"]
        assert h["x-user"] == name and h["x-user-id"] == uid
        assert h["x-user-role"] == "admin" and h["x-user-scope"] == "read write"
        assert "authorization" not in h, h
    assert server.get("/app/admin/x", bearer=token).status == 200
    assert server.get("/app/api/write/x", bearer=token).status == 200
    # no credential, a forged header alone, a user without the role
    r = server.get("/app/hello", headers=[("X-User", name)])
    assert r.status == 401, r
    other = pyhttpd.unique_name("proxied-")
    assert db(server, "add", other, PASSWORD).returncode == 0
    r = server.get("/app/hello", auth=(other, PASSWORD))
    assert r.status == 200 and r.json()["headers"]["x-user-role"] == ""
    assert server.get("/app/admin/x", auth=(other, PASSWORD)).status == 403
    assert server.get("/app/api/write/x", auth=(other, PASSWORD)).status == 403


# ---- conf/auth_jwt.load and conf/auth_jwt.conf ------------------------------------

def test_debian_load_and_conf(httpd_factory):
    """The a2enmod pair: the .load names the module where apxs installs it and
    declares its dependencies; every commented default in the .conf parses."""
    with open(os.path.join(pyhttpd.REPO, "conf", "auth_jwt.load")) as f:
        load = f.read()
    assert "# Depends: dbd" in load
    libexec = pyhttpd.apxs_query("LIBEXECDIR")
    assert f"LoadModule auth_jwt_module {libexec}/mod_auth_jwt.so" in load
    with open(os.path.join(pyhttpd.REPO, "conf", "auth_jwt.conf")) as f:
        conf = f.read()
    lines, in_section, n = [], False, 0
    for ln in conf.splitlines():
        s = ln.strip()
        # uncomment the directive examples ("#Directive", and whole commented
        # <Location> blocks), except those naming files of a real host
        example = s.startswith("#") and (in_section or (
            s[1:2].strip() and not s.startswith(("#DBD", "#AuthJWTSigningKey",
                                                 "#AuthJWTVerifyKey", "#AuthJWTFetchCA"))))
        if example:
            ln = ln.replace("#", "", 1)
            n += 1
            in_section = (in_section or s.startswith("#<Location")) \
                and not s.startswith("#</Location")
        lines.append(ln)
    assert n >= 25
    server = httpd_factory("debian-conf", config="\n".join(lines) + "\n")
    rc, out = server.configtest()
    assert rc == 0, out
