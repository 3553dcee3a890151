"""Asymmetric keys in a real httpd (docs/reference.md §3 keys, §4 auth-jwt-jwks, §5):
key rotation with a graceful restart, the JWK Set handler, a verify-only
node without mod_dbd that accepts the issuing node's tokens and nothing
else, and the key mistakes `apachectl configtest` must catch."""

import base64
import json
import os
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

import pyhttpd

BASE_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + """
<Location /jwks>
    SetHandler auth-jwt-jwks
</Location>
"""

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}


# ---- keys ------------------------------------------------------------------------

def _pem_private(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _pem_public(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


class Key:
    """A key pair written as PEM files into a server's conf directory."""

    def __init__(self, server, name, private):
        self.private = private
        self.public = private.public_key()
        self.priv_path = os.path.join(server.root, "conf", f"{name}.key")
        self.pub_path = os.path.join(server.root, "conf", f"{name}.pub")
        server.write_file(self.priv_path, _pem_private(private), mode=0o600)
        server.write_file(self.pub_path, _pem_public(private))


def ec_key(server, name, curve=ec.SECP256R1):
    return Key(server, name, ec.generate_private_key(curve()))


def rsa_key(server, name, bits=2048):
    return Key(server, name, rsa.generate_private_key(public_exponent=65537, key_size=bits))


def ed_key(server, name):
    return Key(server, name, ed25519.Ed25519PrivateKey.generate())


def resource(server, token):
    return server.get("/api/resource", bearer=token)


# ---- rotation --------------------------------------------------------------------

def test_rotation_with_graceful_restart(httpd_factory):
    s = httpd_factory("rotation", signing_key=False)
    k1, k2 = ec_key(s, "k1"), ec_key(s, "k2")
    s.config = BASE_CONFIG + f'AuthJWTSigningKey ES256 "file:{k1.priv_path}" kid=k1\n'
    s.start()
    name, pw, _ = pyhttpd.register(s)
    t1 = pyhttpd.get_token(s, name, pw)
    assert pyhttpd.token_header(t1) == {"alg": "ES256", "typ": "JWT", "kid": "k1"}
    jwt.decode(t1, k1.public, algorithms=["ES256"])
    assert resource(s, t1).status == 200
    assert [k["kid"] for k in s.get("/jwks").json()["keys"]] == ["k1"]

    # rotate: k2 signs, k1 still verifies
    s.config = BASE_CONFIG + (f'AuthJWTSigningKey ES256 "file:{k2.priv_path}" kid=k2\n'
                              f'AuthJWTVerifyKey ES256 "file:{k1.pub_path}" kid=k1\n')
    s.graceful()
    r = resource(s, t1)
    assert r.status == 200, r
    assert r.json() == {"data": f"Hello, {name}!"}
    t2 = pyhttpd.get_token(s, name, pw)
    assert pyhttpd.token_header(t2)["kid"] == "k2"
    jwt.decode(t2, k2.public, algorithms=["ES256"])
    assert resource(s, t2).status == 200
    # renewing with the old token gives a k2 token
    r = s.get("/api/token", bearer=t1)
    assert r.status == 200, r
    assert pyhttpd.token_header(r.json()["token"])["kid"] == "k2"
    assert [k["kid"] for k in s.get("/jwks").json()["keys"]] == ["k2", "k1"]

    # k1 retired: its tokens are refused, k2's keep working
    s.config = BASE_CONFIG + f'AuthJWTSigningKey ES256 "file:{k2.priv_path}" kid=k2\n'
    s.graceful()
    r = resource(s, t1)
    assert r.status == 401, r
    assert 'error="invalid_token"' in r.header("WWW-Authenticate")
    assert resource(s, t2).status == 200
    assert [k["kid"] for k in s.get("/jwks").json()["keys"]] == ["k2"]


# ---- the JWK Set -----------------------------------------------------------------

def test_jwks_publishes_public_keys_only(httpd_factory):
    s = httpd_factory("jwks")     # the default HS256 key comes first and signs
    rs, es, ed = rsa_key(s, "rs"), ec_key(s, "es", ec.SECP384R1), ed_key(s, "ed")
    s.config = BASE_CONFIG + (
        f'AuthJWTVerifyKey RS256 "file:{rs.pub_path}" kid=rs\n'
        f'AuthJWTSigningKey ES384 "file:{es.priv_path}" kid=es\n'
        f'AuthJWTVerifyKey EdDSA "file:{ed.priv_path}"\n'
        f'AuthJWTVerifyKey HS512 "file:{s.secret_path}" kid=hmac\n')
    s.start()
    r = s.get("/jwks")
    assert r.status == 200, r
    assert r.header("Content-Type") == "application/json"
    assert r.header("Cache-Control") == "max-age=300"
    keys = r.json()["keys"]
    assert s.secret.decode() not in r.text
    assert [k.get("kid") for k in keys] == ["rs", "es", None]
    for k in keys:
        assert not PRIVATE_MEMBERS & set(k), k
        assert k["use"] == "sig"
    assert set(keys[0]) == {"kty", "n", "e", "kid", "alg", "use"}
    assert (keys[0]["kty"], keys[0]["alg"], keys[0]["e"]) == ("RSA", "RS256", "AQAB")
    assert set(keys[1]) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
    assert (keys[1]["kty"], keys[1]["crv"], keys[1]["alg"]) == ("EC", "P-384", "ES384")
    assert set(keys[2]) == {"kty", "crv", "x", "alg", "use"}
    assert (keys[2]["kty"], keys[2]["crv"], keys[2]["alg"]) == ("OKP", "Ed25519", "EdDSA")
    # the published keys are the configured ones
    for jwk, key in zip(keys, (rs, es, ed)):
        got = jwt.PyJWK(jwk).key
        assert _pem_public_of(got) == _pem_public(key.private)

    head = s.request("HEAD", "/jwks")
    assert head.status == 200 and head.body == b""
    assert head.header("Cache-Control") == "max-age=300"
    for method in ("POST", "PUT", "DELETE"):
        r = s.request(method, "/jwks", body="{}",
                      headers=[("Content-Type", "application/json")])
        assert r.status == 405, r
        assert r.header("Allow") == "GET, HEAD"


def _pem_public_of(public_key):
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def test_jwks_verifies_issued_tokens(httpd_factory):
    """A client verifies an issued token with the key the JWK Set names."""
    s = httpd_factory("jwks-verify", signing_key=False)
    rs = rsa_key(s, "rs")
    s.config = BASE_CONFIG + f'AuthJWTSigningKey PS256 "file:{rs.priv_path}" kid=node1\n'
    s.start()
    name, pw, _ = pyhttpd.register(s)
    token = pyhttpd.get_token(s, name, pw)
    jwks = jwt.PyJWKSet.from_dict(s.get("/jwks").json())
    kid = pyhttpd.token_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims = jwt.decode(token, key.key, algorithms=["PS256"], options={"require": ["exp"]})
    assert claims["name"] == name


def test_jwks_without_asymmetric_keys_is_empty(httpd_factory):
    s = httpd_factory("jwks-empty")
    s.config = BASE_CONFIG
    s.start()
    r = s.get("/jwks")
    assert r.status == 200
    assert r.json() == {"keys": []}


# ---- a verify-only node ----------------------------------------------------------

class VerifyOnlyHttpd(pyhttpd.Httpd):
    """A node without mod_dbd: no LoadModule dbd_module, no DBDriver/DBDParams."""

    def render_conf(self, **kw):
        lines = super().render_conf(**kw).splitlines()
        keep = [ln for ln in lines
                if "dbd_module" not in ln and not ln.startswith(("DBDriver", "DBDParams"))]
        return "\n".join(keep) + "\n"


VERIFY_NODE_CONFIG = """
AuthJWTVerifyKey RS256 "file:{pub}" kid=node1
AuthJWTRevocation Off
AuthJWTPasswordLogin Off
""" + pyhttpd.RESOURCE_CONFIG + pyhttpd.JWKS_LOCATION


@pytest.fixture
def nodes(httpd_factory, env, extra_servers):
    issuer = httpd_factory("issuer", signing_key=False)
    key = rsa_key(issuer, "node1")
    issuer.config = BASE_CONFIG + f'AuthJWTSigningKey RS256 "file:{key.priv_path}" kid=node1\n'
    issuer.start()
    verifier = VerifyOnlyHttpd(env, "verify-only", signing_key=False,
                               config=VERIFY_NODE_CONFIG.format(pub=key.pub_path))
    extra_servers.append(verifier)
    verifier.start()
    yield issuer, verifier, key
    try:
        bad = pyhttpd.ErrorLog.bad_lines(verifier.error_log.read_since_mark())
        assert not bad, "unexpected error-log lines on the verify-only node:\n" + "\n".join(bad)
    finally:
        pyhttpd.stop_and_check(verifier, [])


def test_verify_only_node(nodes):
    issuer, verifier, key = nodes
    conf = open(verifier.conf_path).read()
    assert "dbd_module" not in conf and "DBD" not in conf
    assert "AJ100" in verifier.error_log.read_all()     # mod_dbd is not loaded: noted at info
    name, pw, _ = pyhttpd.register(issuer)
    token = pyhttpd.get_token(issuer, name, pw)

    r = resource(verifier, token)
    assert r.status == 200, r
    assert r.json() == {"data": f"Hello, {name}!"}
    # its JWK Set is the issuer's
    assert verifier.get("/jwks").json() == issuer.get("/jwks").json()
    # no password logins here (no store), and nothing without a token
    assert resource(verifier, None).status == 401
    assert verifier.get("/api/resource", auth=(name, pw)).status == 401

    now = int(time.time())
    claims = pyhttpd.token_claims(token)
    head, body, sig = token.split(".")
    refused = {}
    # tampered payload
    refused["tampered"] = ".".join(
        [head, pyhttpd.b64url(json.dumps(dict(claims, name="root"))), sig])
    # another RSA key, same kid
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused["other-key"] = jwt.encode(dict(claims), other, algorithm="RS256",
                                      headers={"kid": "node1"})
    # HS256 keyed with the node's public key PEM (the RS256/HS256 confusion)
    pem = open(key.pub_path, "rb").read()
    for n, secret in (("hs256-pem", pem), ("hs256-pem-stripped", pem.strip())):
        refused[n] = pyhttpd.sign_hs({"alg": "HS256", "typ": "JWT", "kid": "node1"},
                                     claims, secret)
    # alg none, with and without a signature segment
    refused["none"] = pyhttpd.b64url('{"alg":"none","kid":"node1"}') + "." + \
        pyhttpd.b64url(json.dumps(claims)) + "."
    refused["none-sig"] = refused["none"] + sig
    # the token brings its own key
    evil = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(evil.public_key()))
    refused["own-jwk"] = jwt.encode(dict(claims), evil, algorithm="ES256",
                                    headers={"kid": "node1", "jwk": jwk})
    # expired, correctly signed by the issuer's key
    refused["expired"] = jwt.encode(dict(claims, exp=now - 10), key.private, algorithm="RS256",
                                    headers={"kid": "node1"})
    for what, bad in refused.items():
        r = resource(verifier, bad)
        assert r.status == 401, f"{what}: {r}"
        assert 'error="invalid_token"' in r.header("WWW-Authenticate"), what
    # a fresh token from the issuer still works afterwards
    assert resource(verifier, pyhttpd.get_token(issuer, name, pw)).status == 200


# ---- configtest ------------------------------------------------------------------

def _configtest_cases(s):
    rs = rsa_key(s, "rs")
    small = rsa_key(s, "rs1024", bits=1024)
    p256, p384 = ec_key(s, "p256"), ec_key(s, "p384", ec.SECP384R1)
    ed = ed_key(s, "ed")
    garbage = os.path.join(s.root, "conf", "garbage.pem")
    s.write_file(garbage, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n"
                          "-----END PRIVATE KEY-----\n", mode=0o600)
    missing = os.path.join(s.root, "conf", "missing.pem")
    # (id, bad line, words the message must hold, good twin)
    return [
        ("rsa-1024", f'AuthJWTSigningKey RS256 "file:{small.priv_path}"',
         ["RSA key of 1024 bits", "at least 2048"],
         f'AuthJWTSigningKey RS256 "file:{rs.priv_path}"'),
        ("rsa-1024-verify", f'AuthJWTVerifyKey PS256 "file:{small.pub_path}"',
         ["1024 bits"], f'AuthJWTVerifyKey PS256 "file:{rs.pub_path}"'),
        ("ec-for-rs256", f'AuthJWTSigningKey RS256 "file:{p256.priv_path}"',
         ["EC key on curve P-256", "RS256 needs an RSA key"],
         f'AuthJWTSigningKey ES256 "file:{p256.priv_path}"'),
        ("p384-for-es256", f'AuthJWTSigningKey ES256 "file:{p384.priv_path}"',
         ["P-384", "ES256 needs an EC key on curve P-256"],
         f'AuthJWTSigningKey ES384 "file:{p384.priv_path}"'),
        ("ed25519-for-es256", f'AuthJWTVerifyKey ES256 "file:{ed.pub_path}"',
         ["Ed25519", "ES256 needs"], f'AuthJWTVerifyKey EdDSA "file:{ed.pub_path}"'),
        ("rsa-for-eddsa", f'AuthJWTSigningKey EdDSA "file:{rs.priv_path}"',
         ["EdDSA needs an Ed25519 key"], f'AuthJWTSigningKey EdDSA "file:{ed.priv_path}"'),
        ("public-key-to-signing", f'AuthJWTSigningKey ES256 "file:{p256.pub_path}"',
         ["public key, not a private key"], f'AuthJWTVerifyKey ES256 "file:{p256.pub_path}"'),
        ("missing-file", f'AuthJWTSigningKey ES256 "file:{missing}"',
         ["cannot open key file"], f'AuthJWTSigningKey ES256 "file:{p256.priv_path}"'),
        ("directory", f'AuthJWTVerifyKey RS256 "file:{s.root}/conf"',
         ["key file"], f'AuthJWTVerifyKey RS256 "file:{rs.pub_path}"'),
        ("garbage-pem", f'AuthJWTSigningKey RS256 "file:{garbage}"',
         ["holds no PEM private key"], f'AuthJWTSigningKey RS256 "file:{rs.priv_path}"'),
        ("hmac-secret-as-rs256", f'AuthJWTVerifyKey RS256 "file:{s.secret_path}"',
         ["holds no PEM"], f'AuthJWTVerifyKey HS256 "file:{s.secret_path}"'),
        ("env-for-es256", 'AuthJWTVerifyKey ES256 "env:HOME"',
         ["file:PATH"], f'AuthJWTVerifyKey ES256 "file:{p256.pub_path}"'),
    ]


def test_key_mistakes_fail_configtest(httpd_factory):
    s = httpd_factory("configtest", signing_key=False)
    failures = []
    for case, bad, words, good in _configtest_cases(s):
        directive = bad.split()[0]
        path = bad.split('"')[1][len("file:"):] if "file:" in bad else None
        rc, out = s.configtest(config=bad + "\n")
        out += s.error_log.read_all()
        if rc == 0:
            failures.append(f"{case}: configtest passed with `{bad}`")
            continue
        for w in [directive] + words + ([path] if path else []):
            if w not in out:
                failures.append(f"{case}: message lacks {w!r}:\n{out[-600:]}")
        rc, out = s.configtest(config=good + "\n")
        if rc != 0:
            failures.append(f"{case}: good twin `{good}` failed:\n{out[-600:]}")
    assert not failures, "\n".join(failures)


# ---- key hardening (docs/reference.md §10 key files, §11 RSA exponent) ------------------------

def _der(tag, body):
    n = len(body)
    if n < 0x80:
        size = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        size = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + size + body


def _der_int(v):
    raw = v.to_bytes(v.bit_length() // 8 + 1, "big")     # a leading 0: always positive
    return _der(0x02, raw)


def rsa_public_pem(n, e):
    """SubjectPublicKeyInfo PEM for any (n, e): the cryptography package
    refuses to build e = 1, which is the point here."""
    rsa_alg = _der(0x30, _der(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
    rsa_key = _der(0x30, _der_int(n) + _der_int(e))
    spki = _der(0x30, rsa_alg + _der(0x03, b"\x00" + rsa_key))
    b64 = base64.encodebytes(spki).decode().replace("\n", "")
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


def test_rsa_exponent_one_fails_configtest(httpd_factory):
    s = httpd_factory("rsa-e1", signing_key=False)
    n = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key() \
        .public_numbers().n
    cases = {"e1": (1, False), "e2": (2, False), "e3": (3, True), "e65537": (65537, True)}
    for name, (e, ok) in cases.items():
        path = os.path.join(s.root, "conf", f"{name}.pub")
        s.write_file(path, rsa_public_pem(n, e))
        rc, out = s.configtest(config=f'AuthJWTVerifyKey RS256 "file:{path}"\n')
        if ok:
            assert rc == 0, f"e={e}: {out}"
            continue
        assert rc != 0, f"configtest passed with an RSA key of exponent {e}"
        for words in ("AuthJWTVerifyKey", path, f"public exponent {e}", "odd and at least 3"):
            assert words in out, f"e={e}: message lacks {words!r}:\n{out}"


def test_pem_as_hmac_secret_fails_configtest(httpd_factory):
    s = httpd_factory("pem-secret", signing_key=False)
    rs = rsa_key(s, "rs")
    for directive in ("AuthJWTVerifyKey HS256", "AuthJWTSigningKey HS512"):
        rc, out = s.configtest(config=f'{directive} "file:{rs.pub_path}"\n')
        assert rc != 0, f"configtest passed with a PEM public key as `{directive}` secret"
        for words in (directive.split()[0], rs.pub_path, "PEM", "RS256/HS256 confusion"):
            assert words in out, f"message lacks {words!r}:\n{out}"
        assert "MII" not in out            # never the key's text


def test_duplicate_kid_fails_configtest(httpd_factory):
    s = httpd_factory("dup-kid", signing_key=False)
    p256 = ec_key(s, "p256")
    cases = [
        (f'AuthJWTVerifyKey HS256 "file:{s.secret_path}" kid=k1\n'
         f'AuthJWTVerifyKey HS512 "file:{s.secret_path}" kid=k1\n', ["'k1'", "already used"]),
        (f'AuthJWTVerifyKey HS256 "file:{s.secret_path}" kid=k1\n'
         f'AuthJWTVerifyKey ES256 "file:{p256.pub_path}" kid=k1\n',
         ["'k1'", "an HMAC secret", "an EC key"]),
    ]
    for config, words in cases:
        rc, out = s.configtest(config=config)
        assert rc != 0, f"configtest passed with:\n{config}"
        for w in ["AuthJWTVerifyKey"] + words:
            assert w in out, f"message lacks {w!r}:\n{out}"
    # keys without kid, distinct kids, and one kid per section are fine
    rc, out = s.configtest(config=(
        f'AuthJWTVerifyKey HS256 "file:{s.secret_path}"\n'
        f'AuthJWTVerifyKey HS512 "file:{s.secret_path}"\n'
        f'AuthJWTVerifyKey ES256 "file:{p256.pub_path}" kid=k1\n'
        f'<Location /inner>\n'
        f'    AuthJWTVerifyKey HS256 "file:{s.secret_path}" kid=k1\n'
        f'</Location>\n'))
    assert rc == 0, out


def test_readable_secret_file_warns(httpd_factory):
    s = httpd_factory("secret-mode", signing_key=False)
    shared = os.path.join(s.root, "conf", "shared.key")
    s.write_file(shared, s.secret, mode=0o644)
    s.config = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + \
        f'AuthJWTSigningKey HS256 "file:{shared}"\n'
    # configtest shows it at once
    rc, out = s.configtest()
    assert rc == 0, out
    assert "AJ302" in out and shared in out and "readable by group and others" in out, out
    s.start()
    log = s.error_log.read_all()
    warn = [ln for ln in log.splitlines() if "AJ303" in ln]
    assert len(warn) == 1, "want one AJ303 warning for a world-readable secret:\n" + log[-2000:]
    assert ":warn]" in warn[0] and shared in warn[0] and "AuthJWTSigningKey" in warn[0], warn
    assert s.secret.decode() not in log
    # the server works as before
    name, pw, _ = pyhttpd.register(s)
    assert resource(s, pyhttpd.get_token(s, name, pw)).status == 200
    # owner-only: no warning after a graceful restart
    os.chmod(shared, 0o600)
    s.error_log.mark()
    s.graceful()
    assert "AJ303" not in s.error_log.read_since_mark()
