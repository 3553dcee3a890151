"""Misconfiguration is caught at startup: `apachectl -t` fails with a message
that names the directive (docs/reference.md §3).  Each bad case has a good twin that passes,
so the test fails if configtest fails for another reason."""

import os

import pytest

# (id, directive name that must be named, bad config, good twin)
CASES = [
    ("unknown-alg", "AuthJWTSigningKey",
     'AuthJWTSigningKey HS999 "file:@SECRET@"',
     'AuthJWTSigningKey HS256 "file:@SECRET@"'),
    ("alg-none", "AuthJWTSigningKey",
     'AuthJWTSigningKey none "file:@SECRET@"',
     'AuthJWTSigningKey HS512 "file:@SECRET@"'),
    ("verify-unknown-alg", "AuthJWTVerifyKey",
     'AuthJWTVerifyKey XX256 "file:@SECRET@"',
     'AuthJWTVerifyKey HS256 "file:@SECRET@"'),
    ("unreadable-key-file", "AuthJWTSigningKey",
     'AuthJWTSigningKey HS256 "file:@ROOT@/conf/no-such.key"',
     'AuthJWTSigningKey HS256 "file:@ROOT@/conf/secret32.key"'),
    ("key-file-is-directory", "AuthJWTSigningKey",
     'AuthJWTSigningKey HS256 "file:@ROOT@/conf"',
     'AuthJWTSigningKey HS256 "file:@ROOT@/conf/secret32.key"'),
    ("hs256-secret-31-bytes", "AuthJWTSigningKey",
     'AuthJWTSigningKey HS256 "file:@ROOT@/conf/secret31.key"',
     'AuthJWTSigningKey HS256 "file:@ROOT@/conf/secret32.key"'),
    ("hs384-secret-47-bytes", "AuthJWTSigningKey",
     'AuthJWTSigningKey HS384 "file:@ROOT@/conf/secret47.key"',
     'AuthJWTSigningKey HS384 "file:@ROOT@/conf/secret48.key"'),
    ("hs512-secret-63-bytes", "AuthJWTSigningKey",
     'AuthJWTSigningKey HS512 "file:@ROOT@/conf/secret63.key"',
     'AuthJWTSigningKey HS512 "file:@SECRET@"'),
    ("rs256-with-hmac-secret", "AuthJWTSigningKey",
     'AuthJWTSigningKey RS256 "file:@SECRET@"',
     'AuthJWTSigningKey HS256 "file:@SECRET@"'),
    ("renew-not-on-off", "AuthJWTRenewWithToken",
     "AuthJWTRenewWithToken maybe", "AuthJWTRenewWithToken Off"),
    ("registration-not-on-off", "AuthJWTRegistration",
     "AuthJWTRegistration yes", "AuthJWTRegistration On"),
    ("claims-env-not-on-off", "AuthJWTClaimsToEnv",
     "AuthJWTClaimsToEnv 1", "AuthJWTClaimsToEnv Off"),
    ("negative-lifetime", "AuthJWTTokenLifetime",
     "AuthJWTTokenLifetime -5", "AuthJWTTokenLifetime 5"),
    ("lifetime-not-a-number", "AuthJWTTokenLifetime",
     "AuthJWTTokenLifetime 10min", "AuthJWTTokenLifetime 600"),
    ("negative-leeway", "AuthJWTLeeway",
     "AuthJWTLeeway -1", "AuthJWTLeeway 0"),
    ("negative-max-session-age", "AuthJWTMaxSessionAge",
     "AuthJWTMaxSessionAge -60", "AuthJWTMaxSessionAge 60"),
    ("throttle-one-word", "AuthJWTLoginThrottle",
     "AuthJWTLoginThrottle 10", "AuthJWTLoginThrottle Off"),
    ("throttle-zero-attempts", "AuthJWTLoginThrottle",
     "AuthJWTLoginThrottle 0 60", "AuthJWTLoginThrottle 1 60"),
    ("throttle-zero-seconds", "AuthJWTLoginThrottle",
     "AuthJWTLoginThrottle 10 0", "AuthJWTLoginThrottle 10 1"),
    ("throttle-too-many-seconds", "AuthJWTLoginThrottle",
     "AuthJWTLoginThrottle 10 86401", "AuthJWTLoginThrottle 10 86400"),
    ("throttle-attempts-text", "AuthJWTLoginThrottle",
     "AuthJWTLoginThrottle ten 60", "AuthJWTLoginThrottle 1000 60"),
    ("bcrypt-cost-3", "AuthJWTBcryptCost",
     "AuthJWTBcryptCost 3", "AuthJWTBcryptCost 4"),
    ("bcrypt-cost-18", "AuthJWTBcryptCost",
     "AuthJWTBcryptCost 18", "AuthJWTBcryptCost 17"),
    ("bcrypt-cost-text", "AuthJWTBcryptCost",
     "AuthJWTBcryptCost ten", "AuthJWTBcryptCost 10"),
    # durations (docs/reference.md §13): 600, 10m, 1h, 14d; one rule with htjwt -l
    ("lifetime-unknown-unit", "AuthJWTTokenLifetime",
     "AuthJWTTokenLifetime 10w", "AuthJWTTokenLifetime 10m"),
    ("lifetime-signed", "AuthJWTTokenLifetime",
     "AuthJWTTokenLifetime +600", "AuthJWTTokenLifetime 600s"),
    ("lifetime-over-ten-years", "AuthJWTTokenLifetime",
     "AuthJWTTokenLifetime 3651d", "AuthJWTTokenLifetime 3650d"),
    ("lifetime-overflow", "AuthJWTTokenLifetime",
     "AuthJWTTokenLifetime 99999999999999999999d", "AuthJWTTokenLifetime 1h"),
    ("leeway-over-an-hour", "AuthJWTLeeway",
     "AuthJWTLeeway 2h", "AuthJWTLeeway 1m"),
    ("session-age-upper-case-unit", "AuthJWTMaxSessionAge",
     "AuthJWTMaxSessionAge 14D", "AuthJWTMaxSessionAge 14d"),
    ("refresh-over-an-hour", "AuthJWTRevocationRefresh",
     "AuthJWTRevocationRefresh 2h", "AuthJWTRevocationRefresh 5s"),
    ("basic-ttl-over-a-day", "AuthJWTBasicCacheTTL",
     "AuthJWTBasicCacheTTL 2d", "AuthJWTBasicCacheTTL 1h"),
    ("throttle-seconds-over-a-day", "AuthJWTLoginThrottle",
     "AuthJWTLoginThrottle 10 2d", "AuthJWTLoginThrottle 10 1m"),
    ("password-min-not-number", "AuthJWTPasswordMinLength",
     "AuthJWTPasswordMinLength eight", "AuthJWTPasswordMinLength 8"),
    ("password-min-negative", "AuthJWTPasswordMinLength",
     "AuthJWTPasswordMinLength -1", "AuthJWTPasswordMinLength 1"),
    ("refresh-lifetime-negative", "AuthJWTRefreshLifetime",
     "AuthJWTRefreshLifetime -1", "AuthJWTRefreshLifetime 0"),
    ("refresh-lifetime-unknown-unit", "AuthJWTRefreshLifetime",
     "AuthJWTRefreshLifetime 2w", "AuthJWTRefreshLifetime 14d"),
    # docs/reference.md §11: the URL goes unescaped into resource_metadata="…"
    ("resource-metadata-relative", "AuthJWTResourceMetadata",
     "AuthJWTResourceMetadata /.well-known/oauth-protected-resource",
     "AuthJWTResourceMetadata https://api.example/.well-known/oauth-protected-resource"),
    ("resource-metadata-quote", "AuthJWTResourceMetadata",
     'AuthJWTResourceMetadata "https://api.example/a\\"b"',
     'AuthJWTResourceMetadata "https://api.example/a%22b"'),
    ("resource-metadata-space", "AuthJWTResourceMetadata",
     'AuthJWTResourceMetadata "http://127.0.0.1/a b"',
     'AuthJWTResourceMetadata "http://127.0.0.1/a%20b"'),
    ("resource-metadata-query", "AuthJWTResourceMetadata",
     "AuthJWTResourceMetadata https://api.example/meta?x=1",
     "AuthJWTResourceMetadata https://api.example/meta"),
]


