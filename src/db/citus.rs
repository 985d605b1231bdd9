//! Citus (docs/scaling.md, section 3): preparing a database on a coordinator, where each
//! province's schema lives, and moving one while it is served. Every province is a
//! distributed schema placed whole on one worker; the control plane stays coordinator-local.

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Bool, Int4, Text};

use super::quote_ident;

/// A worker node, `host:port`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, QueryableByName)]
pub struct Node {
    #[diesel(sql_type = Text)]
    pub host: String,
    #[diesel(sql_type = Int4)]
    pub port: i32,
}

impl Node {
    pub fn parse(s: &str) -> Result<Node, String> {
        let bad = || format!("{s:?} is not a node: write host:port (e.g. 10.0.0.5:5432)");
        let (host, port) = s.trim().rsplit_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        if host.is_empty() || host.contains(['/', '@', ' ']) {
            return Err(bad());
        }
        Ok(Node {
            host: host.to_string(),
            port: i32::from(port),
        })
    }
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// Whether this database runs Citus (the extension is there).
pub fn is_citus(conn: &mut PgConnection) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Bool)]
        on: bool,
    }
    sql_query("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') AS on")
        .get_result::<Found>(conn)
        .map(|f| f.on)
}

/// `url` with its host and port replaced by `node`'s (same user, database and options).
pub fn url_at(url: &str, node: &Node) -> Option<String> {
    let after_scheme = url.find("://")? + 3;
    let end = after_scheme + url[after_scheme..].find('/')?;
    let authority = &url[after_scheme..end];
    let user = authority.rfind('@').map_or("", |at| &authority[..=at]);
    Some(format!(
        "{}{user}{node}{}",
        &url[..after_scheme],
        &url[end..]
    ))
}

/// Prepares the database `url` names (on the coordinator) for Citus, idempotently: the
/// extension on each worker and on the coordinator (both are per database), the coordinator's
/// own address, and every worker registered. Needs a superuser. Returns what it changed.
pub fn ensure(
    url: &str,
    coordinator: Option<&Node>,
    workers: &[Node],
) -> Result<Vec<String>, String> {
    let mut done = Vec::new();
    for w in workers {
        let at = url_at(url, w).ok_or("the database URL must name a host and a database")?;
        let mut conn = PgConnection::establish(&at).map_err(|e| format!("worker {w}: {e}"))?;
        if !is_citus(&mut conn).map_err(|e| format!("worker {w}: {e}"))? {
            sql_query("CREATE EXTENSION IF NOT EXISTS citus")
                .execute(&mut conn)
                .map_err(|e| format!("worker {w}: {e}"))?;
            done.push(format!("citus extension on {w}"));
        }
    }
    let mut conn = PgConnection::establish(url).map_err(|e| format!("coordinator: {e}"))?;
    let q = |conn: &mut PgConnection, sql: &str| {
        sql_query(sql)
            .execute(conn)
            .map(|_| ())
            .map_err(|e| format!("{sql}: {e}"))
    };
    if !is_citus(&mut conn).map_err(|e| e.to_string())? {
        q(&mut conn, "CREATE EXTENSION IF NOT EXISTS citus")?;
        done.push("citus extension on the coordinator".into());
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::Int8)]
        n: i64,
    }
    let known = |conn: &mut PgConnection, sql: &str, node: Option<&Node>| -> Result<bool, String> {
        let query = sql_query(sql);
        let found = match node {
            Some(n) => query
                .bind::<Text, _>(&n.host)
                .bind::<Int4, _>(n.port)
                .get_result::<Count>(conn),
            None => query.get_result::<Count>(conn),
        };
        found.map(|c| c.n > 0).map_err(|e| e.to_string())
    };
    if let Some(c) = coordinator
        && !known(
            &mut conn,
            "SELECT count(*) AS n FROM pg_dist_node WHERE groupid = 0",
            None,
        )?
    {
        sql_query("SELECT citus_set_coordinator_host($1, $2)")
            .bind::<Text, _>(&c.host)
            .bind::<Int4, _>(c.port)
            .execute(&mut conn)
            .map_err(|e| format!("coordinator host {c}: {e}"))?;
        done.push(format!("coordinator is {c}"));
    }
    for w in workers {
        let sql = "SELECT count(*) AS n FROM pg_dist_node WHERE nodename = $1 AND nodeport = $2";
        if !known(&mut conn, sql, Some(w))? {
            sql_query("SELECT citus_add_node($1, $2)")
                .bind::<Text, _>(&w.host)
                .bind::<Int4, _>(w.port)
                .execute(&mut conn)
                .map_err(|e| format!("adding worker {w}: {e}"))?;
            done.push(format!("worker {w} registered"));
        }
    }
    Ok(done)
}

