"""Refresh tokens (docs/reference.md §12; issue #17) on SQLite: rotation,
reuse detection that revokes the family (refresh and access tokens, in every
child at once), one winner when 20 clients race with one refresh token,
logout racing a refresh, expiry, AuthJWTMaxSessionAge, the switch-off,
refresh tokens from /api/token, renewal keeping the family, revoke-all and
password change, hostile input (never a 5xx), the raw token in no log and
not in the database file (its SHA-256 is), and cookie mode.

The race's counts also go to build/race-results.txt (one line per driver)
for the issue's closing note; test_510_pgsql_refresh.py adds PostgreSQL's."""

import collections
import concurrent.futures
import hashlib
import http.client
import json
import os
import re
import threading
import time

import pytest

import pyhttpd
from pyhttpd import b64url, token_claims
from test_200_revocation import SESSION_CONFIG, fresh_requests, refused
from test_400_htjwt import db as htjwt_db
from test_600_hostile import raw_request

REFRESH_PATH = "/auth/refresh"
LIFETIME = 3600             # AuthJWTRefreshLifetime of the server
SHORT = 2                   # ... of /short/*
CAPPED = 3                  # AuthJWTMaxSessionAge of /capped/*
RACE_N = 20                 # concurrent refreshes with one token
BODY_LIMIT = 16384

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")
SID_RE = re.compile(r"[A-Za-z0-9_-]{16,}")
SUCCESS_KEYS = {"status", "token", "auth_token", "expires_in", "refresh_token",
                "refresh_expires_in"}
# the error texts of the contract
ERR_INVALID = "invalid refresh token"
ERR_EXPIRED = "refresh token expired"
ERR_REUSED = "refresh token reused or its session revoked; log in again"
ERR_ENDED = "session ended; log in again"

RACE_RESULTS = os.path.join(pyhttpd.REPO, "build", "race-results.txt")


def refresh_location(path, *directives):
    return pyhttpd.location(path, "SetHandler auth-jwt-refresh", *directives)


def login_location(path, *directives):
    return pyhttpd.location(path, "SetHandler auth-jwt-login", *directives)


REFRESH_CONFIG = (
    f"AuthJWTRefreshLifetime {LIFETIME}\n" + refresh_location(REFRESH_PATH)
    + login_location("/short/login", f"AuthJWTRefreshLifetime {SHORT}")
    + refresh_location("/short/refresh", f"AuthJWTRefreshLifetime {SHORT}")
    + login_location("/capped/login", f"AuthJWTMaxSessionAge {CAPPED}")
    + refresh_location("/capped/refresh", f"AuthJWTMaxSessionAge {CAPPED}")
    + login_location("/norefresh/login", "AuthJWTRefreshLifetime 0")
    + refresh_location("/norefresh/refresh", "AuthJWTRefreshLifetime 0")
)
HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + SESSION_CONFIG + REFRESH_CONFIG
# the module at its most talkative: what it logs is checked for secrets
HTTPD_LOGLEVEL = "info auth_jwt:trace8"


# ---- helpers (test_510_pgsql_refresh.py uses them too) ---------------------

def token_hash(raw):
    """What the store keeps instead of a refresh token: SHA-256, lowercase hex."""
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


def login(server, user, path="/auth/login"):
    r = server.post(path, json_body={"username": user[0], "password": user[1]})
    assert r.status == 200, r
    return r.json()


def refresh(server, raw, path=REFRESH_PATH):
    return server.post(path, json_body={"refresh_token": raw})


def check_refreshed(r, old_access=None):
    """A 200 of the refresh handler (body mode); its body.  With old_access,
    the new access token is of the same family and login."""
    assert r.status == 200, r
    assert r.header("Cache-Control") == "no-store", r
    body = r.json()
    assert set(body) == SUCCESS_KEYS, body
    assert body["status"] == "success" and body["token"] == body["auth_token"], body
    assert TOKEN_RE.fullmatch(body["refresh_token"]), body
    assert body["expires_in"] > 0 and body["refresh_expires_in"] > 0, body
    if old_access is not None:
        old, new = token_claims(old_access), token_claims(body["token"])
        assert new["sid"] == old["sid"] and new["auth_time"] == old["auth_time"], (old, new)
        assert new["jti"] != old["jti"], (old, new)
    return body