def _secret_files(server):
    for n in (31, 32, 47, 48, 63):
        server.write_file(os.path.join(server.root, "conf", f"secret{n}.key"),
                          b"k" * n, mode=0o600)


def _run(httpd_factory, snippet, where):
    s = httpd_factory(signing_key=False)
    _secret_files(s)
    body = s.substitute(snippet)
    if where == "location":
        body = f"<Location /x>\n    {body}\n</Location>\n"
    # AuthJWTSigningKey must also be valid at server level for the location cases
    server_key = "" if "SigningKey" in snippet or "VerifyKey" in snippet else \
        f'AuthJWTSigningKey HS256 "file:{s.secret_path}"\n'
    rc, out = s.configtest(config=server_key + body)
    return rc, out + s.error_log.read_all()


def _assert_bad_fails_good_passes(httpd_factory, case, where, shown_where):
    """configtest fails on the bad form, naming the directive, and passes on
    its good twin; shown_where tells the messages where the line was."""
    _, name, bad, good = case
    rc, out = _run(httpd_factory, bad, where)
    assert rc != 0, f"configtest passed with `{bad}`{shown_where}:\n{out}"
    assert name in out, f"message does not name {name}:\n{out}"
    rc, out = _run(httpd_factory, good, where)
    assert rc == 0, f"good twin `{good}`{shown_where} failed:\n{out}"


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_directive_fails_configtest(httpd_factory, case):
    _assert_bad_fails_good_passes(httpd_factory, case, "server", "")


