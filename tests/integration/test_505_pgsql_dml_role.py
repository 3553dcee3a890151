"""A PostgreSQL role with DML rights only (docs/deployment.md, "N nodes with
PostgreSQL", Privileges): the schema block of that page, run as it is
written there by the superuser, is complete; a node whose role cannot create
anything then registers, logs in, refreshes, renews and logs out with no DDL
and no error.

The block is read from docs/deployment.md itself, so the page cannot fall
behind the schema the store makes (a missing object would make the node try
to create it, which this role cannot: every request of the store answers
503).  A throwaway cluster like test_500_pgsql.py's, skipped with its reason
when PostgreSQL or apr-util's pgsql driver is missing."""

import os
import re
import textwrap

import pytest

import pgcluster
import pyhttpd
from test_147_refresh import REFRESH_PATH, login, refresh_location, rotate
# pg: test_500's module-scoped fixture (a cluster of this module's own)
from test_500_pgsql import node_config, pg  # noqa: F401

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                   "deployment.md")
DML_DB = "ajdml"


def doc_schema_sql():
    """The ```sql block after "To run with DML rights only" in the page."""
    with open(DOC) as f:
        text = f.read()
    at = text.index("To run with DML rights only")
    m = re.search(r"```sql\n(.*?)```", text[at:], re.S)
    assert m, "docs/deployment.md: no ```sql block after 'To run with DML rights only'"
    return textwrap.dedent(m.group(1))


@pytest.fixture(scope="module")
def dml_conninfo(pg):
    """A database owned by the superuser, made with the page's block; the
    tests' role gets what the block grants `authjwt` and nothing else."""
    sql = doc_schema_sql()
    assert " TO authjwt;" in sql
    pg.psql(f"CREATE DATABASE {DML_DB} OWNER postgres", db="postgres")
    pg.psql(sql.replace(" TO authjwt;", f" TO {pg.user};"), db=DML_DB)
    return pg.conninfo.replace(f"dbname={pg.dbname}", f"dbname={DML_DB}")


@pytest.fixture(scope="module")
def node(env, pg, dml_conninfo, extra_servers):
    if not env.module_built():
        pytest.fail(f"{env.module_path} is not built: run `make` first", pytrace=False)
    s = pyhttpd.Httpd(env, "pgsql-dml-role", dbd_driver="pgsql", dbd_params=dml_conninfo,
                      signing_key=False)
    s.config = (node_config(s.secret_path) + "AuthJWTRefreshLifetime 3600\n"
                + refresh_location(REFRESH_PATH))
    extra_servers.append(s)
    with pyhttpd.running([s]):
        yield s


def test_the_role_cannot_create(pg, dml_conninfo):
    """The premise: without the page's block this role could not make the
    schema (PostgreSQL 15: no CREATE on public for a role that does not own
    the database)."""
    with pytest.raises(pgcluster.PgError):
        pg.psql("CREATE TABLE aj_probe (x INT)", db=DML_DB, user=pg.user)


def dml_value(pg, sql):
    rows = pg.psql(sql, db=DML_DB)
    return rows[0][0] if rows else None


def test_node_works_with_dml_rights_only(node, pg):
    node.error_log.mark()
    user = pyhttpd.register(node, pyhttpd.unique_name("dml-"))
    r = node.get("/api/resource", headers={"Authorization": "Bearer x.y.z"})
    assert r.status == 401, r   # the revocation table loaded: tokens are judged
    body = login(node, user)
    assert body.get("refresh_token"), body
    new = rotate(node, body["refresh_token"], body["token"])
    bearer = {"Authorization": "Bearer " + new["token"]}
    r = node.get("/api/resource", headers=bearer)
    assert r.status == 200, r
    r = node.post("/api/token", headers=bearer)
    assert r.status == 200, r
    r = node.post("/auth/logout", headers=bearer)
    assert r.status == 200, r
    r = node.get("/api/resource", headers=bearer)
    assert r.status == 401, r
    # the writes are in the page's tables
    assert dml_value(pg, f"SELECT count(*) FROM users WHERE username = '{user[0]}'") == "1"
    assert int(dml_value(pg, "SELECT count(*) FROM refresh_tokens")) == 2
    assert int(dml_value(pg, "SELECT count(*) FROM revoked_tokens")) >= 1
    bad = pyhttpd.ErrorLog.bad_lines(node.error_log.read_since_mark())
    assert not bad, "\n".join(bad[:10])
