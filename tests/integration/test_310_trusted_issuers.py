"""Trusted issuers against a fake JWK Set server (docs/reference.md §11):
the discovery, URL and file: forms, the key-selection rule (a trusted
issuer's keys verify only its tokens, local keys only local ones, any other
issuer is "unknown issuer"), the configtest refusals, and the fetch
behaviour the real provider of test_320 cannot show: failed fetches of
every kind (503 before the first good one), unusable JWKs skipped, a
withdrawn kid, the unknown-kid refetch limit, stale keys within
AuthJWTKeyMaxStale and the failure-log limit; and the key sets a graceful
or full restart keeps while the issuer's server is down.

Two servers live for the whole module: `main` (stateless checks) and
`timed` (whose issuers' documents change over scripted fetches; its tests
run in file order because the 60 s refetch floor is shared by all of them:
about two minutes in all).  The restart test starts a server of its own.
"""

import json
import os
import re
import time

import pytest

import jwksfake
import pyhttpd
from jwksfake import assert_503, assert_ok, claims, failure_lines, log_lines, poll

# The module's trusted-issuer lines (AJ08x): these tests cause them on purpose.
HTTPD_EXPECTED_LOG = [jwksfake.ISSUER_LOG]

# The first background fetch runs within ~1-2 s of the start; slack for a busy machine.
FIRST_FETCH_TIMEOUT = 15.0
# Fetched sets are never refetched more often than this (docs/reference.md §11).
REFETCH_FLOOR = 60
MAX_STALE = 8
FETCH_TIMEOUT = 2
HANG_DELAY = 20                   # far beyond FETCH_TIMEOUT: only a timeout ends the fetch
RETRY = 10                        # a failed fetch is retried this often (seconds)

LOCAL_ISS = "https://local.example"
ISS_U = "https://issuer-u.example"
ISS_F = "https://issuer-f.example"
ISS_H = "https://issuer-h.example"     # a file of HMAC secrets (the module keeps them
                                       # apart from public keys: a set of one kind)
OCT_SECRET = b"0123456789abcdef0123456789abcdef"     # 32 bytes: HS256's minimum


def hello(paths):
    return pyhttpd.lua_hello("^/(%s)$" % "|".join(p.strip("/") for p in paths))


# ---- helpers -------------------------------------------------------------------

def bearer_challenge(r):
    return [c for c in r.header_all("WWW-Authenticate") if c.startswith("Bearer")]


def assert_invalid_token(r, description=None):
    assert r.status == 401, r
    ch = bearer_challenge(r)
    assert ch and 'error="invalid_token"' in ch[0], r
    if description is not None:
        assert f'error_description="{description}"' in ch[0], r


# ---- the fake server and the module's servers ------------------------------------

@pytest.fixture(scope="module")
def fake():
    f = jwksfake.FakeServer()
    yield f
    f.close()


def _start_module_server(env, extra_servers, name, config, files):
    if not env.module_built():
        pytest.fail(f"{env.module_path} is not built: run `make` first", pytrace=False)
    s = pyhttpd.Httpd(env, name, config=config)
    s.expected_log = list(HTTPD_EXPECTED_LOG)
    for fname, data in files.items():
        s.write_file(os.path.join(s.root, "conf", fname), data)
    extra_servers.append(s)
    try:
        s.start()
    except pyhttpd.HttpdError as e:
        pytest.fail(f"test server did not start:\n{e}", pytrace=False)
    return s


def test_fake_server_scripts_and_counts(fake):
    """The harness itself: a scripted path changes at its second request,
    hits are counted per path, a delay is a delay."""
    import urllib.error
    import urllib.request
    k = jwksfake.ec_key("k")
    fake.script("/self/a", [jwksfake.jwks_route([k], max_age=60), jwksfake.Route(status=500)])
    with urllib.request.urlopen(fake.url("/self/a"), timeout=5) as r:
        assert r.headers["Cache-Control"] == "max-age=60"
        assert json.loads(r.read()) == {"keys": [k.jwk()]}
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(fake.url("/self/a"), timeout=5)
    assert e.value.code == 500
    assert fake.count("/self/a") == 2 and fake.count("/self/b") == 0
    fake.set("/self/slow", delay=3)
    t0 = time.monotonic()
    with pytest.raises(OSError):
        urllib.request.urlopen(fake.url("/self/slow"), timeout=1)
    assert 0.9 < time.monotonic() - t0 < 2.5


# ---- main: the forms and the key-selection rule ------------------------------------

class Keys:
    pass


K = Keys()


