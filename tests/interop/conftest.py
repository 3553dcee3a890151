"""Shared fixtures of the interoperability tests: the core's CLI and one
key pair per asymmetric algorithm (PEM files: PKCS#8 private, SPKI public)."""
import os
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
CLI = os.environ.get("AJ_JWTCLI",
                     os.path.join(HERE, "..", "..", "build", "interop", "aj_jwtcli"))

ASYM_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
             "ES256", "ES384", "ES512", "EdDSA"]
# RFC 7518 §3.4: the JOSE R||S size per curve.
EC_SIG_LEN = {"ES256": 64, "ES384": 96, "ES512": 132}
EC_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}


def cli(*args):
    return subprocess.run([CLI, *[str(a) for a in args]], capture_output=True, text=True,
                          timeout=30)


def claims(now, **extra):
    """The payload both directions of every interop test sign."""
    return {"sub": "42", "name": "alice", "iat": now, "nbf": now, "exp": now + 600, **extra}


def core_verify(alg, path, token, now):
    """The core's verdict on token: (stdout, exit code 0 valid / 1 refused)."""
    r = cli("verify", alg, path, token, now)
    assert r.returncode in (0, 1), r.stderr
    return r.stdout.strip(), r.returncode


class KeyPair:
    def __init__(self, alg, private, directory, tag=""):
        self.alg = alg
        self.private = private
        self.public = private.public_key()
        self.priv_path = os.path.join(directory, f"{alg}{tag}.key")
        self.pub_path = os.path.join(directory, f"{alg}{tag}.pub")
        with open(self.priv_path, "wb") as f:
            f.write(private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
        with open(self.pub_path, "wb") as f:
            f.write(self.public.public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo))


def new_private(alg, rsa_key):
    if alg.startswith(("RS", "PS")):
        return rsa_key
    if alg in EC_CURVES:
        return ec.generate_private_key(EC_CURVES[alg]())
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def asym_keys(tmp_path_factory):
    """alg -> KeyPair; the six RSA algorithms share one 2048-bit key."""
    d = str(tmp_path_factory.mktemp("keys"))
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {alg: KeyPair(alg, new_private(alg, rsa_key), d) for alg in ASYM_ALGS}


@pytest.fixture(scope="session")
def other_keys(tmp_path_factory):
    """Another key pair per algorithm: a stranger's key."""
    d = str(tmp_path_factory.mktemp("other"))
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {alg: KeyPair(alg, new_private(alg, rsa_key), d, "-other") for alg in ASYM_ALGS}
