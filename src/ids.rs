//! Identifiers as types: a tenant's id can never be passed where a dossier's is expected.
//! A leaf module: the doors, the domain and the surfaces all name these.

use serde::Serialize;

/// A tenant's stable identity; caches, jobs and logs key on it, never on the slug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct TenantId(pub uuid::Uuid);

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An account's id as its own type (a citizen's can never be passed where a staff member's
/// is expected): a UUID on the wire (`#[serde(transparent)]`) and in SQL (`uuid`).
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            Serialize,
            serde::Deserialize,
            diesel::expression::AsExpression,
            diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new random id (a new account).
            pub fn new_v4() -> $name {
                $name(uuid::Uuid::new_v4())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Uuid, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <uuid::Uuid as diesel::serialize::ToSql<diesel::sql_types::Uuid, diesel::pg::Pg>>::to_sql(&self.0, out)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Uuid, diesel::pg::Pg> for $name {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                <uuid::Uuid as diesel::deserialize::FromSql<diesel::sql_types::Uuid, diesel::pg::Pg>>::from_sql(value).map($name)
            }
        }
    };
}

uuid_id!(
    /// A national citizen account (`identity.citizens.id`).
    CitizenId
);
uuid_id!(
    /// A staff account of one province (its schema's `staff.id`).
    StaffId
);
uuid_id!(
    /// An operator account (`public.operators.id`).
    OperatorId
);

#[cfg(test)]
mod tests {
    use super::{CitizenId, OperatorId, StaffId};

    /// The JSON, the tokens' `sub`, the audit log (`staff:<id>`) and the dossier history all
    /// carry the bare UUID, as before the ids had types.
    #[test]
    fn account_ids_are_bare_uuids_on_the_wire() {
        let u = uuid::Uuid::new_v4();
        let text = serde_json::Value::from(u.to_string());
        assert_eq!(serde_json::to_value(CitizenId(u)).unwrap(), text);
        assert_eq!(serde_json::to_value(StaffId(u)).unwrap(), text);
        assert_eq!(serde_json::to_value(OperatorId(u)).unwrap(), text);
        let back: StaffId = serde_json::from_value(text).unwrap();
        assert_eq!(back, StaffId(u));
        assert_eq!(CitizenId(u).to_string(), u.to_string());
        assert_eq!(format!("staff:{}", StaffId(u)), format!("staff:{u}"));
        assert_eq!(OperatorId(u).to_string(), u.to_string());
    }
}
