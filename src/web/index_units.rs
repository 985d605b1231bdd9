//! The index per unit inside a province: the API's rows (`GET /api/v1/index?province=SLUG`) and
//! the lines of the province page's unit table. Read from `unit_stats` only.

use serde::Serialize;

use crate::error::AppError;
use crate::index::units::Scored;
use crate::lang::{Lang, Msg};
use crate::units::UnitKind;
use crate::web::national_index::percent;

/// One unit's line: the province rows' fields plus the unit's `code`, `kind`, the
/// transparency rate, its rank and whether it had enough decided dossiers to be scored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitIndexRow {
    /// The province's slug.
    pub slug: String,
    /// The unit's code (five digits for a commune, ward or special zone; the province's own
    /// for a department or service point); null for the province level: dossiers with no
    /// unit, listed only when it counts something.
    #[schema(required = true)]
    pub code: Option<String>,
    pub name: String,
    #[schema(required = true)]
    pub kind: Option<UnitKind>,
    /// Retired since (listed for the months it still counts something in).
    pub retired: bool,
    /// Dossiers received at this unit in the month (online ones: at their competent unit).
    pub received: i32,
    /// Dossiers this unit (as the competent unit) decided in the month.
    pub decided: i32,
    pub informed_rate: Option<f64>,
    pub on_time_rate: Option<f64>,
    pub online_rate: Option<f64>,
    pub online_payment_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    /// Null below the minimum sample (`enough_data` false) or with nothing to rate.
    pub score: Option<f64>,
    /// Among the province's scored units, 1 the best; equal scores share a rank.
    pub rank: Option<u32>,
    /// At least the minimum number of decided dossiers (`index.min_decided`, 20 by default).
    pub enough_data: bool,
}

impl UnitIndexRow {
    pub fn new(slug: &str, s: &Scored) -> UnitIndexRow {
        let c = &s.stat.counts;
        UnitIndexRow {
            slug: slug.to_string(),
            code: s.stat.unit.as_ref().map(|u| u.code.to_string()),
            name: s.stat.name.clone(),
            kind: s.stat.unit.as_ref().map(|u| u.kind),
            retired: s.stat.retired,
            received: c.received,
            decided: c.decided,
            informed_rate: s.rates.informed_rate,
            on_time_rate: s.rates.on_time_rate,
            online_rate: s.rates.online_rate,
            online_payment_rate: s.rates.online_payment_rate,
            satisfaction_rate: s.rates.satisfaction_rate,
            score: s.score,
            rank: s.rank,
            enough_data: s.enough_data,
        }
    }
}

/// What the province page's unit table is sorted by (`?sort=`): the score by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitSort {
    Score,
    Name,
    Received,
    Decided,
    Informed,
    OnTime,
    Online,
    Payment,
    Satisfaction,
}

impl UnitSort {
    const ALL: [UnitSort; 9] = [
        UnitSort::Score,
        UnitSort::Name,
        UnitSort::Received,
        UnitSort::Decided,
        UnitSort::Informed,
        UnitSort::OnTime,
        UnitSort::Online,
        UnitSort::Payment,
        UnitSort::Satisfaction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitSort::Score => "score",
            UnitSort::Name => "name",
            UnitSort::Received => "received",
            UnitSort::Decided => "decided",
            UnitSort::Informed => "informed",
            UnitSort::OnTime => "on_time",
            UnitSort::Online => "online",
            UnitSort::Payment => "payment",
            UnitSort::Satisfaction => "satisfaction",
        }
    }

    /// Absent or empty: by score.
    pub fn parse(text: Option<&str>) -> Result<UnitSort, AppError> {
        match text.filter(|t| !t.is_empty()) {
            None => Ok(UnitSort::Score),
            Some(t) => UnitSort::ALL
                .into_iter()
                .find(|s| s.as_str() == t)
                .ok_or_else(|| {
                    AppError::invalid(
                        "sort",
                        Msg::new(
                            "Không sắp xếp được theo cột này.",
                            "The table cannot be sorted by this column.",
                        ),
                    )
                }),
        }
    }

    /// Sorts `lines` (already best first): by name A to Z, else the largest first with the
    /// lines that have nothing to show last; ties keep the best-first order.
    pub fn apply(self, lines: &mut [Scored]) {
        let key = |s: &Scored| -> Option<f64> {
            let c = &s.stat.counts;
            match self {
                UnitSort::Score | UnitSort::Name => s.score,
                UnitSort::Received => Some(f64::from(c.received)),
                UnitSort::Decided => Some(f64::from(c.decided)),
                UnitSort::Informed => s.rates.informed_rate,
                UnitSort::OnTime => s.rates.on_time_rate,
                UnitSort::Online => s.rates.online_rate,
                UnitSort::Payment => s.rates.online_payment_rate,
                UnitSort::Satisfaction => s.rates.satisfaction_rate,
            }
        };
        if self == UnitSort::Name {
            lines.sort_by_cached_key(|s| crate::catalog::fold_vietnamese(&s.stat.name));
        } else {
            lines.sort_by(|a, b| key(b).unwrap_or(-1.0).total_cmp(&key(a).unwrap_or(-1.0)));
        }
    }
}

/// A line of the province page's unit table, ready to print (never a code alone).
#[derive(Debug, Clone)]
pub struct UnitLine {
    pub rank: String,
    pub name: String,
    /// The kind ("Phường", "Sở, ngành"…) and the code, or nothing for the province level.
    pub kind: String,
    pub code: String,
    pub retired: bool,
    pub received: i32,
    pub decided: i32,
    pub informed: String,
    pub on_time: String,
    pub online: String,
    pub payment: String,
    pub satisfaction: String,
    /// `None`: not enough data (the page says so).
    pub score: Option<String>,
    pub enough_data: bool,
}

impl UnitLine {
    /// `province_level` names the line of dossiers with no unit in the page's language.
    pub fn new(s: &Scored, lang: Lang, province_level: &str) -> UnitLine {
        let c = &s.stat.counts;
        let (name, kind, code) = match &s.stat.unit {
            Some(u) => (
                s.stat.name.clone(),
                u.kind.label().get(lang).to_string(),
                u.code.to_string(),
            ),
            None => (province_level.to_string(), String::new(), String::new()),
        };
        UnitLine {
            rank: s.rank.map(|r| r.to_string()).unwrap_or_else(|| "–".into()),
            name,
            kind,
            code,
            retired: s.stat.retired,
            received: c.received,
            decided: c.decided,
            informed: percent(s.rates.informed_rate),
            on_time: percent(s.rates.on_time_rate),
            online: percent(s.rates.online_rate),
            payment: percent(s.rates.online_payment_rate),
            satisfaction: percent(s.rates.satisfaction_rate),
            score: s
                .score
                .map(|v| format!("{v:.1}"))
                .or_else(|| s.enough_data.then(|| "–".into())),
            enough_data: s.enough_data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_names_are_the_query_values() {
        for s in UnitSort::ALL {
            assert_eq!(UnitSort::parse(Some(s.as_str())).unwrap(), s);
        }
        assert_eq!(UnitSort::parse(None).unwrap(), UnitSort::Score);
        assert_eq!(UnitSort::parse(Some("")).unwrap(), UnitSort::Score);
        assert!(UnitSort::parse(Some("code; drop")).is_err());
    }
}