def rotate(server, raw, old_access=None, path=REFRESH_PATH):
    return check_refreshed(refresh(server, raw, path), old_access)


def check_refused(r, status, error):
    """A refusal of the refresh handler: status, {"error": error} (error: one
    text, or a tuple of the texts allowed), and on a 401 the challenge like
    the login handler's."""
    assert r.status == status, r
    errors = error if isinstance(error, tuple) else (error,)
    assert r.json() in [{"error": e} for e in errors], r
    if status == 401:
        assert any(c.startswith('Bearer realm="') for c in r.header_all("WWW-Authenticate")), r


def send_together(requests, timeout=30):
    """Each (server, method, path, headers, body) on its own connection,
    opened beforehand; all are sent at once (a barrier).  The Responses,
    in order."""
    barrier = threading.Barrier(len(requests), timeout=timeout)

    def one(req):
        server, method, path, headers, body = req
        conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
        try:
            conn.connect()
            barrier.wait()
            hdrs = {"Host": f"{server.host}:{server.port}", "Connection": "close",
                    "Content-Length": str(len(body)), **headers}
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return pyhttpd.Response(resp.status, resp.reason, resp.getheaders(), resp.read())
        finally:
            conn.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(requests)) as ex:
        return list(ex.map(one, requests))


def race_refresh(servers, raw):
    """One refresh of raw to each server in servers (repeats allowed), all
    at once; the Responses."""
    body = json.dumps({"refresh_token": raw}).encode()
    ct = {"Content-Type": "application/json"}
    return send_together([(s, "POST", REFRESH_PATH, ct, body) for s in servers])


def record_race(capsys, driver, statuses):
    """Shows the race's counts (also without -s) and keeps them in
    build/race-results.txt, one line per driver (replacing an older one)."""
    others = sorted(s for s in statuses if s not in (200, 401))
    line = (f"race {driver}: {statuses.count(200)} x 200, {statuses.count(401)} x 401"
            + (f", others {others}" if others else ""))
    with capsys.disabled():
        print(f"\n    {line}", flush=True)
    try:
        with open(RACE_RESULTS) as f:
            kept = [ln for ln in f.read().splitlines() if not ln.startswith(f"race {driver}:")]
    except FileNotFoundError:
        kept = []
    os.makedirs(os.path.dirname(RACE_RESULTS), exist_ok=True)
    with open(RACE_RESULTS, "w") as f:
        f.write("\n".join(kept + [line]) + "\n")


def check_race(results):
    """Exactly one 200; every other answer the reuse refusal.  The winner's body."""
    statuses = sorted(r.status for r in results)
    answers = dict(collections.Counter((r.status, r.text.strip()) for r in results))
    assert statuses == [200] + [401] * (len(results) - 1), answers
    for r in results:
        if r.status == 401:
            check_refused(r, 401, ERR_REUSED)
    return check_refreshed(next(r for r in results if r.status == 200))


@pytest.fixture
def user(httpd):
    """A registered user: (name, password, id)."""
    return pyhttpd.register(httpd, pyhttpd.unique_name("refresh-"))


# ---- rotation ------------------------------------------------------------------

def test_rotation(httpd, user):
    """A login starts a family (sid) with its first refresh token.  Each
    refresh consumes the token presented and returns a new one with a new
    access token of the same family and login; earlier access tokens stay
    valid (rotation revokes none)."""
    body, other = login(httpd, user), login(httpd, user)
    assert TOKEN_RE.fullmatch(body["refresh_token"]), body
    assert body["refresh_expires_in"] == LIFETIME, body
    sid = token_claims(body["token"])["sid"]
    assert SID_RE.fullmatch(sid) and token_claims(other["token"])["sid"] != sid
    accesses, raws = [body["token"]], [body["refresh_token"]]
    for _ in range(3):
        new = rotate(httpd, raws[-1], accesses[-1])
        assert new["refresh_token"] not in raws and new["token"] not in accesses
        used = httpd.sql("SELECT family, used_at FROM refresh_tokens WHERE hash = ?",
                         (token_hash(raws[-1]),))
        assert len(used) == 1 and used[0][0] == sid and used[0][1] is not None, used
        accesses.append(new["token"])
        raws.append(new["refresh_token"])
    fresh = httpd.sql("SELECT family, used_at FROM refresh_tokens WHERE hash = ?",
                      (token_hash(raws[-1]),))
    assert fresh == [(sid, None)], fresh
    fam = httpd.sql("SELECT user_id, auth_time, revoked_at FROM refresh_families "
                    "WHERE family = ?", (sid,))
    assert fam == [(user[2], token_claims(accesses[0])["auth_time"], None)], fam
    for t in accesses:
        r = httpd.get("/api/resource", bearer=t)
        assert r.status == 200 and r.json() == {"data": f"Hello, {user[0]}!"}, r


