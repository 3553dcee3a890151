"""The `jwt` authn provider behind stock AuthType Basic: passwords, the token
as the user name, chaining with mod_authn_file, AuthJWTPasswordLogin Off
(docs/reference.md §2)."""

import os
import subprocess

import pytest

import pyhttpd

BASIC_LOCS = {
    "/basic/jwt": "AuthBasicProvider jwt",
    "/basic/chain": 'AuthBasicProvider jwt file\n    AuthUserFile "@ROOT@/conf/htpasswd"',
    "/basic/file-first": 'AuthBasicProvider file jwt\n    AuthUserFile "@ROOT@/conf/htpasswd"',
    "/basic/nopw": "AuthBasicProvider jwt\n    AuthJWTPasswordLogin Off",
}

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + "".join(
    f'<Location {path}>\n    AuthType Basic\n    AuthName "basic"\n    {prov}\n'
    f'    Require valid-user\n</Location>\n'
    for path, prov in BASIC_LOCS.items()) + 'LuaMapHandler "^/basic/" "@CONF@/hello.lua"\n'

# mod_auth_basic logs refused credentials at [error] (AH01617 mismatch, AH01618
# not found); the jwt provider adds its audit line (AJ200) for a wrong
# password only: an unknown name may belong to the next provider.
BASIC_FAILURES = (r"\[auth_basic:error\].*AH0161[78]",)


@pytest.fixture
def user(httpd):
    return pyhttpd.register(httpd)


@pytest.fixture
def fileuser(httpd):
    path = os.path.join(httpd.root, "conf", "htpasswd")
    if not os.path.exists(path):
        subprocess.run(["htpasswd", "-bc", path, "fileuser", "file-secret"], check=True,
                       capture_output=True)
    return ("fileuser", "file-secret")


def hello(r, name):
    assert r.status == 200, r
    assert r.json() == {"data": f"Hello, {name}!"}


def test_password(httpd, user):
    hello(httpd.get("/basic/jwt", auth=(user[0], user[1])), user[0])


def test_token_as_username(httpd, user):
    token = pyhttpd.get_token(httpd, user[0], user[1])
    hello(httpd.get("/basic/jwt", auth=(token, "x")), user[0])


@pytest.mark.expect_log(*BASIC_FAILURES, pyhttpd.REFUSED_CHECK_LOG)
def test_refusals(httpd, user):
    r = httpd.get("/basic/jwt", auth=(user[0], "wrong-password"))
    assert r.status == 401, r
    assert r.header_all("WWW-Authenticate") == ['Basic realm="basic"']
    r = httpd.get("/basic/jwt", auth=(pyhttpd.unique_name("ghost"), "wrong-password"))
    assert r.status == 401, r
    r = httpd.get("/basic/jwt")
    assert r.status == 401, r
    assert r.header_all("WWW-Authenticate") == ['Basic realm="basic"']


@pytest.mark.expect_log(*BASIC_FAILURES)
def test_bad_token_as_username(httpd, user):
    token = pyhttpd.get_token(httpd, user[0], user[1])
    h, p, s = token.split(".")
    bad = h + "." + p + "." + ("A" if s[0] != "A" else "B") + s[1:]
    r = httpd.get("/basic/jwt", auth=(bad, "x"))
    assert r.status == 401, r


def test_chain_file_user(httpd, fileuser, user):
    hello(httpd.get("/basic/chain", auth=fileuser), "fileuser")
    hello(httpd.get("/basic/chain", auth=(user[0], user[1])), user[0])
    token = pyhttpd.get_token(httpd, user[0], user[1])
    hello(httpd.get("/basic/chain", auth=(token, "x")), user[0])
    hello(httpd.get("/basic/file-first", auth=fileuser), "fileuser")
    hello(httpd.get("/basic/file-first", auth=(user[0], user[1])), user[0])


@pytest.mark.expect_log(*BASIC_FAILURES, pyhttpd.REFUSED_CHECK_LOG)
def test_chain_refusals(httpd, fileuser, user):
    assert httpd.get("/basic/chain", auth=("fileuser", "wrong")).status == 401
    assert httpd.get("/basic/chain", auth=(user[0], "wrong")).status == 401
    # the htpasswd user is not a user of the jwt store
    assert httpd.get("/basic/jwt", auth=fileuser).status == 401


@pytest.mark.expect_log(*BASIC_FAILURES)
def test_password_login_off(httpd, user):
    r = httpd.get("/basic/nopw", auth=(user[0], user[1]))
    assert r.status == 401, r
    token = pyhttpd.get_token(httpd, user[0], user[1])
    hello(httpd.get("/basic/nopw", auth=(token, "x")), user[0])


def test_access_log_user_is_name(httpd, user):
    token = pyhttpd.get_token(httpd, user[0], user[1])
    hello(httpd.get("/basic/jwt?marker-basic-token", auth=(token, "x")), user[0])
    lines = httpd.access_log_lines("marker-basic-token")
    assert len(lines) == 1
    assert lines[0].split(" ")[1] == user[0]
    assert token not in httpd.read_access_log()
