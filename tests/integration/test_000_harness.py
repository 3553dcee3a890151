"""The harness itself, on a server without mod_auth_jwt: static files, the
Lua resource handler, raw and duplicate headers, the error-log check,
restart/graceful and configtest.  If these fail, the harness is broken, not
the module."""

import json
import os
import subprocess

import pytest

import pyhttpd

HTTPD_LOAD_MODULE = False
HTTPD_CONFIG = r"""
<Location /hello>
    AuthType Basic
    AuthName "harness"
    AuthBasicProvider file
    AuthUserFile "@ROOT@/conf/htpasswd"
    Require valid-user
</Location>
LuaMapHandler "^/hello$" "@CONF@/hello.lua"
<Location /echo-header>
    Header always set X-Seen "%{HTTP_X_DUP}e"
</Location>
SetEnvIf X-Dup "(.*)" HTTP_X_DUP=$1
<Location /denied>
    Require all denied
</Location>
"""

ODD_USER = 'q"u\\o\tx'


@pytest.fixture
def htpasswd(httpd):
    path = os.path.join(httpd.root, "conf", "htpasswd")
    if not os.path.exists(path):
        subprocess.run(["htpasswd", "-bcB", "-C", "4", path, ODD_USER, "secret"],
                       check=True, capture_output=True)
        subprocess.run(["htpasswd", "-bB", "-C", "4", path, "plain", "secret"],
                       check=True, capture_output=True)
    return path


def test_static_file(httpd):
    r = httpd.get("/")
    assert r.status == 200
    assert "hello from the test server" in r.text
    assert r.header("Content-Type").startswith("text/html")


def test_several_children(httpd):
    assert len(httpd.child_pids()) >= 2


def test_lua_hello_plain_user(httpd, htpasswd):
    r = httpd.get("/hello", auth=("plain", "secret"))
    assert r.status == 200, r
    assert r.header("Content-Type") == "application/json"
    assert r.json() == {"data": "Hello, plain!"}


def test_lua_hello_escapes_user(httpd, htpasswd):
    r = httpd.get("/hello", auth=(ODD_USER, "secret"))
    assert r.status == 200, r
    assert b'\\"' in r.body and b"\\\\" in r.body and b"\\u0009" in r.body
    assert r.json() == {"data": f"Hello, {ODD_USER}!"}


@pytest.mark.expect_log(r"AH01617")
def test_lua_hello_needs_auth(httpd, htpasswd):
    assert httpd.get("/hello").status == 401
    assert httpd.get("/hello", auth=("plain", "wrong")).status == 401


def test_duplicate_headers_reach_server(httpd):
    r = httpd.get("/echo-header", headers=[("X-Dup", "one"), ("X-Dup", "two")])
    assert r.header("X-Seen") == "one, two"


def test_raw_request(httpd):
    r = httpd.raw(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{httpd.port}\r\n"
                  "Connection: close\r\n\r\n")
    assert r.status == 200


def test_error_log_check_sees_errors(httpd):
    # a request for a path the config denies logs AH01630 at [authz_core:error]
    r = httpd.get("/denied")
    assert r.status == 403
    text = httpd.error_log.read_since_mark()
    sample = ("[Sun Nov 23 12:00:00.000000 2025] [auth_jwt:error] [pid 1:tid 2] AJ1: x\n"
              "[Sun Nov 23 12:00:00.000000 2025] [core:notice] [pid 1] AH00052: child pid 3 "
              "exit signal Segmentation fault (11)\n"
              "[Sun Nov 23 12:00:00.000000 2025] [auth_jwt:info] [pid 1:tid 2] AJ2: fine\n")
    assert len(pyhttpd.ErrorLog.bad_lines(sample)) == 2
    assert len(pyhttpd.ErrorLog.bad_lines(sample, [r"AJ1:"])) == 1
    assert len(pyhttpd.ErrorLog.bad_lines(text)) == 1
    assert "AH01630" in pyhttpd.ErrorLog.bad_lines(text)[0]
    httpd.expect_log(r"AH01630")


def test_graceful_and_restart(httpd):
    pid = httpd.pid()
    httpd.graceful()
    assert httpd.pid() == pid
    assert httpd.get("/").status == 200
    httpd.restart()
    assert httpd.pid() == pid
    assert httpd.get("/").status == 200


def test_configtest_reports_bad_directive(httpd_factory):
    s = httpd_factory(load_module=False, config="LogLevel nonsense-level\n")
    rc, out = s.configtest()
    assert rc != 0
    assert "Syntax error on line" in out and "Log level keyword" in out
    s2 = httpd_factory(load_module=False)
    rc, out = s2.configtest()
    assert rc == 0, out
    assert "Syntax OK" in out


def test_sql_helper(httpd_factory):
    s = httpd_factory(load_module=False)
    s.sql("CREATE TABLE t(x)")
    s.sql("INSERT INTO t VALUES (?)", (json.dumps({"a": 1}),))
    assert s.sql("SELECT x FROM t") == [('{"a": 1}',)]
