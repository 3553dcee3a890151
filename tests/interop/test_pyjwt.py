"""The core against PyJWT (docs/reference.md §5: tokens issued here verify with PyJWT,
and tokens PyJWT signs with a configured key verify here), for every
algorithm: HS256/384/512 with secrets, RS/PS/ES/EdDSA with PEM keys.

Drives build/interop/aj_jwtcli (`make interop` builds it and sets AJ_JWTCLI).
"""
import json
import secrets
import time

import jwt
import pytest

from conftest import ASYM_ALGS, EC_SIG_LEN, claims, cli, core_verify

# RFC 7518 §3.2: the secret is at least as long as the hash output.
HMAC_ALGS = {"HS256": 32, "HS384": 48, "HS512": 64}


@pytest.fixture
def secret_file(tmp_path):
    """Writes an ASCII secret of n bytes (plus the newline editors add)."""
    def make(n, name="secret"):
        secret = secrets.token_hex(n)[:n]
        path = tmp_path / name
        path.write_text(secret + "\n")
        return secret.encode(), path
    return make


@pytest.mark.parametrize("alg", sorted(HMAC_ALGS))
def test_pyjwt_tokens_verify_here(alg, secret_file):
    secret, path = secret_file(HMAC_ALGS[alg])
    now = int(time.time())
    token = jwt.encode(claims(now, role="admin"), secret, algorithm=alg)
    assert core_verify(alg, path, token, now) == ("ok", 0)
    assert core_verify(alg, path, token, now + 600) == ("expired", 1)
    assert core_verify(alg, path, token, now - 1) == ("not_yet_valid", 1)


@pytest.mark.parametrize("alg", sorted(HMAC_ALGS))
def test_core_tokens_verify_in_pyjwt(alg, secret_file):
    secret, path = secret_file(HMAC_ALGS[alg])
    now = int(time.time())
    payload = claims(now, scope="read write", aud_note="a/b")
    r = cli("sign", alg, path, json.dumps(payload, separators=(",", ":")))
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert jwt.get_unverified_header(token) == {"alg": alg, "typ": "JWT"}
    got = jwt.decode(token, secret, algorithms=[alg], options={"require": ["exp"]})
    assert got == payload
    # PyJWT checks our signature for real: a changed payload fails there.
    head, body, sig = token.split(".")
    forged = jwt.utils.base64url_encode(
        json.dumps(dict(payload, sub="1"), separators=(",", ":")).encode()).decode()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(".".join([head, forged, sig]), secret, algorithms=[alg])


def test_core_token_without_exp_fails_pyjwt_require(secret_file):
    secret, path = secret_file(32)
    r = cli("sign", "HS256", path, '{"sub":"42"}')
    assert r.returncode == 0, r.stderr
    with pytest.raises(jwt.MissingRequiredClaimError):
        jwt.decode(r.stdout.strip(), secret, algorithms=["HS256"],
                   options={"require": ["exp"]})


def test_other_key_is_bad_sig(secret_file):
    _, path = secret_file(32, "configured")
    other, _ = secret_file(32, "other")
    now = int(time.time())
    token = jwt.encode(claims(now), other, algorithm="HS256")
    assert core_verify("HS256", path, token, now) == ("bad_sig", 1)


def test_alg_none_is_bad_alg(secret_file):
    _, path = secret_file(32)
    now = int(time.time())
    token = jwt.encode(claims(now), None, algorithm="none")
    assert token.endswith(".")
    assert core_verify("HS256", path, token, now) == ("bad_alg", 1)


def test_other_hmac_size_is_bad_alg(secret_file):
    secret, path = secret_file(64)
    now = int(time.time())
    token = jwt.encode(claims(now), secret, algorithm="HS512")
    assert core_verify("HS256", path, token, now) == ("bad_alg", 1)
    assert core_verify("HS512", path, token, now) == ("ok", 0)


