"""AuthJWTClaimHeader and AuthJWTUserClaim (docs/reference.md §11).

The back end here is a small mod_lua script that echoes the request headers it
receives and r.user: a header the client sent under a name a section claims
must never reach it, authenticated or not, in any letter case and with '_'
for '-' (what a CGI would read as the same HTTP_* variable), also after an
internal redirect into the section."""

import json
import os
import time

import pytest

import pyhttpd

ECHO_LUA = r"""
-- echo_headers.lua: the request headers and r.user, as JSON
local function esc(s)
    return (s:gsub('[%c"\\]', function(c)
        return string.format('\\u%04x', string.byte(c))
    end))
end

function handle(r)
    local parts = {}
    for k, v in pairs(r:headers_in_table()) do
        parts[#parts + 1] = '["' .. esc(k) .. '","' .. esc(v) .. '"]'
    end
    r.content_type = "application/json"
    r:puts('{"user":"' .. esc(r.user or "") .. '","headers":[' .. table.concat(parts, ",") .. ']}\n')
    return apache2.OK
end
"""

ECHO = '"@CONF@/echo_headers.lua"'

HTTPD_CONFIG = (
    # authenticated: three claims as headers, the user from email
    pyhttpd.jwt_location(
        "/hdr",
        "AuthJWTClaimHeader email X-Email",
        "AuthJWTClaimHeader roles X-Roles",
        "AuthJWTClaimHeader level X-Level",
        "AuthJWTClaimHeader profile X-Profile",
        "AuthJWTClaimHeader note X_Note")
    + f'LuaMapHandler "^/hdr/echo$" {ECHO}\n'
    # a nested section naming its own header replaces the outer list
    + pyhttpd.location("/hdr/inner", "AuthJWTClaimHeader sub X-Sub")
    + f'LuaMapHandler "^/hdr/inner/echo$" {ECHO}\n'
    # no authentication at all: the client's copies still go
    + pyhttpd.location("/open", "AuthJWTClaimHeader email X-Email", "Require all granted")
    + f'LuaMapHandler "^/open/echo$" {ECHO}\n'
    # a section that does not name X-Email redirects internally into /open
    + pyhttpd.location("/redir", "Require all granted", "ErrorDocument 404 /open/echo")
    # the user claim
    + pyhttpd.jwt_location("/uc", "AuthJWTUserClaim email")
    + f'LuaMapHandler "^/uc/echo$" {ECHO}\n'
    + pyhttpd.jwt_location("/plain")
    + f'LuaMapHandler "^/plain/echo$" {ECHO}\n'
)


@pytest.fixture
def srv(httpd):
    """The server, with the echo script where LuaMapHandler reads it (at
    request time, so it can be written after the start)."""
    httpd.write_file(os.path.join(httpd.root, "conf", "echo_headers.lua"), ECHO_LUA)
    return httpd


def token(srv, header=None, **claims):
    payload = {"sub": "42", "name": "alice", "exp": int(time.time()) + 60}
    payload.update(claims)
    return pyhttpd.sign_hs(header or {"alg": "HS256", "typ": "JWT"}, payload, srv.secret)


def echo(r):
    assert r.status == 200, r
    body = r.json()
    return body["user"], {k.lower(): v for k, v in body["headers"]}


def _names_seen(headers):
    return {k.replace("_", "-") for k in headers}