@pytest.fixture(scope="module")
def main_server(env, extra_servers, fake):
    K.d_rsa, K.d_ec = jwksfake.rsa_key("d-rsa"), jwksfake.ec_key("d-ec")
    K.d2 = jwksfake.ed_key("d2-ed")
    K.u_ec, K.u_ed = jwksfake.ec_key("u-ec"), jwksfake.ed_key("u-ed")
    K.f_rsa = jwksfake.rsa_key("f-rsa")
    K.local = jwksfake.ec_key("local-ec")
    K.iss_d, K.iss_d2 = fake.url("/d"), fake.url("/d2/")
    fake.set_discovery(K.iss_d, "/d/jwks")
    fake.set_jwks("/d/jwks", [K.d_rsa, K.d_ec])
    # the issuer ends in '/': discovery drops it, the document names it as it is
    fake.set_discovery(K.iss_d2, "/d2/jwks", path="/d2/.well-known/openid-configuration")
    fake.set_jwks("/d2/jwks", [K.d2])
    fake.set_jwks("/u/jwks", [K.u_ec, K.u_ed])
    trusted = [f"AuthJWTTrustedIssuer {K.iss_d} discovery",
               f"AuthJWTTrustedIssuer {K.iss_d2} discovery",
               f"AuthJWTTrustedIssuer {ISS_U} {fake.url('/u/jwks')}",
               f'AuthJWTTrustedIssuer {ISS_F} "file:@CONF@/issuer-f.jwks"',
               f'AuthJWTTrustedIssuer {ISS_H} "file:@CONF@/issuer-h.jwks"']
    # a section naming keys has exactly those: the server's HS256 secret again
    local_keys = ['AuthJWTVerifyKey HS256 "file:@SECRET@"',
                  'AuthJWTVerifyKey ES256 "file:@CONF@/local.pub" kid=local-ec']
    config = (pyhttpd.jwt_location("/t", *trusted, *local_keys)
              + pyhttpd.jwt_location("/ti", *trusted, *local_keys, f"AuthJWTIssuer {LOCAL_ISS}")
              + pyhttpd.jwt_location("/aud", trusted[0], "AuthJWTAudience api://orders")
              + pyhttpd.jwt_location("/plain", *local_keys)
              + hello(["/t", "/ti", "/aud", "/plain"]))
    files = {"issuer-f.jwks": jwksfake.json_route(jwksfake.jwk_set(K.f_rsa)).body,
             "issuer-h.jwks": jwksfake.json_route(jwksfake.jwk_set(
                 jwksfake.oct_jwk(OCT_SECRET, "h-hmac"))).body,
             "local.pub": K.local.pem_public()}
    s = _start_module_server(env, extra_servers, "310-main", config, files)
    for kp, iss in ((K.d_rsa, K.iss_d), (K.d2, K.iss_d2), (K.u_ec, ISS_U)):
        r = poll(lambda: s.get("/t", bearer=kp.sign(claims(iss))), lambda r: r.status != 503,
                 timeout=FIRST_FETCH_TIMEOUT)
        assert r.status == 200, (iss, r, s.error_log.tail(20))
    yield s
    pyhttpd.stop_and_check(s, pyhttpd.SHUTDOWN_PROBLEMS)


@pytest.fixture
def main(main_server, check_logs):
    check_logs(main_server, expected=main_server.expected_log)
    return main_server


def test_discovery_tokens_accepted(main, fake):
    assert fake.count("/d/.well-known/openid-configuration") >= 1
    assert fake.count("/d/jwks") >= 1
    assert_ok(main.get("/t", bearer=K.d_rsa.sign(claims(K.iss_d))))
    assert_ok(main.get("/t", bearer=K.d_ec.sign(claims(K.iss_d))))
    # no kid: tried against every key of its alg in the issuer's set
    assert_ok(main.get("/t", bearer=K.d_ec.sign(claims(K.iss_d), kid=False)))
    # at+jwt (RFC 9068) as a real provider sends it
    assert_ok(main.get("/t", bearer=K.d_rsa.sign(claims(K.iss_d), headers={"typ": "at+jwt"})))
    # the issuer whose name ends in '/'
    assert_ok(main.get("/t", bearer=K.d2.sign(claims(K.iss_d2))))
    # a key of the issuer, a token not signed by it
    forged = jwksfake.rsa_key("d-rsa").sign(claims(K.iss_d))
    assert_invalid_token(main.get("/t", bearer=forged))


def test_url_form_tokens_accepted(main):
    assert_ok(main.get("/t", bearer=K.u_ec.sign(claims(ISS_U))))
    assert_ok(main.get("/t", bearer=K.u_ed.sign(claims(ISS_U))))


