"""AuthJWTResourceMetadata and the auth-jwt-resource-metadata handler
(docs/reference.md §11, RFC 9728): every Bearer challenge of a section that
sets it names the metadata (resource_metadata="URL"), and the handler serves
the section's document: the resource (the URL without its well-known part),
the local issuer as authorization server, bearer_methods_supported."""

import os
import time

import pytest

import pyhttpd
from pyhttpd import b64url, sign_hs

WK = "/.well-known/oauth-protected-resource"
META = "https://api.example" + WK
META_V1 = "https://api.example" + WK + "/v1"
ISSUER = "https://issuer.example"
HEADER_ONLY = ["header"]


def meta_location(path, *directives):
    return pyhttpd.location(path, "SetHandler auth-jwt-resource-metadata", *directives)


def api_location(path, *directives):
    return pyhttpd.location(path, "AuthType JWT", f'AuthName "{pyhttpd.REALM}"', *directives)


HTTPD_CONFIG = (
    pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT
    # the RFC's own form, with the issuer
    + meta_location(WK, f"AuthJWTResourceMetadata {META}", f"AuthJWTIssuer {ISSUER}")
    # a resource with a path; no issuer: no authorization_servers
    + meta_location("/meta/v1", f"AuthJWTResourceMetadata {META_V1}")
    # the document under the resource's own path
    + meta_location("/meta/suffix", f"AuthJWTResourceMetadata http://127.0.0.1:8080/v2{WK}")
    # neither form: the URL is the resource
    + meta_location("/meta/plain", "AuthJWTResourceMetadata https://api.example/meta.json")
    + meta_location("/meta/none")
    # inherited from the enclosing <Location>; the inner one changes the issuer
    + pyhttpd.location("/meta/outer", f"AuthJWTResourceMetadata {META_V1}",
                       f"AuthJWTIssuer {ISSUER}")
    + meta_location("/meta/outer/inner")
    + meta_location("/meta/outer/other", "AuthJWTIssuer https://other.example")
    # challenges
    + api_location("/rm/api", f"AuthJWTResourceMetadata {META}", "Require valid-user")
    + api_location("/rm/api/scope", "Require jwt-scope admin")
    + api_location("/rm/api/fresh", "Require jwt-fresh 300")
    + api_location("/rm/api/401", "Require jwt-scope admin", "AuthzSendForbiddenOnFailure Off")
    + api_location("/rm/plain", "Require valid-user")
    + pyhttpd.lua_hello("^/rm/")
)

# mod_authz_core's line for every refused Require
HTTPD_EXPECTED_LOG = [r"AH01631"]

RM = f'resource_metadata="{META}"'


@pytest.fixture
def user(httpd):
    return pyhttpd.register(httpd, pyhttpd.unique_name("rm-"))


def mint(httpd, user, scope="read", auth_time_ago=0):
    name, _, uid = user
    t = int(time.time())
    c = {"sub": str(uid), "name": name, "iat": t, "nbf": t, "exp": t + 300,
         "jti": b64url(os.urandom(16)), "auth_time": t - auth_time_ago, "scope": scope}
    return sign_hs({"alg": "HS256", "typ": "JWT"}, c, httpd.secret)


def bearer_challenges(r):
    return [c for c in r.header_all("WWW-Authenticate") if c.startswith("Bearer")]


# ---- the document --------------------------------------------------------

@pytest.mark.parametrize("path,doc", [
    (WK, {"resource": "https://api.example", "authorization_servers": [ISSUER],
          "bearer_methods_supported": HEADER_ONLY}),
    ("/meta/v1", {"resource": "https://api.example/v1",
                  "bearer_methods_supported": HEADER_ONLY}),
    ("/meta/suffix", {"resource": "http://127.0.0.1:8080/v2",
                      "bearer_methods_supported": HEADER_ONLY}),
    ("/meta/plain", {"resource": "https://api.example/meta.json",
                     "bearer_methods_supported": HEADER_ONLY}),
    ("/meta/outer/inner", {"resource": "https://api.example/v1", "authorization_servers": [ISSUER],
                           "bearer_methods_supported": HEADER_ONLY}),
    ("/meta/outer/other", {"resource": "https://api.example/v1",
                           "authorization_servers": ["https://other.example"],
                           "bearer_methods_supported": HEADER_ONLY}),
], ids=["well-known", "path", "suffix", "plain", "inherited", "inner-issuer"])
def test_document(httpd, path, doc):
    r = httpd.get(path)
    assert r.status == 200, r
    assert r.header("Content-Type") == "application/json", r
    assert r.header("Cache-Control") == "max-age=300", r
    assert r.json() == doc
    assert "scopes_supported" not in r.json()


def test_head(httpd):
    get = httpd.get(WK)
    r = httpd.request("HEAD", WK)
    assert r.status == 200, r
    assert r.body == b""
    assert r.header("Content-Length") == get.header("Content-Length"), (r, get)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_other_methods_405(httpd, method):
    r = httpd.request(method, WK)
    assert r.status == 405, r
    assert r.header("Allow") == "GET, HEAD", r


def test_without_directive_404(httpd):
    r = httpd.get("/meta/none")
    assert r.status == 404, r
    assert r.header("Content-Type") == "application/json", r
    assert "AuthJWTResourceMetadata" in r.json()["error"]


# ---- the challenges ------------------------------------------------------

def test_no_credentials_401(httpd):
    r = httpd.get("/rm/api")
    assert r.status == 401, r
    assert sorted(r.header_all("WWW-Authenticate")) == sorted(
        [f'Bearer realm="{pyhttpd.REALM}", {RM}', f'Basic realm="{pyhttpd.REALM}"']), r


def test_inherited_by_inner_location(httpd):
    r = httpd.get("/rm/api/scope")
    assert r.status == 401, r
    assert bearer_challenges(r) == [f'Bearer realm="{pyhttpd.REALM}", {RM}'], r


def test_invalid_token_401(httpd, user):
    token = mint(httpd, user)
    r = httpd.get("/rm/api", bearer=token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    assert r.status == 401, r
    (challenge,) = bearer_challenges(r)
    assert challenge.startswith(f'Bearer realm="{pyhttpd.REALM}", error="invalid_token", '), r
    assert challenge.endswith(f", {RM}"), r


def test_insufficient_scope_403_and_401(httpd, user):
    scope = f'Bearer realm="{pyhttpd.REALM}", error="insufficient_scope", scope="admin", {RM}'
    r = httpd.get("/rm/api/scope", bearer=mint(httpd, user))
    assert r.status == 403, r
    assert bearer_challenges(r) == [scope], r
    r = httpd.get("/rm/api/401", bearer=mint(httpd, user))
    assert r.status == 401, r
    assert bearer_challenges(r) == [scope], r
    assert httpd.get("/rm/api/scope", bearer=mint(httpd, user, "admin")).status == 200


def test_step_up_names_it_too(httpd, user):
    r = httpd.get("/rm/api/fresh", bearer=mint(httpd, user, auth_time_ago=400))
    assert r.status == 403, r
    (challenge,) = bearer_challenges(r)
    assert 'error="insufficient_user_authentication"' in challenge, r
    assert challenge.endswith(f'max_age="300", {RM}'), r


def test_granted_has_no_challenge(httpd, user):
    r = httpd.get("/rm/api", bearer=mint(httpd, user))
    assert r.status == 200, r
    assert r.header_all("WWW-Authenticate") == [], r


def test_section_without_directive(httpd):
    r = httpd.get("/rm/plain")
    assert r.status == 401, r
    assert sorted(r.header_all("WWW-Authenticate")) == pyhttpd.BOTH_CHALLENGES, r
