//! Resumable uploads of a draft's documents (docs/uploads.md): the upload's row and the parts
//! received so far, inside the caller's tenant transaction. Ownership is part of every lookup
//! (the citizen and the draft), so another citizen's or province's upload is simply not found.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::error::AppError;
use crate::ids::CitizenId;

// Tenant tables used only here; the door's `search_path` decides the schema.
diesel::table! {
    uploads (id) {
        id -> Uuid,
        citizen_id -> Uuid,
        draft_id -> Int8,
        field -> Text,
        name -> Text,
        length -> Int8,
        received -> Int8,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    upload_parts (upload_id, start) {
        upload_id -> Uuid,
        start -> Int8,
        data -> Bytea,
    }
}

/// One upload, without its bytes.
#[derive(Debug, Clone, Queryable)]
pub struct Upload {
    pub id: uuid::Uuid,
    pub draft_id: i64,
    pub field: String,
    pub name: String,
    pub length: i64,
    pub received: i64,
    pub expires_at: DateTime<Utc>,
}

impl Upload {
    pub fn is_complete(&self) -> bool {
        self.received == self.length
    }
}

type Columns = (
    uploads::id,
    uploads::draft_id,
    uploads::field,
    uploads::name,
    uploads::length,
    uploads::received,
    uploads::expires_at,
);

const COLUMNS: Columns = (
    uploads::id,
    uploads::draft_id,
    uploads::field,
    uploads::name,
    uploads::length,
    uploads::received,
    uploads::expires_at,
);

/// What a new upload is.
#[derive(Debug)]
pub struct NewUpload<'a> {
    pub citizen: CitizenId,
    pub draft_id: i64,
    pub field: &'a str,
    pub name: &'a str,
    pub length: i64,
    pub expires_at: DateTime<Utc>,
}

/// Removes every upload past its expiry (their parts go with them). Returns how many.
pub fn sweep_expired(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<usize, AppError> {
    Ok(diesel::delete(uploads::table.filter(uploads::expires_at.le(now))).execute(conn)?)
}

/// Takes the citizen's upload-start lock for this transaction: a start that counts the open
/// uploads and then adds one must not run beside another doing the same (both would see room
/// under the cap). Released at commit.
pub fn lock_starts(conn: &mut PgConnection, citizen: CitizenId) -> Result<(), AppError> {
    use diesel::sql_types::{Integer, Text};
    diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind::<Integer, _>(crate::db::locks::CITIZEN_UPLOADS)
        .bind::<Text, _>(citizen.to_string())
        .execute(conn)?;
    Ok(())
}

/// The citizen's unfinished, unexpired uploads in this province, but for the one of
/// `(draft_id, field)` (which a new upload of that document replaces); with the earliest expiry.
pub fn open_uploads(
    conn: &mut PgConnection,
    citizen: CitizenId,
    draft_id: i64,
    field: &str,
    now: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>), AppError> {
    let open = || {
        uploads::table
            .filter(uploads::citizen_id.eq(citizen))
            .filter(uploads::received.lt(uploads::length))
            .filter(uploads::expires_at.gt(now))
            .filter(
                uploads::draft_id
                    .ne(draft_id)
                    .or(uploads::field.ne(field.to_string())),
            )
    };
    let count: i64 = open().count().get_result(conn)?;
    let earliest: Option<DateTime<Utc>> = open()
        .select(diesel::dsl::min(uploads::expires_at))
        .first(conn)?;
    Ok((count, earliest))
}

/// Bytes the draft holds or has been promised, but for `field`'s: its kept files and the
/// declared lengths of its unfinished uploads.
pub fn draft_bytes(conn: &mut PgConnection, draft_id: i64, field: &str) -> Result<i64, AppError> {
    use diesel::sql_types::{BigInt, Text};
    #[derive(QueryableByName)]
    struct Bytes {
        #[diesel(sql_type = BigInt)]
        bytes: i64,
    }
    // `sum(int8)` is numeric: cast back, as the storage gauge does.
    let row: Bytes = diesel::sql_query(
        "SELECT ((SELECT coalesce(sum(size), 0) FROM draft_files WHERE draft_id = $1 AND field <> $2) \
               + (SELECT coalesce(sum(length), 0) FROM uploads \
                  WHERE draft_id = $1 AND field <> $2 AND received < length))::int8 AS bytes",
    )
    .bind::<BigInt, _>(draft_id)
    .bind::<Text, _>(field)
    .get_result(conn)?;
    Ok(row.bytes)
}

/// Starts an upload, replacing an unfinished or finished one of the same document of the draft.
pub fn create(conn: &mut PgConnection, new: &NewUpload<'_>) -> Result<uuid::Uuid, AppError> {
    diesel::delete(
        uploads::table
            .filter(uploads::draft_id.eq(new.draft_id))
            .filter(uploads::field.eq(new.field)),
    )
    .execute(conn)?;
    let id = uuid::Uuid::new_v4();
    diesel::insert_into(uploads::table)
        .values((
            uploads::id.eq(id),
            uploads::citizen_id.eq(new.citizen),
            uploads::draft_id.eq(new.draft_id),
            uploads::field.eq(new.field),
            uploads::name.eq(new.name),
            uploads::length.eq(new.length),
            uploads::expires_at.eq(new.expires_at),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The citizen's upload `id` of the draft, unless it has expired; locked until the transaction
/// ends when `lock` (one writer at a time: two requests at the same offset cannot both append).
pub fn find(
    conn: &mut PgConnection,
    id: uuid::Uuid,
    citizen: CitizenId,
    draft_id: i64,
    now: DateTime<Utc>,
    lock: bool,
) -> Result<Option<Upload>, AppError> {
    let query = uploads::table
        .filter(uploads::id.eq(id))
        .filter(uploads::citizen_id.eq(citizen))
        .filter(uploads::draft_id.eq(draft_id))
        .filter(uploads::expires_at.gt(now))
        .select(COLUMNS);
    Ok(if lock {
        query.for_update().first::<Upload>(conn).optional()?
    } else {
        query.first::<Upload>(conn).optional()?
    })
}

/// Keeps `data` as the part at `start` (= the bytes received so far) and pushes the expiry on.
pub fn append(
    conn: &mut PgConnection,
    id: uuid::Uuid,
    start: i64,
    data: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<i64, AppError> {
    diesel::insert_into(upload_parts::table)
        .values((
            upload_parts::upload_id.eq(id),
            upload_parts::start.eq(start),
            upload_parts::data.eq(data),
        ))
        .execute(conn)?;
    let received = start + data.len() as i64;
    diesel::update(uploads::table.find(id))
        .set((
            uploads::received.eq(received),
            uploads::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(received)
}

/// The bytes received, in order (bounded by the upload's declared length).
pub fn contents(conn: &mut PgConnection, id: uuid::Uuid) -> Result<Vec<u8>, AppError> {
    let parts: Vec<Vec<u8>> = upload_parts::table
        .filter(upload_parts::upload_id.eq(id))
        .order(upload_parts::start.asc())
        .select(upload_parts::data)
        .load(conn)?;
    Ok(parts.concat())
}

/// A completed upload keeps its row (so a client that lost the last answer reads its offset
/// at the end) but not its parts: the file is the draft's now.
pub fn drop_parts(conn: &mut PgConnection, id: uuid::Uuid) -> Result<(), AppError> {
    diesel::delete(upload_parts::table.filter(upload_parts::upload_id.eq(id))).execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut PgConnection, id: uuid::Uuid) -> Result<(), AppError> {
    diesel::delete(uploads::table.find(id)).execute(conn)?;
    Ok(())
}
