"""The store's schema as operators meet it (docs/reference.md §6): a revocation inserted
by hand with the documented columns (jti, expires_at) is accepted and
reaches every server within AuthJWTRevocationRefresh; a database made by
the previous version is upgraded when the server opens it; password and
claims changes record users.changed_at."""

import json
import os
import sqlite3
import subprocess
import time

import pytest

import pyhttpd
from test_200_revocation import SESSION_CONFIG, refused

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + SESSION_CONFIG \
    + "AuthJWTRevocationRefresh 1\n"

HTJWT = os.path.join(pyhttpd.REPO, "build", "htjwt")
REFRESH_WAIT = 5.0          # seconds: AuthJWTRevocationRefresh 1, with margin

# The schema the previous version created (no users.changed_at, no
# defaults for the time columns).
OLD_SCHEMA = pyhttpd.old_store_schema("INTEGER PRIMARY KEY AUTOINCREMENT") + """
INSERT INTO revoked_tokens VALUES ('old-jti', 99999999999, 42);
"""


def revoke_by_hand(server, token):
    """What an operator does: INSERT with the two documented columns."""
    claims = pyhttpd.token_claims(token)
    server.sql("INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?)",
               (claims["jti"], claims["exp"]))


def wait_refused(server, token):
    deadline = time.time() + REFRESH_WAIT
    while True:
        r = server.get("/api/resource", bearer=token)
        if refused(r) or time.time() > deadline:
            return r
        time.sleep(0.2)


def session(server):
    name, pw, uid = pyhttpd.register(server)
    token = pyhttpd.get_token(server, name, pw)
    assert server.get("/api/resource", bearer=token).status == 200
    return name, pw, uid, token


def test_revocation_inserted_by_hand(httpd):
    _, _, _, token = session(httpd)
    revoke_by_hand(httpd, token)
    r = wait_refused(httpd, token)
    assert refused(r), r
    assert any("token revoked" in h for h in r.header_all("WWW-Authenticate")), r
    # the row carries its insert time
    (revoked_at,) = httpd.sql("SELECT revoked_at FROM revoked_tokens WHERE jti = ?",
                              (pyhttpd.token_claims(token)["jti"],))[0]
    assert abs(revoked_at - time.time()) < 60


def test_changed_at_recorded(httpd):
    name, pw, uid, token = session(httpd)
    assert httpd.sql("SELECT changed_at FROM users WHERE id = ?", (uid,)) == [(0,)]
    before = int(time.time())
    r = httpd.post("/auth/password", bearer=token,
                   json_body={"old_password": pw, "new_password": "changed-pw"})
    assert r.status == 200, r
    (changed,) = httpd.sql("SELECT changed_at FROM users WHERE id = ?", (uid,))[0]
    assert before <= changed <= time.time() + 1
    # htjwt claims records it too
    httpd.sql("UPDATE users SET changed_at = 0 WHERE id = ?", (uid,))
    p = subprocess.run([HTJWT, httpd.db_path, "claims", name, '{"role":"admin"}'],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    httpd.sql("SELECT 1")                      # gives the files back to httpd's user
    (changed, claims) = httpd.sql("SELECT changed_at, claims FROM users WHERE id = ?",
                                  (uid,))[0]
    assert before <= changed <= time.time() + 1
    assert json.loads(claims) == {"role": "admin"}


def test_old_database_upgraded(httpd_factory):
    s = httpd_factory("old-schema", config=HTTPD_CONFIG)
    con = sqlite3.connect(s.db_path)
    try:
        con.executescript(OLD_SCHEMA)
        with pytest.raises(sqlite3.IntegrityError):     # what operators met before
            con.execute("INSERT INTO revoked_tokens (jti, expires_at) VALUES ('x', 1)")
        con.rollback()
    finally:
        con.close()
    s.sql("SELECT 1")                                    # owned by httpd's user
    s.start()
    _, _, _, token = session(s)
    cols = {row[1]: row[4] for row in s.sql("PRAGMA table_info(revoked_tokens)")}
    assert cols["revoked_at"] is not None, cols
    assert "changed_at" in {row[1] for row in s.sql("PRAGMA table_info(users)")}
    assert s.sql("SELECT revoked_at FROM revoked_tokens WHERE jti = 'old-jti'") == [(42,)]
    revoke_by_hand(s, token)
    assert refused(wait_refused(s, token))