SPELLINGS = ["X-Email", "x-email", "X-EMAIL", "X_Email", "x_email", "X_EMAIL", "x-Email"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_client_header_never_reaches_unauthenticated_backend(srv, spelling):
    """No authentication in /open, and still no client X-Email in any spelling."""
    r = srv.get("/open/echo", headers=[(spelling, "root@evil.example"), ("X-Other", "kept")])
    _, hdrs = echo(r)
    assert "x-email" not in _names_seen(hdrs), hdrs
    assert hdrs.get("x-other") == "kept", hdrs  # the echo does show other headers


def test_all_spellings_at_once_removed(srv):
    r = srv.get("/open/echo", headers=[(s, "forged") for s in SPELLINGS])
    _, hdrs = echo(r)
    assert not any(v == "forged" for v in hdrs.values()), hdrs


@pytest.mark.parametrize("spelling", ["X-Email", "x_email"])
def test_client_header_removed_on_refused_request(srv, spelling):
    """401 without a credential, 401 with a bad token: the back end never runs,
    and with a good token the header is the claim, never the client's."""
    assert srv.get("/hdr/echo", headers=[(spelling, "forged")]).status == 401
    r = srv.get("/hdr/echo", bearer=token(srv, email="a@example.com"),
                headers=[(spelling, "forged")])
    _, hdrs = echo(r)
    assert hdrs["x-email"] == "a@example.com", hdrs
    assert "forged" not in hdrs.values(), hdrs


def test_client_header_removed_after_internal_redirect(srv):
    """/redir does not name X-Email; its 404 page is /open/echo, which does."""
    r = srv.get("/redir/missing", headers=[("X_Email", "forged"), ("X-Email", "forged")])
    assert r.status == 404, r
    body = json.loads(r.body)
    assert not any(v == "forged" for _, v in body["headers"]), body


def test_claims_set_as_headers(srv):
    t = token(srv, email="a@example.com", roles=["admin", "ops", 3, True], level=7,
              profile={"x": 1}, note="plain note")
    user, hdrs = echo(srv.get("/hdr/echo", bearer=t))
    assert user == "alice"
    assert hdrs["x-email"] == "a@example.com"
    assert hdrs["x-roles"] == "admin ops 3 true"  # arrays joined by spaces
    assert hdrs["x-level"] == "7"
    assert "x-profile" not in hdrs  # objects are not set
    assert hdrs["x_note"] == "plain note"  # the configured spelling


def test_absent_claim_not_set(srv):
    _, hdrs = echo(srv.get("/hdr/echo", bearer=token(srv),
                           headers=[("X-Email", "forged")]))
    assert "x-email" not in _names_seen(hdrs), hdrs


@pytest.mark.parametrize("value", ["a\nb", "a\r\nX-Admin: 1", "a\tb", "a\x7fb", "a\x1fb"],
                         ids=["lf", "crlf", "tab", "del", "us"])
def test_claim_with_control_characters_not_set(srv, value):
    srv.expect_log(r"AJ260")
    r = srv.get("/hdr/echo", bearer=token(srv, email=value, roles=["ok", value]),
                headers=[("X-Email", "forged")])
    _, hdrs = echo(r)
    assert "x-email" not in hdrs and "x-roles" not in hdrs, hdrs
    assert "x-admin" not in hdrs
    assert "AJ260" in srv.error_log.read_all()


def test_inner_section_replaces_the_list(srv):
    t = token(srv, email="a@example.com")
    _, hdrs = echo(srv.get("/hdr/inner/echo", bearer=t, headers=[("X_Sub", "forged")]))
    assert hdrs["x-sub"] == "42"
    assert "x-email" not in hdrs  # the outer list no longer applies
    assert "forged" not in hdrs.values()


# ---- AuthJWTUserClaim ---------------------------------------------------------

def test_user_claim_configured(srv):
    user, _ = echo(srv.get("/uc/echo", bearer=token(srv, email="a@example.com")))
    assert user == "a@example.com"


@pytest.mark.parametrize("email", [None, "", 7, ["a@example.com"], "a\nb", "a\x7f"],
                         ids=["absent", "empty", "number", "array", "lf", "del"])
def test_user_claim_unusable_is_401(srv, email):
    claims = {} if email is None else {"email": email}
    r = srv.get("/uc/echo", bearer=token(srv, **claims))
    assert r.status == 401, r
    chal = r.header("WWW-Authenticate")
    assert 'error="invalid_token"' in chal and 'error_description="token names no user"' in chal


@pytest.mark.parametrize("claims,want", [
    ({"name": "alice", "sub": "42"}, "alice"),
    ({"sub": "42"}, "42"),
    ({"name": "", "sub": "42"}, "42"),
    ({"name": 5, "sub": "42"}, "42"),
], ids=["name", "sub", "empty-name", "number-name"])
def test_user_default_name_else_sub(srv, claims, want):
    payload = {"exp": int(time.time()) + 60}
    payload.update(claims)
    t = pyhttpd.sign_hs({"alg": "HS256"}, payload, srv.secret)
    user, _ = echo(srv.get("/plain/echo", bearer=t))
    assert user == want


@pytest.mark.parametrize("claims", [{}, {"name": "", "sub": ""}, {"name": "al\nice"},
                                    {"sub": "4\r2"}], ids=["none", "empty", "lf-name", "cr-sub"])
def test_user_default_unusable_is_401(srv, claims):
    payload = {"exp": int(time.time()) + 60}
    payload.update(claims)
    r = srv.get("/plain/echo", bearer=pyhttpd.sign_hs({"alg": "HS256"}, payload, srv.secret))
    assert r.status == 401, r
