"""AuthJWTClaimHeader and AuthJWTUserClaim mistakes fail configtest, naming
the directive (docs/reference.md §11); each has a good twin that passes."""

import pytest

# (id, bad directives, good twin)
CASES = [
    ("header-space", 'AuthJWTClaimHeader email "X Email"', "AuthJWTClaimHeader email X-Email"),
    ("header-colon", "AuthJWTClaimHeader email X-Email:", "AuthJWTClaimHeader email X-Email"),
    ("header-slash", "AuthJWTClaimHeader email X/Email", "AuthJWTClaimHeader email X_Email"),
    ("header-empty", 'AuthJWTClaimHeader email ""', "AuthJWTClaimHeader email X-Email"),
    ("claim-empty", 'AuthJWTClaimHeader "" X-Email', "AuthJWTClaimHeader email X-Email"),
    ("one-argument", "AuthJWTClaimHeader email", "AuthJWTClaimHeader email X-Email"),
    ("authorization", "AuthJWTClaimHeader sub Authorization", "AuthJWTClaimHeader sub X-Sub"),
    ("proxy-authorization", "AuthJWTClaimHeader sub proxy_authorization",
     "AuthJWTClaimHeader sub X-Sub"),
    ("cookie", "AuthJWTClaimHeader sub COOKIE", "AuthJWTClaimHeader sub X-Sub"),
    ("host", "AuthJWTClaimHeader sub Host", "AuthJWTClaimHeader sub X-Host"),
    ("content-length", "AuthJWTClaimHeader sub Content_Length", "AuthJWTClaimHeader sub X-Sub"),
    ("transfer-encoding", "AuthJWTClaimHeader sub transfer-encoding",
     "AuthJWTClaimHeader sub X-Sub"),
    ("csrf-header", "AuthJWTClaimHeader csrf X-CSRF-Token", "AuthJWTClaimHeader csrf X-Csrf"),
    ("same-header-twice", "AuthJWTClaimHeader sub X-User\nAuthJWTClaimHeader name x_user",
     "AuthJWTClaimHeader sub X-User\nAuthJWTClaimHeader name X-Name"),
    ("user-claim-empty", 'AuthJWTUserClaim ""', "AuthJWTUserClaim email"),
    ("user-claim-two", "AuthJWTUserClaim email sub", "AuthJWTUserClaim email"),
]


def _run(httpd_factory, snippet, where):
    s = httpd_factory()
    body = snippet if where == "server" else f"<Location /x>\n{snippet}\n</Location>\n"
    rc, out = s.configtest(config=body)
    return rc, out + s.error_log.read_all()


@pytest.mark.parametrize("where", ["server", "location"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_fails_good_passes(httpd_factory, case, where):
    _, bad, good = case
    name = bad.split()[0]
    rc, out = _run(httpd_factory, bad, where)
    assert rc != 0, f"configtest passed with `{bad}` ({where}):\n{out}"
    assert name in out, f"message does not name {name}:\n{out}"
    rc, out = _run(httpd_factory, good, where)
    assert rc == 0, f"good twin `{good}` ({where}) failed:\n{out}"


def test_same_header_in_nested_sections_passes(httpd_factory):
    """The duplicate rule is per section: an inner section may name the header again."""
    rc, out = httpd_factory().configtest(config=(
        "<Location /a>\nAuthJWTClaimHeader sub X-User\n</Location>\n"
        "<Location /a/b>\nAuthJWTClaimHeader email X-User\n</Location>\n"))
    assert rc == 0, out
