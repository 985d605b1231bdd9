//! Isolation in depth: the door's path and role, fail-closed connections, and no province ever
//! seeing another's rows under load.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::Text;
use futures_util::StreamExt;
use portal::config::DatabaseSettings;
use portal::db::Db;

use crate::helpers::TestApp;

#[derive(QueryableByName)]
struct One {
    #[diesel(sql_type = Text)]
    v: String,
}

fn text(conn: &mut PgConnection, sql: &str) -> QueryResult<String> {
    sql_query(sql).get_result::<One>(conn).map(|o| o.v)
}

#[tokio::test]
async fn inside_a_provinces_door_another_provinces_schema_is_refused_by_postgres() {
    let app = TestApp::spawn().await;
    let a = app.create_tenant("ha-noi", "Hà Nội").await;
    let b = app.create_tenant("quang-ninh", "Quảng Ninh").await;
    let door = app.database().tenant(a.db_ref());
    let (schema, user, refused, qualified_own) = tokio::task::spawn_blocking(move || {
        door.tx(|conn| {
            let schema = text(conn, "SELECT current_schema()::text AS v")?;
            let user = text(conn, "SELECT current_user::text AS v")?;
            // A savepoint keeps the transaction usable after the expected failure.
            let refused = conn
                .transaction(|c| text(c, "SELECT display_name AS v FROM t_quang_ninh.branding"))
                .unwrap_err()
                .to_string();
            let own = text(conn, "SELECT display_name AS v FROM t_ha_noi.branding")?;
            Ok((schema, user, refused, own))
        })
        .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(schema, "t_ha_noi");
    assert_eq!(user, a.role);
    assert_ne!(user, b.role);
    assert!(refused.contains("permission denied"), "{refused}");
    assert_eq!(qualified_own, "Hà Nội");
}

#[tokio::test]
async fn a_pooled_connection_after_a_tenant_transaction_is_back_to_pg_catalog() {
    let app = TestApp::spawn().await;
    let a = app.create_tenant("ha-noi", "Hà Nội").await;
    // A pool of one connection: the next checkout is the very connection the door used.
    let mut settings: DatabaseSettings = app.settings.database.clone();
    settings.pool_size = 1;
    let db = Db::new(&settings);
    let url = app.db.url.clone();
    let slug = a.slug.clone();
    let door = db.tenant(a.db_ref());
    let (login, registered, inside, after, bare_lookup) = tokio::task::spawn_blocking(move || {
        // The login role, from a connection of its own that no door ever touched.
        let login = text(
            &mut PgConnection::establish(&url).unwrap(),
            "SELECT current_user::text AS v",
        )
        .unwrap();
        // The tenant's role as provisioning registered it (`pt_<id>`, not the schema name).
        let registered = db
            .control(move |conn| {
                Ok(
                    sql_query("SELECT role_name AS v FROM tenants WHERE slug = $1")
                        .bind::<Text, _>(&slug)
                        .get_result::<One>(conn)?
                        .v,
                )
            })
            .unwrap();
        let state = |conn: &mut PgConnection| -> QueryResult<(String, String)> {
            Ok((
                text(conn, "SELECT current_user::text AS v")?,
                text(conn, "SELECT current_setting('search_path') AS v")?,
            ))
        };
        let inside = door.tx(|conn| Ok(state(conn)?)).unwrap();
        let mut conn = db.checkout().unwrap();
        let after = state(&mut conn).unwrap();
        // Code that forgets the door finds no table at all.
        let bare =
            text(&mut conn, "SELECT display_name AS v FROM branding").map_err(|e| e.to_string());
        (login, registered, inside, after, bare)
    })
    .await
    .unwrap();
    // The door really switched (else the checks after it prove nothing).
    assert_eq!(registered, a.role);
    assert_ne!(registered, login);
    assert_eq!(inside.0, registered, "role inside the tenant transaction");
    assert_eq!(
        inside.1, "\"t_ha_noi\"",
        "search_path inside the tenant transaction"
    );
    // Afterwards the pooled connection is the pool's own again: the login role, and the
    // pool's default path (`pg_catalog`, set when the connection opened), not the tenant's.
    let (user, path) = after;
    assert_eq!(user, login, "role after the tenant transaction");
    assert_eq!(
        path, "pg_catalog",
        "search_path after the tenant transaction"
    );
    match bare_lookup {
        Ok(name) => panic!("a bare `branding` still resolves after the transaction: {name}"),
        Err(e) => assert!(e.contains("does not exist"), "{e}"),
    }
}

#[tokio::test]
async fn ten_thousand_mixed_requests_over_63_provinces_each_see_only_their_own_rows() {
    let app = TestApp::spawn().await;
    let mut markers = HashMap::new();
    for i in 0..63 {
        let slug = format!("tinh-{i:02}");
        let t = app.create_tenant(&slug, &format!("Tỉnh số {i}")).await;
        let marker = format!(
            "MARKER{i:02}X{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        app.set_display_name(&t, &marker).await;
        markers.insert(slug, marker);
    }
    let slugs: Vec<String> = markers.keys().cloned().collect();
    let paths = ["/", "/api/v1/site", "/", "/api/v1/site?lang=en"];
    let total = 10_000usize;
    let results: Vec<(String, u16, String)> = futures_util::stream::iter(0..total)
        .map(|i| {
            let slug = slugs[(i * 7 + i / 63) % slugs.len()].clone();
            let path = paths[i % paths.len()];
            let app = &app;
            async move {
                let res = app.get(&format!("{slug}.localhost"), path).await;
                let status = res.status().as_u16();
                (slug, status, res.text().await.unwrap_or_default())
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert_eq!(results.len(), total);
    for (slug, status, body) in &results {
        assert_eq!(*status, 200, "{slug}: {body}");
        let own = &markers[slug];
        assert!(body.contains(own.as_str()), "{slug} lacks its marker");
        // Any marker in the body must be this province's own.
        assert_eq!(
            body.matches("MARKER").count(),
            body.matches(own.as_str()).count(),
            "{slug} saw another province"
        );
    }
}