/// Citus opens a worker connection as the current role, so a province's role must be able to
/// log in there: LOGIN with no password (it cannot authenticate by password), and pg_hba on
/// each worker lets it in from the coordinator's address only (docs/scaling.md). Turns the
/// roles of provinces made before Citus into such roles. Returns how many changed.
pub fn tenant_roles_can_reach_workers(conn: &mut PgConnection) -> QueryResult<usize> {
    #[derive(QueryableByName)]
    struct Role {
        #[diesel(sql_type = Text)]
        role_name: String,
    }
    let roles: Vec<Role> = sql_query(
        "SELECT t.role_name FROM public.tenants t JOIN pg_roles r ON r.rolname = t.role_name \
         WHERE NOT r.rolcanlogin",
    )
    .load(conn)?;
    for r in &roles {
        sql_query(format!(
            "ALTER ROLE {} LOGIN PASSWORD NULL",
            quote_ident(&r.role_name)
        ))
        .execute(conn)?;
    }
    Ok(roles.len())
}

/// In the transaction provisioning `role` on Citus, before its schema exists: the tenant door
/// enters this one province without taking its role (see `db::tenant::enter`). Until
/// [`distribute`], the schema is an ordinary local one on the coordinator, where the whole
/// migration history runs as on one PostgreSQL (Citus refuses some of it on distributed tables,
/// e.g. `ADD COLUMN … CHECK`). Ends with the transaction.
pub fn begin_provisioning(conn: &mut PgConnection, role: &str) -> QueryResult<()> {
    sql_query("SELECT set_config('portal.provisioning_role', $1, true)")
        .bind::<Text, _>(role)
        .execute(conn)
        .map(|_| ())
}

/// Makes the provisioned schema a distributed schema (`citus_schema_distribute`): its tables
/// become single-shard tables colocated on one worker. Our triggers only check rows of their
/// own table or (not on Citus) notify, so Citus's "unsafe triggers" are allowed for it.
pub fn distribute(conn: &mut PgConnection, schema: &str) -> QueryResult<()> {
    sql_query("SELECT set_config('citus.enable_unsafe_triggers', 'on', true)").execute(conn)?;
    sql_query("SELECT citus_schema_distribute($1::regnamespace)")
        .bind::<Text, _>(quote_ident(schema))
        .execute(conn)
        .map(|_| ())
}

/// Gives the province's role every table, sequence and function of its schema that the
/// login role created while provisioning it (sequences owned by a column follow their table).
pub fn hand_over(conn: &mut PgConnection, schema: &str, role: &str) -> QueryResult<usize> {
    #[derive(QueryableByName)]
    struct Stmt {
        #[diesel(sql_type = Text)]
        sql: String,
    }
    let stmts: Vec<Stmt> = sql_query(
        "SELECT format('ALTER %s %s OWNER TO %I', kind, obj, $2) AS sql FROM ( \
           SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' \
                  WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END AS kind, \
                  c.oid::regclass::text AS obj, c.relowner AS owner \
           FROM pg_class c WHERE c.relnamespace = $1::regnamespace \
             AND c.relkind IN ('r', 'p', 'v', 'm', 'S') \
             AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d \
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid \
                        AND d.deptype IN ('a', 'i'))) \
           UNION ALL \
           SELECT 'FUNCTION', p.oid::regprocedure::text, p.proowner \
           FROM pg_proc p WHERE p.pronamespace = $1::regnamespace \
         ) o WHERE o.owner <> (SELECT oid FROM pg_roles WHERE rolname = $2) ORDER BY kind DESC, obj",
    )
    .bind::<Text, _>(quote_ident(schema))
    .bind::<Text, _>(role)
    .load(conn)?;
    for s in &stmts {
        sql_query(&s.sql).execute(conn)?;
    }
    Ok(stmts.len())
}

