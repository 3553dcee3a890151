"""Messages that say what to fix (docs/reference.md §13): JSON error bodies
for JSON clients under AuthType JWT, the login handler's challenge, an
unknown key id named as such, and store errors that name the database file
and the user that needs access.

Client addresses are simulated with mod_remoteip (X-Forwarded-For from the
loopback proxy) so that the login throttle's counters of one test never
reach into another's."""

import itertools
import json
import os
import re
import time

import pytest

import pyhttpd
from test_230_basic_cache import StoreGone

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + r"""
DBDPersist Off
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
<Location /admin/resource>
    AuthType JWT
    AuthName "itest"
    Require jwt-claim role admin
</Location>
<Location /throttled/resource>
    AuthType JWT
    AuthName "itest"
    Require valid-user
    AuthJWTLoginThrottle 1 60
</Location>
<Location /metrics>
    SetHandler auth-jwt-metrics
    Require ip 127.0.0.1
</Location>
LuaMapHandler "^/(admin|throttled)/resource$" "@CONF@/hello.lua"
"""

JSON = "application/json"
# a JSON client, a browser, and what curl sends
ACCEPT_JSON = {"Accept": JSON}
ACCEPT_HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

_addresses = (f"192.0.2.{n}" for n in itertools.count(1))


def client(extra=None):
    """Headers of a client with an address of its own (X-Forwarded-For)."""
    h = {"X-Forwarded-For": next(_addresses)}
    h.update(extra or {})
    return h


def content_type(r):
    return (r.header("Content-Type") or "").split(";")[0].strip().lower()


def assert_json_error(r, status, text):
    assert r.status == status, r
    assert content_type(r) == JSON, r
    assert json.loads(r.body) == {"error": text}, r
    assert "Accept" in (r.header("Vary") or ""), r


def assert_html(r, status):
    assert r.status == status, r
    assert content_type(r) == "text/html", r
    assert r.body.lstrip().startswith(b"<!DOCTYPE HTML"), r


def challenges(r):
    return r.header_all("WWW-Authenticate")


# ---- JSON bodies for JSON clients -------------------------------------------

def test_401_no_credentials_json(httpd):
    r = httpd.get("/api/resource", headers=client(ACCEPT_JSON))
    assert_json_error(r, 401, "authentication required")
    # the challenges are the same as with the HTML page
    assert challenges(r) == ['Bearer realm="itest"', 'Basic realm="itest"'], r
    html = httpd.get("/api/resource", headers=client(ACCEPT_HTML))
    assert_html(html, 401)
    assert challenges(html) == challenges(r)


def test_401_bad_token_json(httpd):
    token = pyhttpd.sign_hs({"alg": "HS256", "typ": "JWT"},
                            {"sub": "1", "exp": int(time.time()) + 60}, b"not-the-secret")
    r = httpd.get("/api/resource", bearer=token, headers=client(ACCEPT_JSON))
    assert_json_error(r, 401, "signature verification failed")
    assert any('error="invalid_token"' in c and "signature verification failed" in c
               for c in challenges(r)), r