def test_rs256_never_verified_with_hmac_secret(secret_file):
    from cryptography.hazmat.primitives.asymmetric import rsa
    _, path = secret_file(32)
    now = int(time.time())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(now), key, algorithm="RS256")
    assert core_verify("HS256", path, token, now) == ("bad_alg", 1)


def test_missing_exp_is_refused(secret_file):
    secret, path = secret_file(32)
    token = jwt.encode({"sub": "42"}, secret, algorithm="HS256")
    assert core_verify("HS256", path, token, int(time.time())) == ("missing_exp", 1)


def test_short_secret_refused_at_load(tmp_path):
    path = tmp_path / "short"
    path.write_text("x" * 31 + "\n")
    r = cli("verify", "HS256", path, "a.b.c", 0)
    assert r.returncode == 2
    assert "at least 32 bytes" in r.stderr
    assert "x" * 31 not in r.stderr


# ---- RS/PS/ES/EdDSA: PEM keys ------------------------------------------------


@pytest.mark.parametrize("alg", ASYM_ALGS)
def test_core_asym_tokens_verify_in_pyjwt(alg, asym_keys, other_keys):
    keys = asym_keys[alg]
    now = int(time.time())
    payload = claims(now, scope="read write")
    r = cli("sign", alg, keys.priv_path, json.dumps(payload, separators=(",", ":")), "k-" + alg)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert jwt.get_unverified_header(token) == {"alg": alg, "typ": "JWT", "kid": "k-" + alg}
    sig = jwt.utils.base64url_decode(token.split(".")[2])
    if alg in EC_SIG_LEN:
        assert len(sig) == EC_SIG_LEN[alg]      # JOSE R||S, not DER
    assert jwt.decode(token, keys.public, algorithms=[alg],
                      options={"require": ["exp"]}) == payload
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other_keys[alg].public, algorithms=[alg])


@pytest.mark.parametrize("alg", ASYM_ALGS)
def test_pyjwt_asym_tokens_verify_here(alg, asym_keys, other_keys):
    keys = asym_keys[alg]
    now = int(time.time())
    token = jwt.encode(claims(now, role="admin"), keys.private, algorithm=alg,
                       headers={"kid": "py"})
    # by the public key, by the public key with the token's kid, and by the
    # private key file given as a verify key
    assert core_verify(alg, keys.pub_path, token, now) == ("unknown_kid", 1)   # kid "py" unknown
    r = cli("verify", alg, keys.pub_path, token, now, "py")
    assert (r.stdout.strip(), r.returncode) == ("ok", 0), r.stderr
    token = jwt.encode(claims(now), keys.private, algorithm=alg)
    assert core_verify(alg, keys.pub_path, token, now) == ("ok", 0)
    assert core_verify(alg, keys.priv_path, token, now) == ("ok", 0)
    assert core_verify(alg, keys.pub_path, token, now + 600) == ("expired", 1)
    assert core_verify(alg, other_keys[alg].pub_path, token, now) == ("bad_sig", 1)
    head, body, sig = token.split(".")
    forged = jwt.utils.base64url_encode(
        json.dumps(dict(claims(now), sub="1"), separators=(",", ":")).encode()).decode()
    assert core_verify(alg, keys.pub_path, ".".join([head, forged, sig]), now) == ("bad_sig", 1)


def test_pyjwt_rs256_not_taken_by_ps256_key(asym_keys):
    keys = asym_keys["RS256"]
    now = int(time.time())
    token = jwt.encode(claims(now), keys.private, algorithm="RS256")
    assert core_verify("PS256", keys.pub_path, token, now) == ("bad_alg", 1)
    forged = token.replace(token.split(".")[0], jwt.utils.base64url_encode(
        b'{"alg":"PS256","typ":"JWT"}').decode(), 1)
    assert core_verify("PS256", keys.pub_path, forged, now) == ("bad_sig", 1)


def test_signing_needs_private_key(asym_keys):
    r = cli("sign", "ES256", asym_keys["ES256"].pub_path, '{"sub":"1"}')
    assert r.returncode == 2
    assert "not a private key" in r.stderr