/// Where each distributed schema lives, from Citus's metadata (cheap: no size queries).
const PLACEMENTS: &str = "SELECT ds.schemaid::regnamespace::text AS schema, n.nodename AS host, n.nodeport AS port \
     FROM pg_dist_schema ds \
     JOIN LATERAL (SELECT p.logicalrelid FROM pg_dist_partition p \
                   WHERE p.colocationid = ds.colocationid LIMIT 1) t ON true \
     JOIN pg_dist_shard sh ON sh.logicalrelid = t.logicalrelid \
     JOIN pg_dist_placement pl ON pl.shardid = sh.shardid \
     JOIN pg_dist_node n ON n.groupid = pl.groupid";

/// The node holding `schema`, if it is a distributed schema with tables.
pub fn node_of(conn: &mut PgConnection, schema: &str) -> QueryResult<Option<Node>> {
    sql_query(format!(
        "SELECT host, port FROM ({PLACEMENTS}) p WHERE schema = $1 LIMIT 1"
    ))
    .bind::<Text, _>(quote_ident_if_needed(schema))
    .get_result::<Node>(conn)
    .optional()
}

/// `regnamespace::text` quotes a name only when it needs it; ours never do, but match it.
fn quote_ident_if_needed(schema: &str) -> String {
    let plain = schema
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        schema.to_string()
    } else {
        quote_ident(schema)
    }
}

/// The worker holding the fewest provinces (ties: the first by name), among the active
/// primaries that take shards.
pub fn least_loaded(conn: &mut PgConnection) -> QueryResult<Option<Node>> {
    sql_query(format!(
        "SELECT n.nodename AS host, n.nodeport AS port FROM pg_dist_node n \
         LEFT JOIN ({PLACEMENTS}) p ON p.host = n.nodename AND p.port = n.nodeport \
         WHERE n.isactive AND n.noderole = 'primary' AND n.shouldhaveshards \
         GROUP BY n.nodename, n.nodeport ORDER BY count(p.schema), 1, 2 LIMIT 1"
    ))
    .get_result::<Node>(conn)
    .optional()
}

/// Provinces per worker, for `portal tenant place` and the bench.
pub fn load(conn: &mut PgConnection) -> QueryResult<Vec<(Node, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        host: String,
        #[diesel(sql_type = Int4)]
        port: i32,
        #[diesel(sql_type = diesel::sql_types::Int8)]
        n: i64,
    }
    let rows: Vec<Row> = sql_query(format!(
        "SELECT n.nodename AS host, n.nodeport AS port, count(p.schema) AS n FROM pg_dist_node n \
         LEFT JOIN ({PLACEMENTS}) p ON p.host = n.nodename AND p.port = n.nodeport \
         WHERE n.isactive AND n.noderole = 'primary' AND n.shouldhaveshards \
         GROUP BY 1, 2 ORDER BY 1, 2"
    ))
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                Node {
                    host: r.host,
                    port: r.port,
                },
                r.n,
            )
        })
        .collect())
}