# ---- reuse detection ---------------------------------------------------------

@pytest.mark.parametrize("which", ["first", "middle"])
def test_every_child_refuses_the_family_after_a_reuse(httpd, user, which):
    """A consumed token presented again: 401, and the family is revoked:
    its newest refresh token refused, every access token of it refused by
    every child (even one that verified and cached it just before); another
    login of the same user is untouched."""
    body = login(httpd, user)
    bystander = login(httpd, user)
    accesses, raws = [body["token"]], [body["refresh_token"]]
    for _ in range(2):
        new = rotate(httpd, raws[-1], accesses[-1])
        accesses.append(new["token"])
        raws.append(new["refresh_token"])
    statuses, pids = fresh_requests(httpd, "/api/resource", accesses[-1], 20)
    assert statuses == [200] * 20
    replayed = raws[0] if which == "first" else raws[1]
    check_refused(refresh(httpd, replayed), 401, ERR_REUSED)
    check_refused(refresh(httpd, raws[-1]), 401, ERR_REUSED)
    statuses, pids = fresh_requests(httpd, "/api/resource", accesses[-1], 40)
    assert statuses == [401] * 40, statuses
    assert len(pids) >= 2, "the requests should have reached both children"
    for t in accesses:
        r = httpd.get("/api/resource", bearer=t)
        assert refused(r), r
        assert refused(httpd.get("/api/token", bearer=t))         # no renewal either
    sid = token_claims(accesses[0])["sid"]
    assert httpd.sql("SELECT COUNT(*) FROM revoked_tokens WHERE jti = ?",
                     (f"sid:{sid}",))[0][0] == 1
    assert httpd.sql("SELECT revoked_at IS NOT NULL FROM refresh_families WHERE family = ?",
                     (sid,)) == [(1,)]
    # the other login of the same user: its access token and its refresh work
    assert httpd.get("/api/resource", bearer=bystander["token"]).status == 200
    rotate(httpd, bystander["refresh_token"], bystander["token"])


def test_race_one_token_one_winner(httpd, user, capsys):
    """RACE_N clients present one refresh token at once: exactly one 200;
    the others are reuses, so the family is revoked and even the winner's
    new tokens are refused (RFC 9700 §4.14.2)."""
    body = login(httpd, user)
    results = race_refresh([httpd] * RACE_N, body["refresh_token"])
    record_race(capsys, "sqlite", [r.status for r in results])
    winner = check_race(results)
    check_refused(refresh(httpd, winner["refresh_token"]), 401, ERR_WINNER)
    assert refused(httpd.get("/api/resource", bearer=winner["token"]))
    assert refused(httpd.get("/api/resource", bearer=body["token"]))


# The winner's next refresh token of a race: spent by the family's revocation
# when the winner stored it first (reused), or never stored when a loser's
# revocation came first (invalid); refused either way.
ERR_WINNER = (ERR_REUSED, ERR_INVALID)


# ---- logout ---------------------------------------------------------------------

def test_logout_revokes_the_family(httpd, user):
    body = login(httpd, user)
    other = login(httpd, user)
    new = rotate(httpd, body["refresh_token"], body["token"])
    r = httpd.post("/auth/logout", bearer=body["token"])
    assert r.status == 200, r
    check_refused(refresh(httpd, new["refresh_token"]), 401, ERR_REUSED)
    assert refused(httpd.get("/api/resource", bearer=new["token"]))
    assert httpd.get("/api/resource", bearer=other["token"]).status == 200
    rotate(httpd, other["refresh_token"], other["token"])


