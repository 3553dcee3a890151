#!/usr/bin/python3
"""Writes the seed corpora of tests/fuzz/ (run once; the output is committed).

jws:   a token per algorithm and test key (with and without kid), valid at the
       harness's fixed clock, plus a few classic refusals (alg none, HS/RS
       confusion, crit, duplicate keys, deep nesting, padding).
json:  handler request bodies, well-formed and not.
basic: Basic credential values (user:password, a token as the username).
"""
import base64
import hashlib
import json
import os

import jwt  # PyJWT, a test dependency (tools/packages.txt)

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "keys")
NOW = 1700000000
CLAIMS = {"sub": "42", "name": "alice", "iat": NOW - 10, "nbf": NOW - 10,
          "exp": NOW + 600, "auth_time": NOW - 10, "jti": "seed-jti",
          "iss": "https://fuzz.example", "aud": "fuzz-aud",
          "role": "admin", "scope": "read write", "groups": [1, "two", True],
          "nested": {"a": [1, {"b": None}]}}

ALGS = [("HS256", "hs256.key"), ("HS384", "hs384.key"), ("HS512", "hs512.key"),
        ("RS256", "rsa.pem"), ("RS384", "rsa.pem"), ("RS512", "rsa.pem"),
        ("PS256", "rsa.pem"), ("PS384", "rsa.pem"), ("PS512", "rsa.pem"),
        ("ES256", "ec256.pem"), ("ES384", "ec384.pem"), ("ES512", "ec521.pem"),
        ("EdDSA", "ed25519.pem")]


def b64u(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def write(corpus, name, data):
    d = os.path.join(HERE, "corpus", corpus)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for alg, fn in ALGS:
        with open(os.path.join(KEYS, fn), "rb") as f:
            key = f.read()
        kid = alg.lower()
        write("jws", f"{kid}-kid", jwt.encode(CLAIMS, key, algorithm=alg, headers={"kid": kid}))
        write("jws", f"{kid}-nokid", jwt.encode(CLAIMS, key, algorithm=alg))
    with open(os.path.join(KEYS, "hs256.key"), "rb") as f:
        hs = f.read()
    with open(os.path.join(KEYS, "rsa.pem"), "rb") as f:
        rsa_pem = f.read()

    def hs256(header, payload):
        h = header if isinstance(header, str) else json.dumps(header)
        p = payload if isinstance(payload, str) else json.dumps(payload)
        si = b64u(h) + "." + b64u(p)
        import hmac
        return si + "." + b64u(hmac.new(hs, si.encode(), hashlib.sha256).digest())

    write("jws", "none", b64u('{"alg":"none"}') + "." + b64u(json.dumps(CLAIMS)) + ".")
    # HS256 "signed" with the RSA public key text (algorithm confusion)
    import hmac
    si = b64u('{"alg":"HS256","kid":"rs256"}') + "." + b64u(json.dumps(CLAIMS))
    write("jws", "confusion", si + "." + b64u(hmac.new(rsa_pem, si.encode(),
                                                        hashlib.sha256).digest()))
    write("jws", "crit", hs256({"alg": "HS256", "crit": ["exp"]}, CLAIMS))
    write("jws", "dupkey", hs256('{"alg":"HS256","alg":"none"}', CLAIMS))
    write("jws", "deep", hs256({"alg": "HS256"}, '{"exp":1,"x":' + "[" * 40 + "]" * 40 + "}"))
    write("jws", "expired", hs256({"alg": "HS256"}, dict(CLAIMS, exp=NOW - 100)))
    write("jws", "noexp", hs256({"alg": "HS256"}, {k: v for k, v in CLAIMS.items()
                                                   if k != "exp"}))
    write("jws", "padded", hs256({"alg": "HS256"}, CLAIMS) + "==")
    write("jws", "escapes", hs256({"alg": "HS\\u0032\\u00356"}, '{"exp":1800000000,'
                                  '"name":"\\u0000\\ud83d\\ude00\\uDFFF","sub":"1"}'))

    bodies = {
        "register": {"username": "miguel", "password": "python"},
        "password": {"old_password": "python", "new_password": "python3!"},
        "claims": {"role": "admin", "scope": "read write", "sub": "override", "exp": 1},
        "types": {"username": 1, "password": ["x"], "n": None, "t": True, "f": 1.5e300},
        "unicode": {"username": "\u00e9l\u00e8ve\U0001F600", "password": "p\u0000w"},
    }
    for name, body in bodies.items():
        write("json", name, json.dumps(body))
    write("json", "dup", '{"username":"a","username":"b","password":"x"}')
    write("json", "dup-escaped", '{"username":"a","user\\u006eame":"b"}')
    write("json", "deep", '{"a":' + "[" * 33 + "]" * 33 + "}")
    write("json", "sql", json.dumps({"username": "x' OR '1'='1", "password": "'; DROP TABLE users;--"}))
    write("json", "badutf8", b'{"username":"\xff\xfe","password":"\xc0\xaf"}')
    write("json", "trailing", '{"username":"a"} {}')

    def basic(s):
        return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()
    tok = jwt.encode(CLAIMS, hs, algorithm="HS256")
    for name, val in {"userpw": basic("miguel:python"), "nopad": basic("ab:c").rstrip("="),
                      "token": basic(tok + ":x"), "nocolon": basic("miguel"),
                      "nul": basic(b"a\0:b"), "colons": basic("a:b:c:"),
                      "utf8": basic("\u00e9:\u00e8"), "garbage": "@@@@", "pad3": "QQ==="}.items():
        write("basic", name, val)


if __name__ == "__main__":
    main()