def test_file_sets_and_oct(main):
    assert_ok(main.get("/t", bearer=K.f_rsa.sign(claims(ISS_F))))
    hs = pyhttpd.sign_hs({"alg": "HS256", "typ": "JWT", "kid": "h-hmac"}, claims(ISS_H),
                         OCT_SECRET)
    assert_ok(main.get("/t", bearer=hs))
    # the file's secret verifies its issuer's tokens only
    hs_f = pyhttpd.sign_hs({"alg": "HS256", "typ": "JWT", "kid": "h-hmac"}, claims(ISS_F),
                           OCT_SECRET)
    assert_invalid_token(main.get("/t", bearer=hs_f))
    # the local HS256 secret is not the file's oct key
    for iss in (ISS_F, ISS_H):
        local = pyhttpd.sign_hs({"alg": "HS256", "typ": "JWT"}, claims(iss), main.secret)
        assert_invalid_token(main.get("/t", bearer=local))


@pytest.mark.parametrize("iss", ["https://other.example", "D/", "https://issuer-u.example/",
                                 "https://ISSUER-U.example"])
def test_other_issuer_is_unknown(main, iss):
    """Only exactly a trusted ISSUER is one ("D/": D's with a '/' added)."""
    iss = K.iss_d + "/" if iss == "D/" else iss
    for kp in (K.d_rsa, K.u_ec):
        assert_invalid_token(main.get("/t", bearer=kp.sign(claims(iss))), "unknown issuer")
    # a local key does not make it a local token either
    hs = pyhttpd.sign_hs({"alg": "HS256", "typ": "JWT"}, claims(iss), main.secret)
    assert_invalid_token(main.get("/t", bearer=hs), "unknown issuer")


def test_local_tokens_still_accepted(main):
    """Local keys verify local tokens: no iss while AuthJWTIssuer is unset,
    iss equal to AuthJWTIssuer when it is set."""
    hs = pyhttpd.sign_hs({"alg": "HS256", "typ": "JWT"}, claims(None), main.secret)
    assert_ok(main.get("/t", bearer=hs))
    assert_ok(main.get("/t", bearer=K.local.sign(claims(None))))
    hs_iss = pyhttpd.sign_hs({"alg": "HS256", "typ": "JWT"}, claims(LOCAL_ISS), main.secret)
    assert_ok(main.get("/ti", bearer=hs_iss))
    assert_ok(main.get("/ti", bearer=K.local.sign(claims(LOCAL_ISS))))
    assert main.get("/ti", bearer=hs).status == 401
    # /t has no AuthJWTIssuer: a local token naming one is of an unknown issuer
    assert_invalid_token(main.get("/t", bearer=hs_iss), "unknown issuer")


def test_local_key_never_verifies_trusted_issuer(main):
    """A token naming a trusted issuer, signed with a local key: refused,
    with or without the local key's kid."""
    for iss in (K.iss_d, ISS_U, ISS_F, ISS_H):
        hs = pyhttpd.sign_hs({"alg": "HS256", "typ": "JWT"}, claims(iss), main.secret)
        assert_invalid_token(main.get("/t", bearer=hs))
        assert_invalid_token(main.get("/ti", bearer=hs))
        for kid in (True, False):
            assert_invalid_token(main.get("/t", bearer=K.local.sign(claims(iss), kid=kid)))


def test_trusted_key_never_verifies_local_token(main):
    for kid in (True, False):
        assert_invalid_token(main.get("/t", bearer=K.d_rsa.sign(claims(None), kid=kid)))
        assert_invalid_token(main.get("/t", bearer=K.u_ec.sign(claims(None), kid=kid)))
        assert_invalid_token(main.get("/ti", bearer=K.d_rsa.sign(claims(LOCAL_ISS), kid=kid)))
        assert_invalid_token(main.get("/ti", bearer=K.u_ed.sign(claims(LOCAL_ISS), kid=kid)))
    # the file's oct key is the trusted issuer's, not a local secret
    hs = pyhttpd.sign_hs({"alg": "HS256", "typ": "JWT", "kid": "h-hmac"}, claims(None),
                         OCT_SECRET)
    assert_invalid_token(main.get("/t", bearer=hs))


def test_section_without_trusted_issuers_unchanged(main):
    # no AuthJWTIssuer: iss is not checked, the local key verifies
    hs = pyhttpd.sign_hs({"alg": "HS256", "typ": "JWT"}, claims(K.iss_d), main.secret)
    assert_ok(main.get("/plain", bearer=hs))
    assert_ok(main.get("/plain", bearer=K.local.sign(claims("https://any.example"))))
    # a trusted issuer of another section is nothing here
    assert main.get("/plain", bearer=K.d_rsa.sign(claims(K.iss_d))).status == 401