@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_401_wrong_password_json(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    r = httpd.get("/api/resource", auth=(name, pw + "x"), headers=client(ACCEPT_JSON))
    assert_json_error(r, 401, "invalid username or password")
    unknown = httpd.get("/api/resource", auth=(name + "-nobody", pw),
                        headers=client(ACCEPT_JSON))
    assert_json_error(unknown, 401, "invalid username or password")
    assert challenges(unknown) == challenges(r) and unknown.body == r.body


@pytest.mark.expect_log(r"AH01631")
def test_403_json(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    token = pyhttpd.get_token(httpd, name, pw)
    r = httpd.get("/admin/resource", bearer=token, headers=client(ACCEPT_JSON))
    assert_json_error(r, 403, "forbidden")
    assert_html(httpd.get("/admin/resource", bearer=token, headers=client(ACCEPT_HTML)), 403)


@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG, pyhttpd.THROTTLE_LIMIT_LOG)
def test_429_json(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    me = client(ACCEPT_JSON)
    assert httpd.get("/throttled/resource", auth=(name, pw + "x"), headers=me).status == 401
    r = httpd.get("/throttled/resource", auth=(name, pw), headers=me)
    assert_json_error(r, 429, "too many failed logins")
    assert int(r.header("Retry-After")) > 0, r
    html = httpd.get("/throttled/resource", auth=(name, pw),
                     headers=dict(me, Accept="text/html"))
    assert_html(html, 429)
    assert html.header("Retry-After"), html


@pytest.mark.expect_log(r"AJ00[1-4]", r"AH00629", r"AH00633", r"unable to open")
def test_503_json(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    with StoreGone(httpd):
        r = httpd.get("/api/resource", auth=(name, pw + "-not-cached"),
                      headers=client(ACCEPT_JSON))
        assert_json_error(r, 503, "user store unavailable")
        assert_html(httpd.get("/api/resource", auth=(name, pw + "-not-cached"),
                              headers=client(ACCEPT_HTML)), 503)


@pytest.mark.parametrize("accept", [
    None,
    "text/html",
    "*/*",
    "application/json;q=0.9, text/html;q=0.1",
    "application/json;q=0",
])
def test_html_kept(httpd, accept):
    r = httpd.get("/api/resource", headers=client({"Accept": accept} if accept else None))
    assert_html(r, 401)
    assert challenges(r) == ['Bearer realm="itest"', 'Basic realm="itest"'], r


def test_json_with_parameters_and_head(httpd):
    r = httpd.get("/api/resource",
                  headers=client({"Accept": "application/json;q=0.9, */*;q=0.1"}))
    assert_json_error(r, 401, "authentication required")
    head = httpd.request("HEAD", "/api/resource", headers=client(ACCEPT_JSON))
    assert head.status == 401 and content_type(head) == JSON, head
    assert head.body == b""


def test_error_document_wins(httpd_factory):
    """An ErrorDocument the administrator set for the status is kept."""
    s = httpd_factory(config=pyhttpd.API_CONFIG + 'ErrorDocument 401 "see the docs"\n')
    s.start()
    r = s.get("/api/resource", headers=ACCEPT_JSON)
    assert r.status == 401 and r.body.strip() == b"see the docs", r
    assert content_type(r) == "text/html", r


def test_handlers_untouched(httpd):
    """The handlers answer in JSON whatever Accept says (their own bodies)."""
    r = httpd.post("/api/users", json_body={"username": "", "password": "secret-pw"},
                   headers=ACCEPT_HTML)
    assert r.status == 400 and content_type(r) == JSON, r


# ---- the login handler's challenge ------------------------------------------

@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_login_401_challenges(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    r = httpd.post("/auth/login", json_body={"username": name, "password": pw + "x"},
                   headers=client())
    assert r.status == 401, r
    assert r.json() == {"status": "fail", "message": "invalid username or password"}
    # no AuthName at /auth/login: the realm is the ServerName
    assert challenges(r) == ['Bearer realm="127.0.0.1"', 'Basic realm="127.0.0.1"'], r


# ---- an unknown key id --------------------------------------------------------

def metric(httpd, result):
    text = httpd.get("/metrics").text
    m = re.search(r'^mod_auth_jwt_requests_total\{result="%s"\} (\d+)$' % result, text, re.M)
    return int(m.group(1))


def test_unknown_kid(httpd):
    """A token whose kid names no configured key (the key has none here):
    "unknown key id", counted as invalid_token."""
    now = int(time.time())
    token = pyhttpd.sign_hs({"alg": "HS256", "typ": "JWT", "kid": "retired-2024"},
                            {"sub": "1", "iat": now, "exp": now + 60}, httpd.secret)
    before = metric(httpd, "invalid_token")
    r = httpd.get("/api/resource", bearer=token, headers=client())
    assert r.status == 401, r
    assert challenges(r)[0] == ('Bearer realm="itest", error="invalid_token", '
                                'error_description="unknown key id"'), r
    r = httpd.get("/api/resource", bearer=token, headers=client(ACCEPT_JSON))
    assert_json_error(r, 401, "unknown key id")
    assert metric(httpd, "invalid_token") == before + 2
    # the wrong algorithm for the configured key is still that
    token = pyhttpd.sign_hs({"alg": "HS384", "typ": "JWT"},
                            {"sub": "1", "iat": now, "exp": now + 60}, httpd.secret, alg="HS384")
    r = httpd.get("/api/resource", bearer=token, headers=client())
    assert 'error_description="algorithm not allowed"' in challenges(r)[0], r


# ---- store errors name the file and the user ----------------------------------

STORE_ERRORS = [r"AJ00[1-4]", r"AJ11\d", r"AH006(29|30|32|33|36)", r"unable to open"]


@pytest.fixture
def root_owned_store(env, httpd_factory, request):
    """A server whose database lies in a directory only root may enter, as
    when the data directory was made by root and never given to the
    server's user."""
    if not env.run_user:
        pytest.skip("needs root: the server's user must differ from the directory's owner")
    s = httpd_factory(config=pyhttpd.API_CONFIG)
    os.chown(s.data_dir, 0, 0)
    os.chmod(s.data_dir, 0o700)
    s.expect_log(*STORE_ERRORS)
    request.node.aj_server = s
    s.start()
    return s


def test_store_permission_names_file_and_user(root_owned_store):
    s = root_owned_store
    s.error_log.mark()
    r = s.get("/api/resource", auth=("someone", "secret-pw"), headers=ACCEPT_JSON)
    assert_json_error(r, 503, "user store unavailable")
    lines = [ln for ln in s.error_log.read_since_mark().splitlines()
             if re.search(r"AJ00[1-4]: store unavailable", ln)]
    assert lines, s.error_log.tail(20)
    for ln in lines:
        assert s.db_path in ln, ln
        assert f"user {s.env.run_user} (uid " in ln, ln
        assert "read and write access" in ln, ln


def test_store_error_names_connection_without_password(httpd_factory):
    """A store that is not a file: the line names the connection, never its password."""
    s = httpd_factory(config=pyhttpd.API_CONFIG + "DBDPersist Off\n", dbd_driver="pgsql",
                      dbd_params="host=127.0.0.1 port=1 dbname=nothere user=web "
                                 "password=s3cret-pw connect_timeout=1")
    s.expect_log(*STORE_ERRORS)
    s.start()
    r = s.get("/api/resource", auth=("someone", "secret-pw"))
    assert r.status == 503, r
    text = s.error_log.read_all()
    lines = [ln for ln in text.splitlines() if re.search(r"AJ00[1-4]: store unavailable", ln)]
    assert lines, s.error_log.tail(20)
    assert "pgsql connection 'host=127.0.0.1 port=1 dbname=nothere user=web" in lines[0]
    assert "s3cret-pw" not in "\n".join(lines)


def test_store_readonly_names_file_and_user(env, httpd_factory, request):
    """A database file that root took over: writes fail with SQLite's
    "readonly database", and the line names the file and the user."""
    if not env.run_user:
        pytest.skip("needs root: the server's user must differ from the file's owner")
    s = httpd_factory(config=pyhttpd.API_CONFIG + "DBDPersist Off\n")
    s.expect_log(*STORE_ERRORS)
    request.node.aj_server = s
    s.start()
    pyhttpd.register(s)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(s.db_path + suffix):
            os.chown(s.db_path + suffix, 0, 0)
            os.chmod(s.db_path + suffix, 0o644)
    s.error_log.mark()
    r = s.post("/api/users", json_body={"username": pyhttpd.unique_name(),
                                        "password": "secret-pw"})
    assert r.status == 503, r
    lines = [ln for ln in s.error_log.read_since_mark().splitlines()
             if re.search(r"AJ00[1-4]: store unavailable", ln)]
    assert lines, s.error_log.tail(20)
    assert s.db_path in lines[-1] and f"user {env.run_user} (uid " in lines[-1], lines
