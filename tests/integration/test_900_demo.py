"""The demo (tools/demo + conf/demo.conf): starts, serves the page and the
REST-auth transcript, issues 60-second tokens with refresh tokens (the
/auth/refresh location rotates them and detects reuse), keeps its generated
key, stops by its pid file."""

import base64
import json
import os
import re
import shutil
import stat
import subprocess

import pytest

import pyhttpd


@pytest.fixture
def demo(env):
    if not env.module_built():
        pytest.fail(f"{env.module_path} is not built: run `make` first", pytrace=False)
    d = os.path.join(env.build_dir, f"{os.getpid()}-demo")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(env.build_dir, exist_ok=True)
    envv = dict(os.environ, DEMO_DIR=d)
    if pyhttpd.HTTPD_ENV:
        # make integration-asan: the sanitized module needs its runtimes
        # preloaded, and tools/demo would preload them into every command it
        # runs; the demo tool is tested with the plain build instead (the
        # rest of the suite covers the sanitized module)
        envv.pop("AJ_MODULE", None)
    tool = os.path.join(env.repo, "tools", "demo")

    def run(*args):
        return subprocess.run([tool, *args], env=envv, capture_output=True, text=True,
                              timeout=60)

    yield d, run
    run("stop")


# What conf/demo.conf sets (a page and a browser test rely on these).
DEMO_TOKEN_LIFETIME = 60
DEMO_REFRESH_LIFETIME = 86400
REFRESH_TOKEN_RE = r"[A-Za-z0-9_-]{43}"


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_demo_start_transcript_stop(demo):
    d, run = demo
    port = pyhttpd.free_port()
    p = run("start", str(port))
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"http://127.0.0.1:{port}/" in p.stdout
    assert "/api/token" in p.stdout

    key = os.path.join(d, "hs256.key")
    st = os.stat(key)
    assert stat.S_IMODE(st.st_mode) == 0o600
    with open(key, "rb") as f:
        secret = f.read()
    assert re.fullmatch(rb"[A-Za-z0-9_-]{64}", secret), secret

    # talk to it with the harness client
    class Demo(pyhttpd.Httpd):
        def __init__(self):         # only what request() needs
            self.host, self.port = "127.0.0.1", port

    s = Demo()
    r = s.get("/")
    assert r.status == 200 and "mod_auth_jwt" in r.text and "/api/token" in r.text
    r = s.post("/api/users", json_body={"username": "miguel", "password": "python"})
    assert r.status == 201, r
    assert r.json() == {"username": "miguel", "id": 1}
    assert s.get("/api/resource", auth=("miguel", "python")).json() == \
        {"data": "Hello, miguel!"}
    assert s.get("/api/resource", auth=("miguel", "ruby")).status == 401
    r = s.get("/api/token", auth=("miguel", "python"))
    assert r.status == 200, r
    token = r.json()["token"]
    assert r.json()["duration"] == DEMO_TOKEN_LIFETIME
    assert s.get("/api/resource", auth=(token, "unused")).json() == \
        {"data": "Hello, miguel!"}
    assert s.get("/api/users/1").json() == {"username": "miguel", "id": 1}
    r = s.post("/auth/login", json_body={"username": "miguel", "password": "python"})
    assert r.status == 200, r
    login = r.json()
    r = s.get("/auth/status", bearer=login["token"])
    assert r.status == 200 and r.json()["data"]["username"] == "miguel"

    # the login brought a refresh token; /auth/refresh (no Require) rotates it
    assert login["expires_in"] == DEMO_TOKEN_LIFETIME
    assert re.fullmatch(REFRESH_TOKEN_RE, login["refresh_token"]), login
    assert 0 < login["refresh_expires_in"] <= DEMO_REFRESH_LIFETIME
    sid = claims_of(login["token"])["sid"]
    r = s.post("/auth/refresh", json_body={"refresh_token": login["refresh_token"]})
    assert r.status == 200, r
    refreshed = r.json()
    assert re.fullmatch(REFRESH_TOKEN_RE, refreshed["refresh_token"])
    assert refreshed["refresh_token"] != login["refresh_token"]
    assert claims_of(refreshed["token"])["sid"] == sid
    assert s.get("/api/resource", bearer=refreshed["token"]).json() == \
        {"data": "Hello, miguel!"}
    # the used one presented again: reuse, the session is revoked
    r = s.post("/auth/refresh", json_body={"refresh_token": login["refresh_token"]})
    assert r.status == 401 and "reused" in r.json()["error"], r
    assert s.get("/api/resource", bearer=refreshed["token"]).status == 401
    assert s.post("/auth/refresh",
                  json_body={"refresh_token": refreshed["refresh_token"]}).status == 401
    r = s.get("/api/resource")
    assert sorted(r.header_all("WWW-Authenticate")) == \
        sorted(['Bearer realm="mod_auth_jwt demo"', 'Basic realm="mod_auth_jwt demo"'])

    # started again while running: says so, changes nothing
    p = run("start", str(port))
    assert p.returncode == 0 and "already running" in p.stdout

    p = run("stop")
    assert p.returncode == 0, p.stdout + p.stderr
    with pytest.raises(OSError):
        s.get("/", timeout=2)

    # a second start keeps the key and the users
    port2 = pyhttpd.free_port()
    p = run("start", str(port2))
    assert p.returncode == 0, p.stdout + p.stderr
    with open(key, "rb") as f:
        assert f.read() == secret
    s.port = port2
    assert s.get("/api/resource", auth=(token, "unused")).status == 200
    with open(os.path.join(d, "error_log")) as f:
        log = f.read()
    assert not pyhttpd.ErrorLog.bad_lines(log, [pyhttpd.REFUSED_CHECK_LOG]), log
