"""Per-directory configuration merges the usual way: an inner <Location> that
does not set a directive inherits the outer value, one that sets it overrides
(docs/reference.md §3; STYLE.md asks for this test)."""

import pytest

import pyhttpd
from pyhttpd import token_claims

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + r"""
<Location /m>
    AuthType JWT
    AuthName "merge"
    Require valid-user
    SetHandler auth-jwt-token
    AuthJWTTokenLifetime 100
</Location>
<Location /m/inherit>
    AuthJWTLeeway 5
</Location>
<Location /m/override>
    AuthJWTTokenLifetime 200
</Location>
<Location /m/override/deeper>
    AuthJWTLeeway 7
</Location>
<Location /m/login>
    SetHandler auth-jwt-login
    Require all granted
</Location>
<Location /renew>
    AuthType JWT
    AuthName "merge"
    Require valid-user
    SetHandler auth-jwt-token
    AuthJWTRenewWithToken Off
</Location>
<Location /renew/again>
    AuthJWTRenewWithToken On
</Location>
<Location /renew/inherit>
    AuthJWTTokenLifetime 300
</Location>
"""


@pytest.fixture
def user(httpd):
    return pyhttpd.register(httpd)


def lifetime(httpd, path, user):
    r = httpd.get(path, auth=(user[0], user[1]))
    assert r.status == 200, r
    body = r.json()
    c = token_claims(body["token"])
    assert body["duration"] == body["expires_in"] == c["exp"] - c["iat"]
    return body["duration"]


@pytest.mark.parametrize("path,expected", [
    ("/api/token", 600),            # server default
    ("/m", 100),                    # outer sets it
    ("/m/inherit", 100),            # inner sets something else: inherits
    ("/m/override", 200),           # inner sets it
    ("/m/override/deeper", 200),    # deeper inherits the override
    ("/m/somewhere/else", 100),     # no inner section at all
])
def test_lifetime_merge(httpd, user, path, expected):
    assert lifetime(httpd, path, user) == expected


def test_login_handler_inherits_lifetime(httpd, user):
    r = httpd.post("/m/login", json_body={"username": user[0], "password": user[1]})
    assert r.status == 200, r
    assert r.json()["expires_in"] == 100


def test_flag_merge(httpd, user):
    token = pyhttpd.get_token(httpd, user[0], user[1])
    r = httpd.get("/renew", bearer=token)
    assert r.status in (401, 403), r
    r = httpd.get("/renew/inherit", bearer=token)
    assert r.status in (401, 403), r
    r = httpd.get("/renew/again", bearer=token)
    assert r.status == 200, r
    # Off is not reset by an inner section that only changes the lifetime
    assert lifetime(httpd, "/renew/inherit", user) == 300