def test_refresh_racing_a_logout_leaves_no_usable_token(httpd, user):
    """A logout and a refresh of the same family sent at once, several
    rounds (either may go first): once both answered, nothing the refresh
    returned works."""
    outcomes = set()
    for round_ in range(6):
        body = login(httpd, user)
        logout = (httpd, "POST", "/auth/logout", {"Authorization": f"Bearer {body['token']}"},
                  b"")
        ref = (httpd, "POST", REFRESH_PATH, {"Content-Type": "application/json"},
               json.dumps({"refresh_token": body["refresh_token"]}).encode())
        reqs = [logout, ref] if round_ % 2 else [ref, logout]
        results = send_together(reqs)
        r_logout, r_refresh = (results if round_ % 2 else results[::-1])
        assert r_logout.status == 200, r_logout
        outcomes.add(r_refresh.status)
        if r_refresh.status == 200:
            got = check_refreshed(r_refresh, body["token"])
            check_refused(refresh(httpd, got["refresh_token"]), 401, ERR_REUSED)
            assert refused(httpd.get("/api/resource", bearer=got["token"])), round_
        else:
            # consumed after the logout (a reuse), or before it with the
            # family gone when the next token was to be stored
            assert r_refresh.status == 401 and r_refresh.json()["error"] in (
                ERR_REUSED, ERR_ENDED), r_refresh
        check_refused(refresh(httpd, body["refresh_token"]), 401, ERR_REUSED)
        assert refused(httpd.get("/api/resource", bearer=body["token"]))
    assert outcomes <= {200, 401}, outcomes


@pytest.mark.parametrize("how", ["logout-all", "password"])
def test_revoke_all_and_password_change_end_every_family(httpd, user, how):
    name, pw, _ = user
    families = [login(httpd, user) for _ in range(3)]
    rotated = rotate(httpd, families[1]["refresh_token"], families[1]["token"])
    if how == "logout-all":
        r = httpd.post("/auth/logout?all=1", bearer=families[0]["token"])
    else:
        r = httpd.post("/auth/password", bearer=families[0]["token"],
                       json_body={"old_password": pw, "new_password": "brand-new-pw"})
        pw = "brand-new-pw"
    assert r.status == 200, r
    for raw in (families[0]["refresh_token"], rotated["refresh_token"],
                families[2]["refresh_token"]):
        r = refresh(httpd, raw)
        assert r.status == 401 and r.json()["error"] in (ERR_REUSED, ERR_ENDED), r
    assert refused(httpd.get("/api/resource", bearer=rotated["token"]))
    # a new login starts a family that works
    again = login(httpd, (name, pw))
    rotate(httpd, again["refresh_token"], again["token"])


def test_a_family_key_cannot_be_logged_out(httpd, user):
    """A token whose jti is a family's revocation key ("sid:..."): 400, and
    the family named stays alive."""
    body = login(httpd, user)
    sid, t = token_claims(body["token"])["sid"], int(time.time())
    forged = pyhttpd.sign_hs({"alg": "HS256", "typ": "JWT"},
                             {"sub": str(user[2]), "name": user[0], "iat": t, "nbf": t,
                              "exp": t + 300, "auth_time": t, "jti": f"sid:{sid}"},
                             httpd.secret)
    r = httpd.post("/auth/logout", bearer=forged)
    assert r.status == 400, r
    assert httpd.get("/api/resource", bearer=body["token"]).status == 200
    rotate(httpd, body["refresh_token"], body["token"])


@pytest.mark.parametrize("command", ["revoke-all", "del"])
def test_htjwt_ends_every_family(httpd, user, command):
    families = [login(httpd, user) for _ in range(2)]
    p = htjwt_db(httpd, command, user[0], options=())
    assert p.returncode == 0, p
    for body in families:
        r = refresh(httpd, body["refresh_token"])
        assert r.status == 401 and r.json()["error"] in (ERR_REUSED, ERR_ENDED), r


# ---- lifetimes -----------------------------------------------------------------

def wait_past(instant, limit):
    """Waits until the clock is past instant (a Unix second) by a second,
    at most limit seconds from now."""
    wait = instant + 1.05 - time.time()
    assert wait <= limit, f"would wait {wait:.1f} s"
    time.sleep(max(0.0, wait))


