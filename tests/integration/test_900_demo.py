"""The demo (tools/demo + conf/demo.conf): starts, serves the page and the
REST-auth transcript, keeps its generated key, stops by its pid file."""

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
    assert r.json()["duration"] == 600
    assert s.get("/api/resource", auth=(token, "unused")).json() == \
        {"data": "Hello, miguel!"}
    assert s.get("/api/users/1").json() == {"username": "miguel", "id": 1}
    r = s.post("/auth/login", json_body={"username": "miguel", "password": "python"})
    assert r.status == 200, r
    r = s.get("/auth/status", bearer=r.json()["token"])
    assert r.status == 200 and r.json()["data"]["username"] == "miguel"
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