@pytest.mark.parametrize("case", [c for c in CASES if "Key" not in c[1]],
                         ids=[c[0] for c in CASES if "Key" not in c[1]])
def test_bad_directive_in_location_fails_configtest(httpd_factory, case):
    _assert_bad_fails_good_passes(httpd_factory, case, "location", " in <Location>")


@pytest.mark.parametrize("bad", ["AuthJWTTokenLifetime 10min", "AuthJWTLeeway 1.5m",
                                 "AuthJWTLoginThrottle 10 -1m"])
def test_duration_message_names_forms(httpd_factory, bad):
    """A refused duration names the directive and the forms it takes."""
    rc, out = _run(httpd_factory, bad, "server")
    assert rc != 0, out
    assert bad.split()[0] in out and "10m, 1h, 14d" in out, out


def test_full_valid_config_passes(httpd_factory):
    s = httpd_factory()
    rc, out = s.configtest(config=r"""
AuthJWTIssuer "https://issuer.example"
AuthJWTAudience api1 api2
AuthJWTTokenLifetime 900
AuthJWTLeeway 30
AuthJWTRenewWithToken Off
AuthJWTMaxSessionAge 3600
AuthJWTPasswordLogin On
AuthJWTRegistration On
AuthJWTPasswordMinLength 10
AuthJWTBcryptCost 12
AuthJWTClaimsToEnv On
<Location /api/users>
    SetHandler auth-jwt-users
</Location>
<Location /api/token>
    AuthType JWT
    AuthName "x"
    Require valid-user
    Require jwt-claim role admin
    Require jwt-scope read
    SetHandler auth-jwt-token
</Location>
""")
    assert rc == 0, out
    assert "Syntax OK" in out


# ---- mistakes httpd itself would only meet at run time (docs/reference.md §13) -------
# Each bad configuration has a good twin that differs only in the fix.

AUTH = """
    AuthType JWT
    AuthName "api"
    Require valid-user"""


def _runtime_check(httpd_factory, config, signing_key=True, dbd_driver=True, mod_dbd=True):
    """configtest of the harness's configuration plus `config`, optionally without
    DBDriver/DBDParams or without mod_dbd; returns (rc, everything printed)."""
    s = httpd_factory(signing_key=signing_key)
    lines = s.render_conf(config=config).splitlines()
    if not dbd_driver or not mod_dbd:
        lines = [ln for ln in lines if not ln.startswith(("DBDriver ", "DBDParams "))]
    if not mod_dbd:
        lines = [ln for ln in lines if not ln.startswith("LoadModule dbd_module ")]
    s.write_file(s.conf_path, "\n".join(lines) + "\n")
    rc, out = s._apachectl("-t")
    return rc, out + s.error_log.read_all(), s.conf_path


def _assert_fails(result, tag, *needles):
    rc, out, conf = result
    assert rc != 0, f"configtest passed:\n{out}"
    assert "Syntax OK" not in out, out
    assert f"{tag}: " in out, out
    assert f"{conf}:" in out, f"message does not name the file and line:\n{out}"
    for n in needles:
        assert n in out, f"{n!r} not in:\n{out}"


def _assert_passes(result):
    rc, out, _ = result
    assert rc == 0 and "Syntax OK" in out, out


def test_auth_type_jwt_without_auth_name(httpd_factory):
    bad = """
<Location /api/status>
    AuthType JWT
    Require valid-user
    SetHandler auth-jwt-status
</Location>"""
    _assert_fails(_runtime_check(httpd_factory, bad), "AJ400", "AuthType JWT",
                  "has no AuthName", "<Location /api/status>")
    _assert_passes(_runtime_check(httpd_factory, bad.replace(
        "AuthType JWT", 'AuthType JWT\n    AuthName "api"')))


def test_auth_name_inherited_from_enclosing_location(httpd_factory):
    good = """
<Location /api>
    AuthName "api"
</Location>
<Location /api/status>
    AuthType JWT
    Require valid-user
    SetHandler auth-jwt-status
</Location>"""
    _assert_passes(_runtime_check(httpd_factory, good))
    # /api2 is not a prefix of /api/status in URL segments
    _assert_fails(_runtime_check(httpd_factory, good.replace("<Location /api>",
                                                             "<Location /api2>")), "AJ400")


@pytest.mark.parametrize("handler", ["auth-jwt-status", "auth-jwt-token", "auth-jwt-logout",
                                     "auth-jwt-password"])