def test_refresh_token_expires(httpd, user):
    a, b = login(httpd, user, "/short/login"), login(httpd, user, "/short/login")
    assert 0 < a["refresh_expires_in"] <= SHORT, a
    rotated = rotate(httpd, a["refresh_token"], a["token"], "/short/refresh")
    assert 0 < rotated["refresh_expires_in"] <= SHORT, rotated
    ends = [httpd.sql("SELECT expires_at FROM refresh_tokens WHERE hash = ?",
                      (token_hash(raw),))[0][0]
            for raw in (b["refresh_token"], rotated["refresh_token"])]
    assert max(ends) <= time.time() + SHORT + 1, ends
    wait_past(max(ends), SHORT + 2)
    check_refused(refresh(httpd, b["refresh_token"]), 401, ERR_EXPIRED)
    check_refused(refresh(httpd, rotated["refresh_token"]), 401, ERR_EXPIRED)


def test_max_session_age_caps_the_family(httpd, user):
    """MaxSessionAge 3 with RefreshLifetime 3600: nothing of the family
    reaches past auth_time + 3, wherever it is refreshed."""
    body = login(httpd, user, "/capped/login")
    auth_time = token_claims(body["token"])["auth_time"]
    end = auth_time + CAPPED
    assert 0 < body["refresh_expires_in"] <= CAPPED, body
    assert token_claims(body["token"])["exp"] <= end, token_claims(body["token"])
    sid = token_claims(body["token"])["sid"]
    assert httpd.sql("SELECT expires_at FROM refresh_families WHERE family = ?",
                     (sid,)) == [(end,)]
    # refreshed where the default (86400) applies: the family's end holds
    new = rotate(httpd, body["refresh_token"], body["token"])
    assert new["refresh_expires_in"] <= CAPPED and new["expires_in"] <= CAPPED, new
    assert token_claims(new["token"])["exp"] <= end, token_claims(new["token"])
    # and a renewal of the family's access token does not outlive it either
    r = httpd.get("/api/token", bearer=new["token"])
    if r.status == 200:
        assert token_claims(r.json()["token"])["exp"] <= end, r.json()
    wait_past(end, CAPPED + 2)
    check_refused(refresh(httpd, new["refresh_token"]), 401, ERR_EXPIRED)
    check_refused(refresh(httpd, new["refresh_token"], "/capped/refresh"), 401, ERR_EXPIRED)


def test_refresh_lifetime_zero_is_off(httpd, user):
    r = httpd.post("/norefresh/login", json_body={"username": user[0], "password": user[1]})
    assert r.status == 200, r
    assert set(r.json()) == {"status", "auth_token", "token", "expires_in"}, r.json()
    assert "sid" not in token_claims(r.json()["token"])
    raw = login(httpd, user)["refresh_token"]
    r = refresh(httpd, raw, "/norefresh/refresh")
    assert r.status == 403 and isinstance(r.json().get("error"), str), r
    # the token was not consumed there
    rotate(httpd, raw)


# ---- the token handler ---------------------------------------------------------

def test_token_handler_password_and_renewal(httpd, user):
    """A password (Basic) gets a refresh token too; a renewal with a token
    keeps the family and gets none."""
    r = httpd.get("/api/token", auth=(user[0], user[1]))
    assert r.status == 200, r
    body = r.json()
    assert TOKEN_RE.fullmatch(body["refresh_token"]) and body["refresh_expires_in"] > 0, body
    assert "sid" in token_claims(body["token"])
    rotate(httpd, body["refresh_token"], body["token"])
    r = httpd.get("/api/token", bearer=body["token"])
    assert r.status == 200, r
    assert "refresh_token" not in r.json(), r.json()
    renewed = r.json()["token"]
    assert token_claims(renewed)["sid"] == token_claims(body["token"])["sid"]
    assert token_claims(renewed)["auth_time"] == token_claims(body["token"])["auth_time"]
    # the renewed token dies with its family
    assert httpd.post("/auth/logout", bearer=body["token"]).status == 200
    assert refused(httpd.get("/api/resource", bearer=renewed))
    assert refused(httpd.get("/api/token", bearer=renewed))


# ---- hostile input: never a 5xx, the contract's status ---------------------------