def test_audience_applies_to_trusted_tokens(main):
    assert_invalid_token(main.get("/aud", bearer=K.d_rsa.sign(claims(K.iss_d))))
    assert_invalid_token(main.get("/aud", bearer=K.d_rsa.sign(claims(K.iss_d, aud="api://x"))))
    assert_ok(main.get("/aud", bearer=K.d_rsa.sign(claims(K.iss_d, aud="api://orders"))))
    assert_ok(main.get("/aud", bearer=K.d_rsa.sign(claims(K.iss_d, aud=["x", "api://orders"]))))
    # the section names only D: U is unknown there
    assert_invalid_token(main.get("/aud", bearer=K.u_ec.sign(claims(ISS_U, aud="api://orders"))),
                         "unknown issuer")


# ---- configtest ---------------------------------------------------------------------

def _configtest(httpd_factory, directives, files=None, server_level=""):
    s = httpd_factory()
    for fname, data in (files or {}).items():
        s.write_file(os.path.join(s.root, "conf", fname), data)
    return s.configtest(config=server_level + pyhttpd.jwt_location("/t", *directives))


BAD_FILES = {
    "missing": None,
    "invalid-json": b'{"keys": [',
    "not-a-set": b'{"kty": "EC"}',
    "no-usable-key": jwksfake.json_route(jwksfake.jwk_set(
        jwksfake.rsa_key("small", bits=1024))).body,
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_configtest_refuses_bad_file(httpd_factory, case):
    fname = f"bad-{case}.jwks"
    files = {} if BAD_FILES[case] is None else {fname: BAD_FILES[case]}
    rc, out = _configtest(httpd_factory,
                          [f'AuthJWTTrustedIssuer {ISS_F} "file:@CONF@/{fname}"'], files)
    assert rc != 0, out
    assert fname in out, out


def test_configtest_refuses_directory_as_file(httpd_factory):
    rc, out = _configtest(httpd_factory, [f'AuthJWTTrustedIssuer {ISS_F} "file:@CONF@"'])
    assert rc != 0 and "AuthJWTTrustedIssuer" in out, out


@pytest.mark.parametrize("directive", [
    "AuthJWTTrustedIssuer https://a.example http://example.com/jwks",
    "AuthJWTTrustedIssuer https://a.example http://10.0.0.1/jwks",
    "AuthJWTTrustedIssuer https://a.example http://127.0.0.1.nip.io/jwks",
    "AuthJWTTrustedIssuer https://a.example http://[::2]/jwks",
    "AuthJWTTrustedIssuer http://example.com discovery",
    "AuthJWTTrustedIssuer https://a.example ftp://127.0.0.1/jwks",
    "AuthJWTTrustedIssuer https://a.example https://",
    "AuthJWTTrustedIssuer https://a.example https://user:pw@idp.example/jwks",
    "AuthJWTTrustedIssuer https://a.example jwks.json",
    'AuthJWTTrustedIssuer https://a.example "https://idp.example/a b"',
    "AuthJWTTrustedIssuer https://a.example",
])
def test_configtest_refuses_bad_url(httpd_factory, directive):
    rc, out = _configtest(httpd_factory, [directive])
    assert rc != 0, out
    assert "AuthJWTTrustedIssuer" in out, out


@pytest.mark.parametrize("server_level,directive", [
    ("", "AuthJWTKeyRefresh 600"),               # server config / virtual host only
    ("", "AuthJWTFetchTimeout 5"),
    ("AuthJWTKeyMaxStale soon\n", None),
    ("AuthJWTFetchTimeout -1\n", None),
])
def test_configtest_refuses_bad_fetch_settings(httpd_factory, server_level, directive):
    name = (directive or server_level).split()[0]
    directives = ["AuthJWTTrustedIssuer https://a.example discovery"]
    if directive:
        directives.append(directive)
    rc, out = _configtest(httpd_factory, directives, server_level=server_level)
    assert rc != 0, out
    assert name in out, out


def test_configtest_refuses_missing_fetch_ca(httpd_factory):
    """A CA file that is not there would fail every fetch at run time: an
    operator's mistake that configtest, which checks every other file,
    should name (docs/reference.md §11 does not say so explicitly)."""
    rc, out = _configtest(httpd_factory, ["AuthJWTTrustedIssuer https://a.example discovery"],
                          server_level='AuthJWTFetchCA "@CONF@/no-such-ca.pem"\n')
    assert rc != 0, out
    assert "AuthJWTFetchCA" in out and "no-such-ca.pem" in out, out


def test_configtest_accepts_forms_without_network(httpd_factory, fake):
    """Every accepted form, and configtest fetches nothing."""
    fake.set_discovery(fake.url("/ct"), "/ct/jwks")
    fake.set_jwks("/ct/jwks", [jwksfake.ec_key("ct")])
    key = jwksfake.ec_key("file-ok")
    directives = [f"AuthJWTTrustedIssuer {fake.url('/ct')} discovery",
                  f"AuthJWTTrustedIssuer https://b.example {fake.url('/ct/jwks')}",
                  "AuthJWTTrustedIssuer https://c.example http://localhost:1/jwks",
                  "AuthJWTTrustedIssuer https://d.example http://[::1]:1/jwks",
                  "AuthJWTTrustedIssuer https://e.example http://127.8.9.10/jwks",
                  "AuthJWTTrustedIssuer https://idp.invalid discovery",
                  'AuthJWTTrustedIssuer https://f.example "file:@CONF@/ok.jwks"']
    server_level = ("AuthJWTKeyRefresh 10m\nAuthJWTKeyMaxStale 14d\nAuthJWTFetchTimeout 5\n"
                    'AuthJWTFetchCA "/etc/ssl/certs/ca-certificates.crt"\n')
    rc, out = _configtest(httpd_factory, directives, {"ok.jwks": jwksfake.json_route(
        jwksfake.jwk_set(key)).body}, server_level)
    assert rc == 0, out
    assert fake.count("/ct/.well-known/openid-configuration") == 0
    assert fake.count("/ct/jwks") == 0


# ---- timed: failed fetches, staleness, rotation, refetch limits ------------------------

def _unusable(kind):
    """(JWK, KeyPair that signs tokens with its kid) of a key §11 refuses."""
    if kind == "oct":
        return jwksfake.oct_jwk(OCT_SECRET, f"x-{kind}"), None
    if kind == "rsa1024":
        kp = jwksfake.rsa_key(f"x-{kind}", bits=1024)
        return kp.jwk(), kp
    if kind == "e1":
        kp = jwksfake.rsa_key(f"x-{kind}")
        return kp.jwk(e="AQ"), kp
    if kind == "enc":
        kp = jwksfake.ec_key(f"x-{kind}")
        return kp.jwk(use="enc"), kp
    if kind == "keyops":
        kp = jwksfake.ec_key(f"x-{kind}")
        return kp.jwk(key_ops=["sign"]), kp
    raise ValueError(kind)


UNUSABLE = ["oct", "rsa1024", "e1", "enc"]
MIXED_UNUSABLE = UNUSABLE + ["keyops"]
# name -> what its path answers: each is a failed fetch (a good key inside
# whenever the document could carry one, so that accepting it shows)
FAILURES = ["500", "404", "hang", "huge", "chunked", "malformed", "redirect", "html",
            "empty", "disc-mismatch", "disc-http"] + [f"only-{u}" for u in UNUSABLE]


class T:
    pass


@pytest.fixture(scope="module")
def timed_server(env, extra_servers, fake):
    T.good = jwksfake.rsa_key("good")
    T.fail_tokens = {}
    locs = []
    for name in FAILURES:
        iss, jwks = fake.url(f"/f-{name}"), f"/f-{name}/jwks"
        keys_arg = fake.url(jwks)
        signer = T.good
        if name == "500":
            fake.set(jwks, status=500, body=json.dumps(jwksfake.jwk_set(T.good)))
        elif name == "404":
            fake.set(jwks, status=404)
        elif name == "hang":
            fake.set_jwks(jwks, [T.good], delay=HANG_DELAY)
        elif name == "huge":
            fake.set_huge(jwks, [T.good])
        elif name == "chunked":
            fake.set_huge(jwks, [T.good], chunked=True)
        elif name == "malformed":
            fake.set(jwks, body=json.dumps(jwksfake.jwk_set(T.good))[:-3])
        elif name == "redirect":
            fake.set(jwks, redirect=fake.url("/good/jwks"))
        elif name == "html":
            fake.set(jwks, body=b"<html><body>login</body></html>", content_type="text/html")
        elif name == "empty":
            fake.set_jwks(jwks, [])
        elif name == "disc-mismatch":
            fake.set_discovery(fake.url("/other"), "/good/jwks",
                               path=f"/f-{name}/.well-known/openid-configuration")
            keys_arg = "discovery"
        elif name == "disc-http":
            fake.set_json(f"/f-{name}/.well-known/openid-configuration",
                          {"issuer": iss, "jwks_uri": "http://example.com/jwks"})
            keys_arg = "discovery"
        elif name.startswith("only-"):
            jwk, signer = _unusable(name[5:])
            fake.set_jwks(jwks, [jwk])
        if signer is None:
            tok = pyhttpd.sign_hs({"alg": "HS256", "typ": "JWT", "kid": "x-oct"}, claims(iss),
                                  OCT_SECRET)
        else:
            tok = signer.sign(claims(iss, lifetime=600))
        T.fail_tokens[name] = tok
        locs.append(f"AuthJWTTrustedIssuer {iss} {keys_arg}")
    fake.set_jwks("/good/jwks", [T.good])
    # mixed: good keys and every kind of unusable entry, plus a duplicated kid
    T.mixed_good = jwksfake.ec_key("m-good")
    T.mixed_bad = {k: _unusable(k) for k in MIXED_UNUSABLE}
    T.dup = [jwksfake.ec_key("m-dup"), jwksfake.ed_key("m-dup")]
    T.pinned = jwksfake.rsa_key("m-pinned", alg="PS256")       # alg pins PS256
    fake.set_jwks("/mixed/jwks", [T.mixed_good, T.pinned.jwk(alg="PS256")]
                  + [j for j, _ in T.mixed_bad.values()] + T.dup)
    locs.append(f"AuthJWTTrustedIssuer {fake.url('/mixed')} {fake.url('/mixed/jwks')}")
    # stale: good once (max-age 60), then 500
    T.s1, T.s2 = jwksfake.ec_key("s1"), jwksfake.ec_key("s2")
    fake.script("/s/jwks", [jwksfake.jwks_route([T.s1], max_age=REFETCH_FLOOR),
                            jwksfake.Route(status=500)])
    # withdrawn: w1 and w2 (max-age 60), then w2 alone
    T.w1, T.w2 = jwksfake.rsa_key("w1"), jwksfake.rsa_key("w2")
    fake.script("/w/jwks", [jwksfake.jwks_route([T.w1, T.w2], max_age=REFETCH_FLOOR),
                            jwksfake.jwks_route([T.w2], max_age=REFETCH_FLOOR)])
    # rate limit: r1 (default refresh: one hour), then r1 and r-new
    T.r1, T.rnew = jwksfake.ec_key("r1"), jwksfake.ec_key("r-new")
    T.rother = jwksfake.ec_key("r-other")
    fake.script("/r/jwks", [jwksfake.jwks_route([T.r1]), jwksfake.jwks_route([T.r1, T.rnew])])
    for n in ("s", "w", "r"):
        locs.append(f"AuthJWTTrustedIssuer {fake.url('/' + n)} {fake.url('/' + n + '/jwks')}")
    config = (f"AuthJWTKeyMaxStale {MAX_STALE}\nAuthJWTFetchTimeout {FETCH_TIMEOUT}\n"
              + pyhttpd.jwt_location("/x", *locs) + hello(["/x"]))
    s = _start_module_server(env, extra_servers, "310-timed", config, {})
    r = poll(lambda: s.get("/x", bearer=T.mixed_good.sign(claims(fake.url("/mixed")))),
             lambda r: r.status != 503, timeout=FIRST_FETCH_TIMEOUT)
    T.mixed_good_ready = r
    yield s
    pyhttpd.stop_and_check(s, pyhttpd.SHUTDOWN_PROBLEMS)


@pytest.fixture
def timed(timed_server, check_logs):
    check_logs(timed_server, expected=timed_server.expected_log)
    return timed_server


def iss_token(fake, name, kp, **kw):
    return kp.sign(claims(fake.url("/" + name), **kw))


@pytest.mark.parametrize("name", FAILURES)
def test_failed_fetch_gives_503(timed, fake, name):
    """Each is a failed fetch: logged (AJ08x, naming the issuer or URL), and
    the issuer's tokens get 503 since no fetch ever succeeded."""
    first = "/.well-known/openid-configuration" if name.startswith("disc-") else "/jwks"
    assert fake.wait_count(f"/f-{name}{first}", 1, FIRST_FETCH_TIMEOUT) >= 1
    lines = poll(lambda: failure_lines(timed, f"/f-{name}"), bool,
                 timeout=FETCH_TIMEOUT + FIRST_FETCH_TIMEOUT)
    assert lines, timed.error_log.tail(30)
    assert_503(timed.get("/x", bearer=T.fail_tokens[name]))
    if name == "redirect" or name == "disc-mismatch":
        # the good set behind it was never fetched through this issuer
        assert fake.count("/good/jwks") == 0


def test_mixed_set_skips_unusable_entries(timed, fake):
    assert_ok(T.mixed_good_ready)
    assert_ok(timed.get("/x", bearer=iss_token(fake, "mixed", T.mixed_good)))
    for kind, (jwk, kp) in T.mixed_bad.items():
        iss = fake.url("/mixed")
        tok = kp.sign(claims(iss)) if kp else pyhttpd.sign_hs(
            {"alg": "HS256", "typ": "JWT", "kid": jwk["kid"]}, claims(iss), OCT_SECRET)
        assert_invalid_token(timed.get("/x", bearer=tok))
    for kp in T.dup:
        assert_invalid_token(timed.get("/x", bearer=iss_token(fake, "mixed", kp)))
    # alg pins: the PS256 key verifies PS256 only
    assert_ok(timed.get("/x", bearer=iss_token(fake, "mixed", T.pinned)))
    assert_invalid_token(timed.get("/x", bearer=T.pinned.sign(claims(fake.url("/mixed")),
                                                              alg="RS256")))
    # each skipped entry is named in a warning
    for kid in [j["kid"] for j, _ in T.mixed_bad.values()] + ["m-dup"]:
        assert log_lines(timed, r"\[auth_jwt:warn\].*" + re.escape(kid)), kid


def test_unknown_kid_just_after_start_is_not_refetched(timed, fake):
    """Within 60 s of the issuer's last fetch a new kid causes no fetch."""
    first = fake.hits("/r/jwks")[0].time
    assert time.monotonic() - first < REFETCH_FLOOR - 10, "the suite ran too slowly to check"
    assert_invalid_token(timed.get("/x", bearer=iss_token(fake, "r", T.rnew)), "unknown key id")
    assert fake.count("/r/jwks") == 1
    assert_ok(timed.get("/x", bearer=iss_token(fake, "r", T.r1)))


def test_stale_keys_within_max_stale_then_503_then_back(timed, fake):
    assert_ok(timed.get("/x", bearer=iss_token(fake, "s", T.s1)))
    # the refetch max-age=60 asked for answers 500
    assert fake.wait_count("/s/jwks", 2, REFETCH_FLOOR + 30) >= 2, fake.hits("/s/jwks")
    failed_at = fake.hits("/s/jwks")[1].time
    assert_ok(timed.get("/x", bearer=iss_token(fake, "s", T.s1)))
    r = poll(lambda: timed.get("/x", bearer=iss_token(fake, "s", T.s1)),
             lambda r: r.status != 200, timeout=MAX_STALE + 10)
    assert_503(r)
    assert time.monotonic() - failed_at >= MAX_STALE - 1
    assert failure_lines(timed, "/s")
    # the server serves again, now with a new key: the new kid's refetch (or
    # the next background one) restores the issuer
    fake.set_jwks("/s/jwks", [T.s1, T.s2])
    r = poll(lambda: timed.get("/x", bearer=iss_token(fake, "s", T.s2)),
             lambda r: r.status == 200, timeout=REFETCH_FLOOR + 20, interval=1.0)
    assert_ok(r)
    assert_ok(timed.get("/x", bearer=iss_token(fake, "s", T.s1)))


def test_withdrawn_kid_refused_after_next_fetch(timed, fake):
    if fake.count("/w/jwks") == 1:
        assert_ok(timed.get("/x", bearer=iss_token(fake, "w", T.w1)))
    assert fake.wait_count("/w/jwks", 2, REFETCH_FLOOR + 30) >= 2
    r = poll(lambda: timed.get("/x", bearer=iss_token(fake, "w", T.w1)),
             lambda r: r.status != 200, timeout=5)
    assert_invalid_token(r)
    assert_ok(timed.get("/x", bearer=iss_token(fake, "w", T.w2)))


def test_unknown_kid_refetch_once_per_minute(timed, fake):
    last = fake.hits("/r/jwks")[-1].time
    wait = last + REFETCH_FLOOR + 1 - time.monotonic()
    if wait > 0:
        time.sleep(wait)                # the floor is the thing under test
    before = fake.count("/r/jwks")
    assert_ok(timed.get("/x", bearer=iss_token(fake, "r", T.rnew)))
    assert fake.count("/r/jwks") == before + 1
    assert_invalid_token(timed.get("/x", bearer=iss_token(fake, "r", T.rother)),
                         "unknown key id")
    assert_invalid_token(timed.get("/x", bearer=iss_token(fake, "r", T.rother)),
                         "unknown key id")
    assert_ok(timed.get("/x", bearer=iss_token(fake, "r", T.rnew)))
    assert fake.count("/r/jwks") == before + 1


def test_failure_logged_at_most_once_a_minute(timed, fake):
    for _ in range(20):
        assert_503(timed.get("/x", bearer=T.fail_tokens["500"]))
        assert_503(timed.get("/x", bearer=T.fail_tokens["404"]))
    for name in ("500", "404", "malformed"):
        hits = fake.hits(f"/f-{name}/jwks")
        minutes = (time.monotonic() - hits[0].time) // 60
        lines = failure_lines(timed, f"/f-{name}")
        assert 1 <= len(lines) <= min(len(hits), 1 + minutes), (name, len(hits), lines)


# ---- restarts -------------------------------------------------------------------------

# What the parent logs when it is told to restart (mpm_common).
RESTART_LOG = {"graceful": "AH00493: SIGUSR1 received.  Doing graceful restart",
               "restart": "AH00494: SIGHUP received.  Attempting to restart"}
# The old generation's children are gone within this (graceful: once idle).
OLD_CHILDREN_TIMEOUT = 30.0


@pytest.mark.skipif(pyhttpd.VALGRIND, reason="under valgrind the harness restarts httpd -X "
                                             "by a new start: no generation to carry over")
def test_restart_keeps_key_sets_while_the_issuer_is_down(httpd_factory, fake, request):
    """docs/reference.md §11: a restart, graceful or not, starts from the
    ending generation's good sets and fetches again at once.  With the
    issuer's server failing (a 500 through a graceful restart, then a hang
    past AuthJWTFetchTimeout through a full one) its tokens are accepted
    right after each restart, while the new generation's fetch runs and
    after it failed: no 503 window.  The server recovers without one."""
    iss, path = fake.url("/rs"), "/rs/jwks"
    k1, k2 = jwksfake.ec_key("rs1"), jwksfake.ec_key("rs2")
    fake.set_jwks(path, [k1])
    s = httpd_factory(config=f"AuthJWTFetchTimeout {FETCH_TIMEOUT}\n"
                      + pyhttpd.jwt_location("/x", f"AuthJWTTrustedIssuer {iss} {fake.url(path)}")
                      + hello(["/x"]))
    s.expect_log(*HTTPD_EXPECTED_LOG)
    request.node.aj_server = s
    s.start()

    def get(kp):
        return s.get("/x", bearer=kp.sign(claims(iss)))

    assert_ok(poll(lambda: get(k1), lambda r: r.status != 503, timeout=FIRST_FETCH_TIMEOUT))
    parent = s.pid()
    failing = {"graceful": jwksfake.Route(status=500),
               "restart": jwksfake.jwks_route([k1], delay=HANG_DELAY)}
    for how in ("graceful", "restart"):
        fake.script(path, [failing[how]])
        fetched = fake.count(path)
        log = s.error_log.read_all()
        ready, signalled = log.count("resuming normal operations"), log.count(RESTART_LOG[how])
        old_children = set(s.child_pids())
        getattr(s, how)()
        assert_ok(get(k1))
        # a new generation under the same parent
        log = s.error_log.read_all()
        assert log.count("resuming normal operations") == ready + 1, how
        assert log.count(RESTART_LOG[how]) == signalled + 1, how
        assert s.pid() == parent, how
        children = poll(lambda: set(s.child_pids()),
                        lambda kids: kids and kids.isdisjoint(old_children),
                        timeout=OLD_CHILDREN_TIMEOUT)
        assert children and children.isdisjoint(old_children), (how, old_children, children)
        assert_ok(get(k1))
        # its first fetch, at once, fails: the carried set keeps serving
        # meanwhile and after it (a bounded window past the fetch timeout)
        assert fake.wait_count(path, fetched + 1, FIRST_FETCH_TIMEOUT) > fetched, how
        deadline = time.monotonic() + FETCH_TIMEOUT + 1
        while time.monotonic() < deadline:
            assert_ok(get(k1))
            time.sleep(0.2)
        if how == "graceful":
            # the module says so (the issuer's first failure: logged at once)
            lines = poll(lambda: failure_lines(s, "/rs"), bool, timeout=FIRST_FETCH_TIMEOUT)
            assert lines and "its last good keys serve" in lines[-1], s.error_log.tail(20)
    # the issuer's server is back, with a new key: a retry picks it up
    fake.set_jwks(path, [k1, k2])
    assert_ok(poll(lambda: get(k2), lambda r: r.status == 200,
                   timeout=RETRY + FETCH_TIMEOUT + FIRST_FETCH_TIMEOUT, interval=0.5))
    assert_ok(get(k1))
