"""Refresh tokens on PostgreSQL (docs/reference.md §12; issue #17): one
refresh token raced by 20 clients on one node and on two nodes sharing the
store gives exactly one 200; a reuse detected on node A gets the family's
access tokens refused on node B within AuthJWTRevocationRefresh.

A throwaway cluster like test_500_pgsql.py's (skipped with its reason when
PostgreSQL or apr-util's pgsql driver is missing) and two harness servers A
and B with `DBDriver pgsql`, one DBDParams and one signing key.  The race
counts go to build/race-results.txt beside SQLite's (test_147)."""

import types

import pytest

import pyhttpd
from test_147_refresh import (ERR_REUSED, ERR_WINNER, RACE_N, REFRESH_PATH, check_race,
                              check_refused,
                              record_race, race_refresh, refresh, refresh_location, login,
                              rotate, token_hash)
# pg: test_500's module-scoped fixture (a cluster of this module's own)
from test_500_pgsql import REFRESH, node_config, pg, refused, wait_refused  # noqa: F401

REFRESH_LIFETIME = 3600


def refresh_node_config(key_path):
    return (node_config(key_path) + f"AuthJWTRefreshLifetime {REFRESH_LIFETIME}\n"
            + refresh_location(REFRESH_PATH))


@pytest.fixture(scope="module")
def nodes(env, pg, extra_servers):
    if not env.module_built():
        pytest.fail(f"{env.module_path} is not built: run `make` first", pytrace=False)
    a = pyhttpd.Httpd(env, "pgsql-refresh-a", dbd_driver="pgsql", dbd_params=pg.conninfo,
                      signing_key=False)
    a.config = refresh_node_config(a.secret_path)     # one HS256 secret for both
    b = pyhttpd.Httpd(env, "pgsql-refresh-b", config=refresh_node_config(a.secret_path),
                      dbd_driver="pgsql", dbd_params=pg.conninfo, signing_key=False)
    servers = [a, b]
    extra_servers.extend(servers)
    with pyhttpd.running(servers):
        yield types.SimpleNamespace(a=a, b=b, all=servers)


@pytest.fixture(autouse=True)
def node_logs(nodes, check_logs):
    """Error-level lines a test writes to either node's error log fail it
    (like conftest's httpd fixture); a failing test shows A's tail."""
    check_logs(*nodes.all)


@pytest.fixture
def user(nodes):
    return pyhttpd.register(nodes.a, pyhttpd.unique_name("pgrefresh-"))


def family_revoked(pg, access):
    sid = pyhttpd.token_claims(access)["sid"]
    return pg.scalar(f"SELECT revoked_at IS NOT NULL FROM refresh_families "
                     f"WHERE family = '{sid}'") == "t"


def test_rotation_stores_only_the_hash(nodes, pg, user):
    body = login(nodes.a, user)
    new = rotate(nodes.b, body["refresh_token"], body["token"])
    sid = pyhttpd.token_claims(body["token"])["sid"]
    rows = pg.psql(f"SELECT hash, used_at IS NOT NULL FROM refresh_tokens "
                   f"WHERE family = '{sid}' ORDER BY used_at NULLS LAST")
    assert rows == [[token_hash(body["refresh_token"]), "t"],
                    [token_hash(new["refresh_token"]), "f"]], rows
    dump = pg.psql("SELECT hash || family FROM refresh_tokens")
    assert not any(body["refresh_token"] in r[0] or new["refresh_token"] in r[0]
                   for r in dump)


@pytest.mark.parametrize("spread", ["one-node", "two-nodes"])
def test_race_one_token_one_winner(nodes, pg, user, capsys, spread):
    """RACE_N concurrent refreshes of one token, all to A or half to each
    node: exactly one 200; the rest are reuses, so the family is revoked and
    the winner's tokens are refused on both nodes."""
    body = login(nodes.a, user)
    targets = [nodes.a] * RACE_N if spread == "one-node" else [nodes.a, nodes.b] * (RACE_N // 2)
    results = race_refresh(targets, body["refresh_token"])
    driver = "pgsql" if spread == "one-node" else "pgsql-two-nodes"
    record_race(capsys, driver, [r.status for r in results])
    winner = check_race(results)
    assert family_revoked(pg, body["token"])
    for s in nodes.all:
        check_refused(refresh(s, winner["refresh_token"]), 401, ERR_WINNER)
    wait_refused(nodes.all, winner["token"], REFRESH + 1.5)


def test_reuse_on_a_refused_on_b_within_the_refresh(nodes, pg, user, capsys):
    a, b = nodes.a, nodes.b
    body = login(b, user)
    bystander = login(b, user)
    new = rotate(b, body["refresh_token"], body["token"])
    for s in nodes.all:
        assert s.get("/api/resource", bearer=new["token"]).status == 200
    check_refused(refresh(a, body["refresh_token"]), 401, ERR_REUSED)
    assert refused(a.get("/api/resource", bearer=new["token"]))       # at once on A
    # the store is shared: B refuses the family's refresh token at once
    check_refused(refresh(b, new["refresh_token"]), 401, ERR_REUSED)
    took = wait_refused([b], new["token"], REFRESH + 1.5)
    with capsys.disabled():
        print(f"\n    [pgsql] reuse on A: the family's access token refused on B after "
              f"{took[b]:.2f} s (AuthJWTRevocationRefresh {REFRESH} s)", flush=True)
    assert refused(b.get("/api/resource", bearer=body["token"]))
    for s in nodes.all:
        assert s.get("/api/resource", bearer=bystander["token"]).status == 200
    rotate(a, bystander["refresh_token"], bystander["token"])