MALFORMED = [b"", b"{", b'{"refresh_token":', b"[]", b'["x"]', b"42", b'"tok"', b"null",
             b"true", b"{}", b'{"other":"x"}', b'{"refresh_token":42}',
             b'{"refresh_token":null}', b'{"refresh_token":["x"]}', b'{"refresh_token":{}}',
             b'{"refresh_token":true}', b'{"refresh_token":"a\\u0000b"}',
             b'{"refresh_token":"a\x00b"}', b'{"refresh_token":"\xff\xfe"}',
             b'{"refresh_token":"\\ud800"}', b'{"refresh_token":"a","refresh_token":"b"}',
             b"[" * 100 + b"]" * 100, b'{"refresh_token":"x"} trailing']
NOT_SHAPED = ["", "A" * 42, "A" * 44, "A" * 42 + "=", "A" * 42 + "+", "A" * 42 + "/",
              "A" * 42 + " ", "\u00e9" * 43, "\U0001f600" * 43, "A" * 16000,
              "' OR '1'='1' --" + "A" * 28]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_bodies_are_400(httpd, body):
    r = httpd.post(REFRESH_PATH, headers={"Content-Type": "application/json"}, body=body)
    assert r.status == 400 and isinstance(r.json().get("error"), str), r


@pytest.mark.parametrize("raw", NOT_SHAPED, ids=range(len(NOT_SHAPED)))
def test_strings_not_shaped_like_a_refresh_token_are_401(httpd, raw):
    check_refused(refresh(httpd, raw), 401, ERR_INVALID)


def test_refusals_are_not_stored_by_caches(httpd, user):
    """Every answer of the handler has Cache-Control: no-store."""
    body = login(httpd, user)
    rotate(httpd, body["refresh_token"])
    for r in (refresh(httpd, b64url(os.urandom(32))), refresh(httpd, body["refresh_token"]),
              refresh(httpd, "x")):
        assert r.status == 401 and r.header("Cache-Control") == "no-store", r


def test_unknown_tokens_and_access_tokens_are_401(httpd, user):
    for _ in range(5):
        check_refused(refresh(httpd, b64url(os.urandom(32))), 401, ERR_INVALID)
    body = login(httpd, user)
    check_refused(refresh(httpd, body["token"]), 401, ERR_INVALID)
    # the family is untouched by all that
    rotate(httpd, body["refresh_token"], body["token"])


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405(httpd, user, method):
    raw = login(httpd, user)["refresh_token"]
    r = httpd.request(method, REFRESH_PATH, json_body={"refresh_token": raw})
    assert r.status == 405 and r.header("Allow") == "POST", r
    rotate(httpd, raw)                  # not consumed


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "application/jsonx"])
def test_other_content_types_are_415(httpd, user, ctype):
    raw = login(httpd, user)["refresh_token"]
    headers = {"Content-Type": ctype} if ctype else {}
    r = httpd.post(REFRESH_PATH, headers=headers,
                   body=json.dumps({"refresh_token": raw}).encode())
    assert r.status == 415 and isinstance(r.json().get("error"), str), r
    r = httpd.post(REFRESH_PATH, headers={"Content-Type": "application/json; charset=utf-8"},
                   body=json.dumps({"refresh_token": raw}).encode())
    check_refreshed(r)


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_bodies_over_16k_are_413(httpd, user, chunked):
    raw = login(httpd, user)["refresh_token"]
    body = json.dumps({"refresh_token": raw, "pad": "x" * BODY_LIMIT}).encode()
    r = raw_request(httpd, "POST", REFRESH_PATH, [("Content-Type", "application/json")], body,
                    chunked=chunked)
    assert r.status == 413 and isinstance(r.json().get("error"), str), r
    # one just at the limit is read (and is an unknown token)
    at_limit = b'{"refresh_token":"' + b"A" * (BODY_LIMIT - 20) + b'"}'
    assert len(at_limit) == BODY_LIMIT
    r = raw_request(httpd, "POST", REFRESH_PATH, [("Content-Type", "application/json")],
                    at_limit, chunked=chunked)
    check_refused(r, 401, ERR_INVALID)
    rotate(httpd, raw)                  # not consumed


