"""The core against the npm `jose` package (docs/reference.md §5), every algorithm, both
directions: the core mints and jose verifies (algorithm pinned, exp
required); jose mints and the core verifies.

jose is installed by `make interop` (npm ci --prefix tests, from the
committed tests/package.json and package-lock.json) and driven through
tests/interop/jose_cli.mjs with Node.
"""
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import ASYM_ALGS, HERE, claims, cli, core_verify

JOSE_CLI = os.path.join(HERE, "jose_cli.mjs")
NODE = shutil.which("node") or shutil.which("nodejs")
JOSE_DIR = os.path.join(HERE, "..", "node_modules", "jose")
HMAC_ALGS = {"HS256": 32, "HS384": 48, "HS512": 64}

pytestmark = pytest.mark.skipif(
    NODE is None or not os.path.isdir(JOSE_DIR),
    reason="node or tests/node_modules/jose missing: run `make interop`")


def jose(*args):
    r = subprocess.run([NODE, JOSE_CLI, *[str(a) for a in args]], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode in (0, 1), r.stderr
    return r.stdout.strip(), r.returncode


@pytest.mark.parametrize("alg", ASYM_ALGS)
def test_core_tokens_verify_in_jose(alg, asym_keys, other_keys):
    keys = asym_keys[alg]
    now = int(time.time())
    payload = claims(now, scope="read write")
    r = cli("sign", alg, keys.priv_path, json.dumps(payload, separators=(",", ":")), "k1")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    out, rc = jose("verify", alg, keys.pub_path, token)
    assert rc == 0, out
    got = json.loads(out)
    assert got["payload"] == payload
    assert got["header"] == {"alg": alg, "typ": "JWT", "kid": "k1"}
    # jose checked the signature for real
    assert jose("verify", alg, other_keys[alg].pub_path, token) == \
        ("ERR_JWS_SIGNATURE_VERIFICATION_FAILED", 1)


@pytest.mark.parametrize("alg", ASYM_ALGS)
def test_jose_tokens_verify_here(alg, asym_keys, other_keys):
    keys = asym_keys[alg]
    now = int(time.time())
    out, rc = jose("sign", alg, keys.priv_path, json.dumps(claims(now, role="admin")))
    assert rc == 0, out
    assert core_verify(alg, keys.pub_path, out, now) == ("ok", 0)
    assert core_verify(alg, keys.pub_path, out, now + 600) == ("expired", 1)
    assert core_verify(alg, other_keys[alg].pub_path, out, now) == ("bad_sig", 1)
    # with a kid: the configured key must carry it
    out, rc = jose("sign", alg, keys.priv_path, json.dumps(claims(now)), "j1")
    assert rc == 0, out
    r = cli("verify", alg, keys.pub_path, out, now, "j1")
    assert (r.stdout.strip(), r.returncode) == ("ok", 0), r.stderr
    assert core_verify(alg, keys.pub_path, out, now) == ("unknown_kid", 1)


@pytest.mark.parametrize("alg", sorted(HMAC_ALGS))
def test_hmac_both_directions(alg, tmp_path):
    path = tmp_path / "secret"
    path.write_text(os.urandom(HMAC_ALGS[alg]).hex()[:HMAC_ALGS[alg]] + "\n")
    other = tmp_path / "other"
    other.write_text("x" * HMAC_ALGS[alg] + "\n")
    now = int(time.time())
    payload = claims(now)
    r = cli("sign", alg, path, json.dumps(payload, separators=(",", ":")))
    assert r.returncode == 0, r.stderr
    out, rc = jose("verify", alg, path, r.stdout.strip())
    assert rc == 0, out
    assert json.loads(out)["payload"] == payload
    assert jose("verify", alg, other, r.stdout.strip())[1] == 1
    out, rc = jose("sign", alg, path, json.dumps(payload))
    assert rc == 0, out
    assert core_verify(alg, path, out, now) == ("ok", 0)
    assert core_verify(alg, other, out, now) == ("bad_sig", 1)


def test_jose_alg_none_refused(asym_keys):
    """An unsecured JWT (jose's UnsecuredJWT, alg none) is never accepted."""
    import base64
    now = int(time.time())
    b64 = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
    token = b64({"alg": "none"}) + "." + b64(claims(now)) + "."
    assert core_verify("ES256", asym_keys["ES256"].pub_path, token, now) == ("bad_alg", 1)