/// What the nodes' connection limits cannot hold, one line each (empty when they can). A
/// coordinator backend keeps a connection to a worker **per province role** it has served
/// (Citus connects as the current role), so a worker may see `pool_size` connections per
/// province it holds, per server process; past its `max_connections` submissions fail, and past
/// the coordinator's `citus.max_shared_pool_size` they wait until `statement_timeout`
/// (docs/scaling.md, "Connections to the workers", measured). `pool_size` is one process's.
pub fn connection_shortfalls(conn: &mut PgConnection, pool_size: u32) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Limit {
        #[diesel(sql_type = Text)]
        host: String,
        #[diesel(sql_type = Int4)]
        port: i32,
        #[diesel(sql_type = Text)]
        value: String,
    }
    // A few connections for the maintenance daemon, the operator's sessions and a move.
    const HEADROOM: i64 = 10;
    let limits: Vec<Limit> = sql_query(
        "SELECT nodename AS host, nodeport AS port, result AS value \
           FROM run_command_on_workers('SHOW max_connections') WHERE success",
    )
    .load(conn)?;
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = Text)]
        value: String,
    }
    let shared: i64 = sql_query("SELECT current_setting('citus.max_shared_pool_size') AS value")
        .get_result::<Setting>(conn)?
        .value
        .parse()
        .unwrap_or(-1);
    let mut short = Vec::new();
    for (node, provinces) in load(conn)? {
        let need = i64::from(pool_size) * provinces + HEADROOM;
        let max = limits
            .iter()
            .find(|l| l.host == node.host && l.port == node.port)
            .and_then(|l| l.value.parse::<i64>().ok());
        if let Some(max) = max.filter(|max| need > *max) {
            short.push(format!(
                "worker {node} holds {provinces} province(s): with a pool of {pool_size} per \
                 server process it may need {need} connections per process, and its \
                 max_connections is {max}"
            ));
        }
        // Citus shows its default (0) as the coordinator's max_connections; -1 is no limit.
        if shared > 0 && need > shared {
            short.push(format!(
                "worker {node}: the coordinator's citus.max_shared_pool_size ({shared}) is below \
                 the {need} connections its provinces may need; requests would wait for a slot"
            ));
        }
    }
    Ok(short)
}

/// Moves `schema` to `to` while it is served (`citus_schema_move`, logical replication when
/// the nodes run `wal_level = logical`: writes go on during the copy and wait only for the
/// final switch). Not inside a transaction: Citus refuses it there. Needs a superuser or the
/// schema's owner.
pub fn move_schema(conn: &mut PgConnection, schema: &str, to: &Node) -> QueryResult<()> {
    move_with(conn, schema, to, "auto")
}

fn move_with(conn: &mut PgConnection, schema: &str, to: &Node, mode: &str) -> QueryResult<()> {
    sql_query("SELECT citus_schema_move($1::regnamespace, $2, $3, $4::citus.shard_transfer_mode)")
        .bind::<Text, _>(quote_ident(schema))
        .bind::<Text, _>(&to.host)
        .bind::<Int4, _>(to.port)
        .bind::<Text, _>(mode)
        .execute(conn)
        .map(|_| ())
}

/// After a province is committed: Citus placed its schema by its own rule (round robin over
/// colocation ids), which knows nothing of moves made since; put it on the least loaded worker
/// instead. It is empty and nobody uses it yet, so writes are simply blocked for the copy.
/// Queued by provisioning, run once its transaction has committed; a failure only leaves the
/// province where Citus put it.
pub fn place_new(schema: String) {
    super::after_commit(format!("citus-place:{schema}"), move |conn| {
        let placed = (|| -> QueryResult<Option<(Node, Node)>> {
            let (Some(here), Some(best)) = (node_of(conn, &schema)?, least_loaded(conn)?) else {
                return Ok(None);
            };
            let counts = load(conn)?;
            let count = |n: &Node| counts.iter().find(|(m, _)| m == n).map_or(0, |(_, c)| *c);
            // Only when it helps: `here` counts this province, `best` does not yet.
            if here == best || count(&here) - 1 <= count(&best) {
                return Ok(None);
            }
            move_with(conn, &schema, &best, "block_writes")?;
            Ok(Some((here, best)))
        })();
        match placed {
            Ok(Some((from, to))) => {
                tracing::info!(%schema, %from, %to, "new province placed on the least loaded worker")
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(%schema, error = %e, "new province left where Citus placed it")
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::{Node, url_at};

    #[test]
    fn nodes_parse_and_urls_move_to_them() {
        let n = Node::parse("10.0.0.5:5433").unwrap();
        assert_eq!(n.to_string(), "10.0.0.5:5433");
        assert!(Node::parse("10.0.0.5").is_err());
        assert!(Node::parse(":5432").is_err());
        assert!(Node::parse("h:99999").is_err());
        assert_eq!(
            url_at("postgres://u:p@c:5441/portal?sslmode=disable", &n).as_deref(),
            Some("postgres://u:p@10.0.0.5:5433/portal?sslmode=disable")
        );
        assert_eq!(
            url_at("postgres://c/portal", &n).as_deref(),
            Some("postgres://10.0.0.5:5433/portal")
        );
    }
}
