"""Miguel Grinberg's REST-auth transcript, end to end, against the demo-like
API (register miguel/python, Basic to /api/resource, wrong password, token,
token as the Basic username, GET /api/users/1)."""

import pytest

import pyhttpd

HTTPD_CONFIG = pyhttpd.API_CONFIG   # default bcrypt cost, min length 6 as in the demo


@pytest.mark.fresh_server
@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_rest_auth_transcript(httpd):
    # $ curl -i -X POST -H "Content-Type: application/json"
    #        -d '{"username":"miguel","password":"python"}' .../api/users
    r = httpd.post("/api/users", json_body={"username": "miguel", "password": "python"})
    assert r.status == 201, r
    assert r.header("Content-Type").startswith("application/json")
    assert r.header("Location") in ("/api/users/1", f"{httpd.url}/api/users/1")
    assert r.json() == {"username": "miguel", "id": 1}

    # $ curl -u miguel:python -i -X GET .../api/resource
    r = httpd.get("/api/resource", auth=("miguel", "python"))
    assert r.status == 200, r
    assert r.header("Content-Type") == "application/json"
    assert r.json() == {"data": "Hello, miguel!"}

    # $ curl -u miguel:ruby -i -X GET .../api/resource
    r = httpd.get("/api/resource", auth=("miguel", "ruby"))
    assert r.status == 401, r
    assert "miguel" not in r.text and "ruby" not in r.text

    # $ curl -u miguel:python -i -X GET .../api/token
    r = httpd.get("/api/token", auth=("miguel", "python"))
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("application/json")
    assert r.header("Cache-Control") == "no-store"
    body = r.json()
    assert set(body) == {"token", "duration", "token_type", "expires_in"}
    assert body["duration"] == 600
    assert body["expires_in"] == 600
    assert body["token_type"] == "Bearer"
    token = body["token"]
    assert token.count(".") == 2

    # $ curl -u <token>:unused -i -X GET .../api/resource
    r = httpd.get("/api/resource", auth=(token, "unused"))
    assert r.status == 200, r
    assert r.json() == {"data": "Hello, miguel!"}

    # the same token as the REST-auth clients of today send it
    r = httpd.get("/api/resource", bearer=token)
    assert r.status == 200, r
    assert r.json() == {"data": "Hello, miguel!"}

    # $ curl -i -X GET .../api/users/1
    r = httpd.get("/api/users/1")
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("application/json")
    assert r.json() == {"username": "miguel", "id": 1}

    # nothing else there
    assert httpd.get("/api/users/2").status == 404

    # a second registration of the same name is refused
    r = httpd.post("/api/users", json_body={"username": "miguel", "password": "python"})
    assert r.status == 400, r
    assert set(r.json()) == {"error"}


def test_resource_without_credentials(httpd):
    r = httpd.get("/api/resource")
    assert r.status == 401, r
    assert sorted(r.header_all("WWW-Authenticate")) == \
        sorted(['Bearer realm="itest"', 'Basic realm="itest"'])


def test_default_min_length_refuses_python(httpd_factory):
    """Without the demo's AuthJWTPasswordMinLength 6, 'python' is too short (default 8)."""
    s = httpd_factory(config=pyhttpd.API_CONFIG.replace("AuthJWTPasswordMinLength 6", ""))
    s.start()
    r = s.post("/api/users", json_body={"username": "miguel", "password": "python"})
    assert r.status == 400, r
    assert set(r.json()) == {"error"}
    r = s.post("/api/users", json_body={"username": "miguel", "password": "python38"})
    assert r.status == 201, r
