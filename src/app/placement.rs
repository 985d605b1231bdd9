//! Where a province lives on a Citus cluster, and moving it to another worker while it is
//! served (`portal tenant place|move`). On one PostgreSQL there is nothing to place.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::audit;
use crate::db::Db;
use crate::db::citus::{self, Node};
use crate::error::AppError;
use crate::lang::Msg;
use crate::tenancy::{Tenant, store};

/// A province and the worker holding it.
pub fn place(db: &Db, slug: &str) -> Result<(Tenant, Node), AppError> {
    db.control(|conn| {
        let tenant = store::find_by_slug(conn, slug)?.ok_or(AppError::NotFound)?;
        ensure_citus(conn)?;
        let node = citus::node_of(conn, &tenant.schema)?.ok_or_else(|| {
            AppError::internal(format!("{} is not a distributed schema", tenant.schema))
        })?;
        Ok((tenant, node))
    })
}

/// What a move did.
#[derive(Debug)]
pub struct Moved {
    pub tenant: Tenant,
    pub from: Node,
    pub to: Node,
    pub took: Duration,
}

/// Moves the province to worker `to` (`citus_schema_move`: its tables are copied by logical
/// replication while reads and writes go on; writes wait only for the final switch). Runs
/// outside any transaction (Citus refuses one), on a connection of its own; the audit row is
/// written once the move is done.
pub fn move_to(db: &Db, slug: &str, to: &Node, actor: &str) -> Result<Moved, AppError> {
    let (tenant, from) = place(db, slug)?;
    let workers = db.control(|conn| Ok(citus::load(conn)?))?;
    if !workers.iter().any(|(n, _)| n == to) {
        let known: Vec<String> = workers.iter().map(|(n, _)| n.to_string()).collect();
        return Err(AppError::invalid(
            "to",
            Msg::owned(
                format!(
                    "{to} không phải là một nút đang hoạt động ({}).",
                    known.join(", ")
                ),
                format!("{to} is not an active worker ({}).", known.join(", ")),
            ),
        ));
    }
    if from == *to {
        return Err(AppError::conflict(
            "already_there",
            Msg::owned(
                format!("Tỉnh {slug} đã ở trên {to}."),
                format!("{slug} is already on {to}."),
            ),
        ));
    }
    let started = Instant::now();
    {
        let mut conn = db.checkout()?;
        citus::move_schema(&mut conn, &tenant.schema, to)?;
    }
    let took = started.elapsed();
    db.control(|conn| {
        audit::record(
            conn,
            actor,
            audit::Action::TenantMove,
            slug,
            json!({ "from": from.to_string(), "to": to.to_string(), "ms": took.as_millis() as u64 }),
        )
    })?;
    Ok(Moved {
        tenant,
        from,
        to: to.clone(),
        took,
    })
}

fn ensure_citus(conn: &mut diesel::PgConnection) -> Result<(), AppError> {
    if citus::is_citus(conn)? {
        return Ok(());
    }
    Err(AppError::conflict(
        "not_citus",
        Msg::new(
            "Cơ sở dữ liệu này không chạy Citus: mọi tỉnh ở trên cùng một máy.",
            "This database does not run Citus: every province is on the one server.",
        ),
    ))
}
