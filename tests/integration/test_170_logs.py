"""Secrets stay out of the logs: at LogLevel trace8 no token, password,
Basic credential or password hash is written to the error log or the access
log, and %u is the user name (docs/reference.md §2).

Stock httpd dumps every request header at http:trace4 ("Headers received
from client"), Authorization included; the module must keep that dump from
showing credentials, so nothing is set aside here."""

import base64

import pytest

import pyhttpd

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT
HTTPD_LOGLEVEL = "trace8"


@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_no_secrets_in_logs(httpd):
    password = "pw-Zebra-7391-unique"
    name, _, uid = pyhttpd.register(httpd, pyhttpd.unique_name("logger"), password)
    r = httpd.get("/api/token?marker-pw", auth=(name, password))
    assert r.status == 200, r
    token = r.json()["token"]
    r = httpd.post("/auth/login", json_body={"username": name, "password": password})
    assert r.status == 200, r
    token2 = r.json()["token"]
    assert httpd.get("/api/resource?marker-bearer", bearer=token).status == 200
    assert httpd.get("/api/resource?marker-basictoken", auth=(token2, "x")).status == 200
    assert httpd.get("/auth/status", bearer=token).status == 200
    assert httpd.get("/api/token", bearer=token).status == 200
    # refusals: a tampered token, a wrong password, the password sent as a user name
    h, p, s = token.split(".")
    bad = h + "." + p + "." + ("A" if s[0] != "A" else "B") + s[1:]
    assert httpd.get("/api/resource?marker-bad", bearer=bad).status == 401
    assert httpd.get("/api/resource", auth=(name, password + "x")).status == 401
    assert httpd.post("/auth/login",
                      json_body={"username": name, "password": password + "y"}).status == 401
    # a registration with a password that is refused
    assert httpd.post("/api/users", json_body={"username": name,
                                               "password": password + "z"}).status == 400

    pw_hash = httpd.sql("SELECT password_hash FROM users WHERE id = ?", (uid,))[0][0]
    httpd.access_log_lines("marker-bad")
    secrets = {
        "password": password,
        "token": token, "token2": token2, "bad token": bad,
        "token signature": s, "token payload": p,
        "basic credential": base64.b64encode(f"{name}:{password}".encode()).decode(),
        "basic token credential": base64.b64encode(f"{token2}:x".encode()).decode()[:40],
        "password hash": pw_hash,
        "hash salt": pw_hash[7:29],
        "secret": httpd.secret.decode(),
    }
    error_log = httpd.error_log.read_all()
    assert "Headers received from client" in error_log     # trace4 did dump headers
    access_log = httpd.read_access_log()
    assert len(error_log.splitlines()) > 50      # trace8 did log a lot
    for what, value in secrets.items():
        assert value not in error_log, f"{what} in error_log"
        assert value not in access_log, f"{what} in access_log"

    # %u is the user name for every authenticated request
    for marker in ("marker-pw", "marker-bearer", "marker-basictoken"):
        lines = httpd.access_log_lines(marker)
        assert len(lines) == 1, (marker, lines)
        assert lines[0].split(" ")[1] == name, lines[0]
    line = httpd.access_log_lines("marker-bad")[0]
    assert line.split(" ")[1] == "-", line
