//! Applications in progress (the HTML journey): answers and files kept server-side, one draft
//! per citizen and procedure, inside the caller's tenant transaction.

use diesel::prelude::*;
use serde_json::{Map, Value};

use crate::error::AppError;
use crate::ids::CitizenId;

// Tenant tables used only here; the door's `search_path` decides the schema, as in `db::schema`.
diesel::table! {
    drafts (id) {
        id -> Int8,
        citizen_id -> Uuid,
        procedure_code -> Text,
        answers -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    draft_files (id) {
        id -> Uuid,
        draft_id -> Int8,
        field -> Text,
        name -> Text,
        content_type -> Text,
        size -> Int8,
        data -> Bytea,
        created_at -> Timestamptz,
    }
}

#[derive(Debug, Clone)]
pub struct Draft {
    pub id: i64,
    pub answers: Map<String, Value>,
}

/// A stored file without its contents (for listing).
#[derive(Debug, Clone, Queryable)]
pub struct DraftFileMeta {
    pub field: String,
    pub name: String,
    pub size: i64,
}

/// A stored file with its contents (for submission).
#[derive(Debug, Clone, Queryable)]
pub struct DraftFile {
    pub field: String,
    pub name: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

pub fn find(
    conn: &mut PgConnection,
    citizen: CitizenId,
    procedure_code: &str,
) -> Result<Option<Draft>, AppError> {
    let row: Option<(i64, Value)> = drafts::table
        .filter(drafts::citizen_id.eq(citizen))
        .filter(drafts::procedure_code.eq(procedure_code))
        .select((drafts::id, drafts::answers))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, answers)| Draft {
        id,
        answers: match answers {
            Value::Object(map) => map,
            _ => Map::new(),
        },
    }))
}

/// The draft, locked until the transaction ends (submission: one dossier per draft).
pub fn lock(
    conn: &mut PgConnection,
    citizen: CitizenId,
    procedure_code: &str,
) -> Result<Option<Draft>, AppError> {
    let row: Option<(i64, Value)> = drafts::table
        .filter(drafts::citizen_id.eq(citizen))
        .filter(drafts::procedure_code.eq(procedure_code))
        .select((drafts::id, drafts::answers))
        .for_update()
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, answers)| Draft {
        id,
        answers: match answers {
            Value::Object(map) => map,
            _ => Map::new(),
        },
    }))
}

/// Lays `answers` over the draft's (creating it); a `Null` removes an answer.
pub fn save_answers(
    conn: &mut PgConnection,
    citizen: CitizenId,
    procedure_code: &str,
    answers: &Map<String, Value>,
) -> Result<Draft, AppError> {
    let mut merged = find(conn, citizen, procedure_code)?
        .map(|d| d.answers)
        .unwrap_or_default();
    for (k, v) in answers {
        if v.is_null() {
            merged.remove(k);
        } else {
            merged.insert(k.clone(), v.clone());
        }
    }
    let value = Value::Object(merged.clone());
    let id = diesel::insert_into(drafts::table)
        .values((
            drafts::citizen_id.eq(citizen),
            drafts::procedure_code.eq(procedure_code),
            drafts::answers.eq(&value),
            drafts::updated_at.eq(diesel::dsl::now),
        ))
        .on_conflict((drafts::citizen_id, drafts::procedure_code))
        .do_update()
        .set((
            drafts::answers.eq(&value),
            // Not `now()` in DO UPDATE: Citus refuses non-immutable functions there.
            drafts::updated_at.eq(diesel::upsert::excluded(drafts::updated_at)),
        ))
        .returning(drafts::id)
        .get_result(conn)?;
    Ok(Draft {
        id,
        answers: merged,
    })
}

/// The draft, created empty if needed (files may come before any answer is saved).
pub fn ensure(
    conn: &mut PgConnection,
    citizen: CitizenId,
    procedure_code: &str,
) -> Result<Draft, AppError> {
    match find(conn, citizen, procedure_code)? {
        Some(d) => Ok(d),
        None => save_answers(conn, citizen, procedure_code, &Map::new()),
    }
}

pub fn files(conn: &mut PgConnection, draft_id: i64) -> Result<Vec<DraftFileMeta>, AppError> {
    Ok(draft_files::table
        .filter(draft_files::draft_id.eq(draft_id))
        .order(draft_files::field.asc())
        .select((draft_files::field, draft_files::name, draft_files::size))
        .load(conn)?)
}

/// Keeps one checked file for a document of the form, replacing the previous one.
pub fn put_file(conn: &mut PgConnection, draft_id: i64, file: &DraftFile) -> Result<(), AppError> {
    let values = (
        draft_files::id.eq(uuid::Uuid::new_v4()),
        draft_files::draft_id.eq(draft_id),
        draft_files::field.eq(&file.field),
        draft_files::name.eq(&file.name),
        draft_files::content_type.eq(&file.content_type),
        draft_files::size.eq(file.data.len() as i64),
        draft_files::data.eq(&file.data),
        draft_files::created_at.eq(diesel::dsl::now),
    );
    diesel::insert_into(draft_files::table)
        .values(values)
        .on_conflict((draft_files::draft_id, draft_files::field))
        .do_update()
        .set((
            draft_files::name.eq(&file.name),
            draft_files::content_type.eq(&file.content_type),
            draft_files::size.eq(file.data.len() as i64),
            draft_files::data.eq(&file.data),
            // Not `now()` in DO UPDATE: Citus refuses non-immutable functions there.
            draft_files::created_at.eq(diesel::upsert::excluded(draft_files::created_at)),
        ))
        .execute(conn)?;
    diesel::update(drafts::table.find(draft_id))
        .set(drafts::updated_at.eq(diesel::dsl::now))
        .execute(conn)?;
    Ok(())
}

/// The files with their contents, for turning into attachments.
pub fn file_contents(conn: &mut PgConnection, draft_id: i64) -> Result<Vec<DraftFile>, AppError> {
    Ok(draft_files::table
        .filter(draft_files::draft_id.eq(draft_id))
        .order(draft_files::created_at.asc())
        .select((
            draft_files::field,
            draft_files::name,
            draft_files::content_type,
            draft_files::data,
        ))
        .load(conn)?)
}

/// Removes the draft and its files (after submission).
pub fn delete(conn: &mut PgConnection, draft_id: i64) -> Result<(), AppError> {
    diesel::delete(draft_files::table.filter(draft_files::draft_id.eq(draft_id))).execute(conn)?;
    diesel::delete(drafts::table.find(draft_id)).execute(conn)?;
    Ok(())
}