def test_a_nul_does_not_truncate_into_a_real_token(httpd, user):
    raw = login(httpd, user)["refresh_token"]
    for body in (b'{"refresh_token":"' + raw.encode() + b'\\u0000x"}',
                 b'{"refresh_token":"' + raw.encode() + b'\x00x"}'):
        r = httpd.post(REFRESH_PATH, headers={"Content-Type": "application/json"}, body=body)
        assert r.status == 400, r
    rotate(httpd, raw)                  # not consumed


# ---- secrets ---------------------------------------------------------------------

def check_no_secret_anywhere(server, raws, issued):
    """No raw refresh token (nor the hash of one) in the error log or the
    access log; no raw token in the database's files; the hash of each
    issued token in refresh_tokens."""
    server.get("/?marker-end")
    server.access_log_lines("marker-end")
    error_log, access_log = server.error_log.read_all(), server.read_access_log()
    db = b""
    for suffix in ("", "-wal", "-journal"):
        if os.path.exists(server.db_path + suffix):
            with open(server.db_path + suffix, "rb") as f:
                db += f.read()
    for raw in raws:
        for where, text in (("error_log", error_log), ("access_log", access_log)):
            assert raw not in text, f"a raw refresh token in {where}"
            assert token_hash(raw) not in text, f"a refresh token's hash in {where}"
        assert raw.encode() not in db, "a raw refresh token in the database file"
    stored = {h for (h,) in server.sql("SELECT hash FROM refresh_tokens")}
    for raw in issued:
        assert token_hash(raw) in stored


def test_raw_refresh_tokens_are_neither_logged_nor_stored(httpd, user):
    body = login(httpd, user)
    first = rotate(httpd, body["refresh_token"], body["token"])
    unknown = b64url(os.urandom(32))
    check_refused(refresh(httpd, unknown), 401, ERR_INVALID)
    mark = httpd.error_log.size()
    check_refused(refresh(httpd, body["refresh_token"]), 401, ERR_REUSED)
    check_refused(refresh(httpd, first["refresh_token"]), 401, ERR_REUSED)
    # reuse detection says so once, naming the user id
    warns = [ln for ln in pyhttpd.read_log_text(httpd.error_log_path, mark).splitlines()
             if "[auth_jwt:warn]" in ln
             and re.search(rf"\b{user[2]}\b", re.sub(r"\[(pid|client) [^\]]*\]", "", ln))]
    assert warns, pyhttpd.read_log_text(httpd.error_log_path, mark)
    short = login(httpd, user, "/short/login")
    by_basic = httpd.get("/api/token", auth=(user[0], user[1])).json()
    issued = [body["refresh_token"], first["refresh_token"], short["refresh_token"],
              by_basic["refresh_token"]]
    check_no_secret_anywhere(httpd, issued + [unknown], issued)


# ---- cookie mode -------------------------------------------------------------------

def set_cookies(r):
    """{name: (value, [attributes])} of a response's Set-Cookie headers."""
    out = {}
    for v in r.header_all("Set-Cookie"):
        parts = [p.strip() for p in v.split(";")]
        name, _, value = parts[0].partition("=")
        assert name not in out, r.headers
        out[name] = (value, parts[1:])
    return out


def check_refresh_cookie(r, max_age_limit=LIFETIME):
    value, attrs = set_cookies(r)["jwt_refresh"]
    assert TOKEN_RE.fullmatch(value), attrs
    for a in ("HttpOnly", "Secure", "SameSite=Strict", f"Path={REFRESH_PATH}"):
        assert a in attrs, attrs
    ages = [int(a.split("=", 1)[1]) for a in attrs if a.startswith("Max-Age=")]
    assert len(ages) == 1 and 0 < ages[0] <= max_age_limit, attrs
    assert "refresh_token" not in r.json(), r.json()
    return value