def test_handler_without_authentication(httpd_factory, handler):
    bad = f"""
<Location /api/h>
    SetHandler {handler}
</Location>"""
    _assert_fails(_runtime_check(httpd_factory, bad), "AJ401", f"SetHandler {handler}",
                  "needs an authenticated user")
    _assert_passes(_runtime_check(httpd_factory, bad.replace(
        "<Location /api/h>", "<Location /api/h>" + AUTH)))


def test_authentication_inherited_from_prefix_location(httpd_factory):
    """<Location /api> with AuthType JWT covers <Location /api/status>, and the
    main server's section covers a virtual host's; /apix is not under /api."""
    good = f"""
<Location /api>{AUTH}
</Location>
<Location /api/status>
    SetHandler auth-jwt-status
</Location>
<VirtualHost 127.0.0.1:@PORT@>
    ServerName v.test
    <Location /api/token>
        SetHandler auth-jwt-token
    </Location>
</VirtualHost>"""
    _assert_passes(_runtime_check(httpd_factory, good))
    _assert_fails(_runtime_check(httpd_factory, good.replace("/api/status", "/apix/status")),
                  "AJ401", "<Location /apix/status>")


def test_basic_with_jwt_provider_counts(httpd_factory):
    good = """
<Location /api/status>
    AuthType Basic
    AuthName "api"
    AuthBasicProvider jwt
    Require valid-user
    SetHandler auth-jwt-status
</Location>"""
    _assert_passes(_runtime_check(httpd_factory, good))
    _assert_fails(_runtime_check(httpd_factory, good.replace(
        "AuthBasicProvider jwt", "AuthBasicProvider file")), "AJ401")


def _mount_at_api_h(handler):
    """handler at /api/h behind AuthType JWT."""
    return f"""
<Location /api/h>{AUTH}
    SetHandler {handler}
</Location>"""


@pytest.mark.parametrize("handler", ["auth-jwt-login", "auth-jwt-token", "auth-jwt-refresh"])
def test_issuing_handler_without_signing_key(httpd_factory, handler):
    mount = _mount_at_api_h(handler)
    _assert_fails(_runtime_check(httpd_factory, mount, signing_key=False), "AJ402",
                  f"SetHandler {handler}", "AuthJWTSigningKey")
    # the key of the server level applies
    _assert_passes(_runtime_check(httpd_factory, mount, signing_key=True))
    # a section that names only a verify key has no signing key
    _assert_fails(_runtime_check(httpd_factory, mount.replace(
        "<Location /api/h>", '<Location /api/h>\n    AuthJWTVerifyKey HS256 "file:@SECRET@"'),
        signing_key=True), "AJ402")


@pytest.mark.parametrize("handler", ["auth-jwt-users", "auth-jwt-login", "auth-jwt-token",
                                     "auth-jwt-logout", "auth-jwt-password", "auth-jwt-refresh"])
def test_store_handler_without_dbdriver(httpd_factory, handler):
    mount = _mount_at_api_h(handler)
    _assert_fails(_runtime_check(httpd_factory, mount, dbd_driver=False), "AJ403",
                  f"SetHandler {handler}", "DBDriver")
    _assert_passes(_runtime_check(httpd_factory, mount))


def test_store_handler_without_mod_dbd(httpd_factory):
    mount = """
<Location /api/users>
    SetHandler auth-jwt-users
</Location>"""
    _assert_fails(_runtime_check(httpd_factory, mount, signing_key=False, mod_dbd=False),
                  "AJ403", "mod_dbd is not loaded")
    # handlers that need no store are fine without it
    _assert_passes(_runtime_check(httpd_factory, mount.replace("auth-jwt-users",
                                                               "auth-jwt-jwks"),
                                  signing_key=False, mod_dbd=False))


def test_refresh_cookie_without_refresh_handler(httpd_factory):
    """Cookie mode sends the refresh token only to the refresh handler's
    <Location>: a login that grants refresh tokens in cookies needs one in
    its server (docs/reference.md §12)."""
    bad = """
AuthJWTCookie jwt
AuthJWTRefreshLifetime 14d
<Location /auth/login>
    SetHandler auth-jwt-login
</Location>"""
    _assert_fails(_runtime_check(httpd_factory, bad), "AJ405", "SetHandler auth-jwt-login",
                  "auth-jwt-refresh", "<Location /auth/login>")
    _assert_passes(_runtime_check(httpd_factory, bad + """
<Location /auth/refresh>
    SetHandler auth-jwt-refresh
</Location>"""))
    # without cookies, or with refresh tokens off, nothing is sent in a cookie
    _assert_passes(_runtime_check(httpd_factory, bad.replace("AuthJWTCookie jwt\n", "")))
    _assert_passes(_runtime_check(httpd_factory, bad.replace("14d", "0")))
