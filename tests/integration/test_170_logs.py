"""Secrets stay out of the logs: at LogLevel trace8 no token, password,
Basic credential or password hash is written to the error log or the access
log, and %u is the user name (SPEC §2).

One exception belongs to stock httpd, like mod_auth_basic's AH01617/AH01618:
at `http:trace4` and above, http_request.c dumps every request header,
Authorization included.  Those lines are set aside (and their presence
checked, so that the exception stays known); everything else, our module at
trace8 included, must be clean."""

import base64
import re

import pyhttpd

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT
HTTPD_LOGLEVEL = "trace8"


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
    stock_dump = re.compile(r"\[http:trace\d\] .*http_request\.c\(\d+\): "
                            r"\[client [^\]]+\]\s+Authorization: ")
    all_lines = httpd.error_log.read_all().splitlines()
    dumps = [ln for ln in all_lines if stock_dump.search(ln)]
    assert dumps, "stock httpd no longer dumps request headers at trace4: drop the exception"
    error_log = "\n".join(ln for ln in all_lines if not stock_dump.search(ln))
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