class TestCookieMode:
    HTTPD_CONFIG = ("AuthJWTCookie jwt\n" + pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT
                    + SESSION_CONFIG + f"AuthJWTRefreshLifetime {LIFETIME}\n"
                    + refresh_location(REFRESH_PATH))
    # everything, httpd's header dump (the Cookie header) included
    HTTPD_LOGLEVEL = "trace8"

    @staticmethod
    def cookie_login(httpd, user):
        r = httpd.post("/auth/login", json_body={"username": user[0], "password": user[1]})
        assert r.status == 200, r
        return r, check_refresh_cookie(r)

    @staticmethod
    def cookie_refresh(httpd, raw, csrf="1", json_body=None):
        headers = {"Cookie": f"jwt_refresh={raw}"} if raw else {}
        if csrf is not None:
            headers["X-CSRF-Token"] = csrf
        return httpd.request("POST", REFRESH_PATH, headers=headers, json_body=json_body)

    def test_login_sets_the_refresh_cookie(self, httpd, user):
        r, raw = self.cookie_login(httpd, user)
        assert set(set_cookies(r)) == {"jwt", "jwt_refresh"}, r.headers
        assert set_cookies(r)["jwt"][0] == r.json()["auth_token"]

    def test_refresh_with_the_cookie_and_the_csrf_header(self, httpd, user):
        r0, raw = self.cookie_login(httpd, user)
        access = r0.json()["auth_token"]
        r = self.cookie_refresh(httpd, raw)
        assert r.status == 200, r
        new_raw = check_refresh_cookie(r)
        body = r.json()
        assert set_cookies(r)["jwt"][0] == body["auth_token"]
        assert body["csrf_token"] == token_claims(body["auth_token"])["csrf"]
        assert token_claims(body["auth_token"])["sid"] == token_claims(access)["sid"]
        assert new_raw != raw
        # an empty JSON object is a body it accepts too
        r = self.cookie_refresh(httpd, new_raw, json_body={})
        assert r.status == 200, r
        newest = check_refresh_cookie(r)
        # the consumed cookie is a reuse: the family goes
        check_refused(self.cookie_refresh(httpd, raw), 401, ERR_REUSED)
        check_refused(self.cookie_refresh(httpd, newest), 401, ERR_REUSED)
        assert refused(httpd.get("/api/resource", headers={"Cookie": f"jwt={access}"}))

    def test_refresh_cookies_are_neither_logged_nor_stored(self, httpd, user):
        """At trace8 httpd dumps the headers of requests (Cookie) and of
        responses (Set-Cookie): neither may show a refresh token."""
        _, raw = self.cookie_login(httpd, user)
        r = self.cookie_refresh(httpd, raw)
        assert r.status == 200, r
        new_raw = check_refresh_cookie(r)
        check_no_secret_anywhere(httpd, [raw, new_raw], [raw, new_raw])

    def test_without_the_csrf_header_403(self, httpd, user):
        _, raw = self.cookie_login(httpd, user)
        for csrf in (None, ""):
            r = self.cookie_refresh(httpd, raw, csrf=csrf)
            assert r.status == 403 and isinstance(r.json().get("error"), str), r
        assert self.cookie_refresh(httpd, raw).status == 200       # not consumed

    def test_a_refresh_token_in_the_body_is_400(self, httpd, user):
        _, raw = self.cookie_login(httpd, user)
        for cookie in (raw, None):
            r = self.cookie_refresh(httpd, cookie, json_body={"refresh_token": raw})
            assert r.status == 400 and isinstance(r.json().get("error"), str), r
        assert self.cookie_refresh(httpd, raw).status == 200       # not consumed

    def test_no_refresh_cookie_401(self, httpd, user):
        r0, _ = self.cookie_login(httpd, user)
        for headers in ({"X-CSRF-Token": "1"},
                        {"X-CSRF-Token": "1", "Cookie": f"jwt={r0.json()['auth_token']}"}):
            r = httpd.post(REFRESH_PATH, headers=headers)
            assert r.status == 401 and isinstance(r.json().get("error"), str), r

    def test_logout_clears_both_cookies(self, httpd, user):
        r0, raw = self.cookie_login(httpd, user)
        access, csrf = r0.json()["auth_token"], r0.json()["csrf_token"]
        r = httpd.post("/auth/logout", headers={"Cookie": f"jwt={access}; jwt_refresh={raw}",
                                                "X-CSRF-Token": csrf})
        assert r.status == 200, r
        cleared = set_cookies(r)
        assert set(cleared) == {"jwt", "jwt_refresh"}, r.headers
        for name, (value, attrs) in cleared.items():
            assert value == "" and "Max-Age=0" in attrs, (name, attrs)
        assert f"Path={REFRESH_PATH}" in cleared["jwt_refresh"][1]
        check_refused(self.cookie_refresh(httpd, raw), 401, ERR_REUSED)
