//! Licensed e-invoice providers behind one trait, as payment providers are
//! ([`crate::billing::provider`]): `mock` (in-process, for development and demos) and Viettel
//! S-Invoice's JSON API (every path in `[einvoice]`; in tests a local HTTP mock speaks it).
//!
//! Our idempotency key (the invoice's id; see `store`) is the provider's `transactionUuid`.
//! A call that timed out or whose answer could not be read may have created the e-invoice
//! anyway, so every attempt after the first searches by the key before creating: a retry never
//! creates an e-invoice twice.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use futures_util::future::BoxFuture;
use openidconnect::reqwest;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::model::{BuyerId, Correction, EInvoice, VatRate};
use crate::config::{EinvoiceSettings, SellerSettings};

/// One e-invoice to register.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// Our idempotency key (`transactionUuid`).
    pub key: &'a str,
    pub einvoice: &'a EInvoice,
    /// The XML we built (message 2.1.0), checked against the model.
    pub xml: &'a [u8],
}

/// What the provider registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The provider's number (Viettel `invoiceNo`, e.g. `C26TPO12`).
    pub provider_number: String,
    /// The tax authority's code (`MCCQT`), when the provider has it already.
    pub authority_code: Option<String>,
    /// The code the buyer looks the invoice up with.
    pub lookup_code: String,
    pub pdf: Option<Vec<u8>>,
}

/// Why a call failed; every kind is recorded on the e-invoice and retried with the same key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("unreadable answer: {0}")]
    Unparsable(String),
    #[error("refused: {0}")]
    Refused(String),
    #[error("unreachable: {0}")]
    Unreachable(String),
}

/// A licensed provider. Calls run outside any database transaction.
pub trait EinvoiceProvider: Send + Sync {
    fn name(&self) -> &'static str;
    /// The e-invoice registered under `key`, if any.
    fn find<'a>(&'a self, key: &'a str)
    -> BoxFuture<'a, Result<Option<Registered>, ProviderError>>;
    /// Registers `out` (signs it, sends it to the tax authority).
    fn create<'a>(&'a self, out: Outgoing<'a>) -> BoxFuture<'a, Result<Registered, ProviderError>>;
}

/// Registers `out` once: after an earlier attempt (`retry`), first searches by the key.
pub async fn register(
    p: &dyn EinvoiceProvider,
    out: Outgoing<'_>,
    retry: bool,
) -> Result<Registered, ProviderError> {
    if retry {
        if let Some(found) = p.find(out.key).await? {
            return Ok(found);
        }
    }
    p.create(out).await
}

/// In-process provider for development and demos: makes up the codes, keeps them in memory.
#[derive(Debug, Default)]
pub struct Mock {
    issued: Mutex<HashMap<String, Registered>>,
}

impl EinvoiceProvider for Mock {
    fn name(&self) -> &'static str {
        "mock"
    }

    fn find<'a>(
        &'a self,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Registered>, ProviderError>> {
        let found = self
            .issued
            .lock()
            .map(|m| m.get(key).cloned())
            .unwrap_or(None);
        Box::pin(async move { Ok(found) })
    }

    fn create<'a>(&'a self, out: Outgoing<'a>) -> BoxFuture<'a, Result<Registered, ProviderError>> {
        let r = Registered {
            provider_number: format!("{}{}", out.einvoice.series.as_str(), out.einvoice.number),
            authority_code: Some(format!(
                "00{}",
                uuid::Uuid::new_v4().simple().to_string().to_uppercase()
            )),
            lookup_code: uuid::Uuid::new_v4().simple().to_string()[..10].to_uppercase(),
            pdf: None,
        };
        let stored = self
            .issued
            .lock()
            .map(|mut m| m.entry(out.key.to_string()).or_insert(r).clone())
            .map_err(|e| ProviderError::Refused(e.to_string()));
        Box::pin(async move { stored })
    }
}

/// Viettel S-Invoice's JSON API (`createInvoice`, `searchInvoiceByTransactionUuid`,
/// `getInvoiceRepresentationFile`), HTTP Basic authentication.
pub struct Viettel {
    http: reqwest::Client,
    base: String,
    username: String,
    password: SecretString,
    tax_code: String,
    template_code: String,
    create_path: String,
    search_path: String,
    pdf_path: String,
}

impl std::fmt::Debug for Viettel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Viettel").field("base", &self.base).finish()
    }
}

fn http_error(e: reqwest::Error) -> ProviderError {
    if e.is_timeout() {
        ProviderError::Timeout(e.to_string())
    } else if e.is_decode() || e.is_body() {
        ProviderError::Unparsable(e.to_string())
    } else {
        ProviderError::Unreachable(e.to_string())
    }
}

/// Viettel's `taxPercentage`: the rate, or -2 for "not subject to VAT".
fn viettel_rate(r: VatRate) -> i64 {
    match r {
        VatRate::Exempt => -2,
        VatRate::Eight => 8,
        VatRate::Ten => 10,
    }
}

/// `application/x-www-form-urlencoded` of `pairs`.
fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn ms(d: chrono::NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis() - 7 * 3_600_000)
        .unwrap_or(0)
}

impl Viettel {
    /// `seller_tax_code` is `[seller] tax_code`: the paths name the seller's tax code.
    pub fn new(s: &EinvoiceSettings, seller_tax_code: &str) -> Result<Viettel, String> {
        let http = reqwest::Client::builder()
            .timeout(s.timeout())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Viettel {
            http,
            base: s.api_base.trim_end_matches('/').to_string(),
            username: s.username.clone(),
            password: s
                .password
                .clone()
                .unwrap_or_else(|| SecretString::from(String::new())),
            tax_code: seller_tax_code.to_string(),
            template_code: s.template_code.clone(),
            create_path: s.create_path.clone(),
            search_path: s.search_path.clone(),
            pdf_path: s.pdf_path.clone(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.base,
            path.trim_start_matches('/')
                .replace("{tax_code}", &self.tax_code)
        )
    }

    async fn post(&self, path: &str, req: reqwest::RequestBuilder) -> Result<Value, ProviderError> {
        let res = req
            .basic_auth(&self.username, Some(self.password.expose_secret()))
            .send()
            .await
            .map_err(http_error)?;
        let status = res.status();
        let text = res.text().await.map_err(http_error)?;
        let body: Value = serde_json::from_str(&text)
            .map_err(|e| ProviderError::Unparsable(format!("{path}: HTTP {status}: {e}")))?;
        if !status.is_success() || !body["errorCode"].is_null() {
            return Err(ProviderError::Refused(format!(
                "{path}: HTTP {status}: {} {}",
                body["errorCode"], body["description"]
            )));
        }
        Ok(body)
    }

    /// The body of `createInvoice`.
    pub fn payload(&self, out: &Outgoing<'_>) -> Value {
        let e = out.einvoice;
        let t = e.totals();
        let (tax, budget) = match &e.buyer.id {
            BuyerId::TaxCode(t) => (Some(t.as_str()), None),
            BuyerId::BudgetUnit(u) => (None, Some(u.as_str())),
            BuyerId::Both(t, u) => (Some(t.as_str()), Some(u.as_str())),
        };
        let mut general = json!({
            "invoiceType": e.template,
            "templateCode": self.template_code,
            "invoiceSeries": e.series.as_str(),
            "invoiceIssuedDate": ms(e.issued_on),
            "currencyCode": super::model::CURRENCY,
            "adjustmentType": "1",
            "paymentStatus": true,
            "cusGetInvoiceRight": true,
            "transactionUuid": out.key,
        });
        if let Some(r) = &e.related {
            general["adjustmentType"] = json!(match r.correction {
                Correction::Replacement => "3",
                Correction::Adjustment => "5",
            });
            general["adjustmentInvoiceType"] = json!("1");
            general["originalInvoiceId"] = json!(format!("{}{}", r.series.as_str(), r.number));
            general["originalInvoiceIssueDate"] = json!(ms(r.issued_on));
            general["originalTemplateCode"] = json!(self.template_code);
            general["additionalReferenceDesc"] = json!(r.note);
            general["additionalReferenceDate"] = json!(ms(r.issued_on));
        }
        let adjustment = matches!(&e.related, Some(r) if r.correction == Correction::Adjustment);
        json!({
            "generalInvoiceInfo": general,
            "buyerInfo": {
                "buyerLegalName": e.buyer.name,
                "buyerTaxCode": tax,
                "buyerBudgetCode": budget,
                "buyerAddressLine": e.buyer.address,
                "buyerEmail": e.buyer.email,
            },
            "sellerInfo": {
                "sellerLegalName": e.seller.name,
                "sellerTaxCode": e.seller.tax_code.as_str(),
                "sellerAddressLine": e.seller.address,
                "sellerBankAccount": e.seller.bank_account,
                "sellerBankName": e.seller.bank_name,
            },
            "payments": [{ "paymentMethodName": e.payment_method }],
            "itemInfo": e.lines.iter().enumerate().map(|(i, l)| json!({
                "lineNumber": i + 1,
                "selection": 1,
                "itemName": l.name,
                "unitName": l.unit,
                "quantity": l.quantity,
                "unitPrice": l.unit_price.abs(),
                "itemTotalAmountWithoutTax": l.amount.abs(),
                "taxPercentage": viettel_rate(l.rate),
                "isIncreaseItem": if adjustment { Some(l.amount >= 0) } else { None },
            })).collect::<Vec<_>>(),
            "taxBreakdowns": t.per_rate.iter().map(|r| json!({
                "taxPercentage": viettel_rate(r.rate),
                "taxableAmount": r.taxable.abs(),
                "taxAmount": r.tax.abs(),
            })).collect::<Vec<_>>(),
            "summarizeInfo": {
                "totalAmountWithoutTax": t.before_vat.abs(),
                "totalTaxAmount": t.vat.abs(),
                "totalAmountWithTax": t.total.abs(),
                "totalAmountWithTaxInWords": t.in_words,
                "discountAmount": 0,
                "isTotalAmountPos": t.total >= 0,
            },
        })
    }

    fn registered(v: &Value) -> Result<Registered, ProviderError> {
        let text = |k: &str| v[k].as_str().filter(|s| !s.is_empty()).map(str::to_string);
        Ok(Registered {
            provider_number: text("invoiceNo")
                .ok_or_else(|| ProviderError::Unparsable(format!("no invoiceNo in {v}")))?,
            authority_code: text("codeOfTax"),
            lookup_code: text("reservationCode")
                .ok_or_else(|| ProviderError::Unparsable(format!("no reservationCode in {v}")))?,
            pdf: None,
        })
    }

    /// The PDF of a registered invoice; `None` when the provider has none to give yet.
    async fn pdf(&self, key: &str, number: &str) -> Option<Vec<u8>> {
        let body = json!({
            "supplierTaxCode": self.tax_code,
            "invoiceNo": number,
            "templateCode": self.template_code,
            "transactionUuid": key,
            "fileType": "PDF",
        });
        let req = self
            .http
            .post(self.url(&self.pdf_path))
            .header("Content-Type", "application/json")
            .body(body.to_string());
        match self.post(&self.pdf_path, req).await {
            Ok(v) => v["fileToBytes"]
                .as_str()
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()),
            Err(e) => {
                tracing::warn!(error = %e, number, "e-invoice PDF not fetched");
                None
            }
        }
    }
}

impl EinvoiceProvider for Viettel {
    fn name(&self) -> &'static str {
        "viettel"
    }

    fn find<'a>(
        &'a self,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Registered>, ProviderError>> {
        Box::pin(async move {
            let req = self
                .http
                .post(self.url(&self.search_path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(form(&[
                    ("supplierTaxCode", &self.tax_code[..]),
                    ("transactionUuid", key),
                ]));
            let body = self.post(&self.search_path, req).await?;
            let first = match &body["result"] {
                Value::Array(list) => list.first().cloned(),
                Value::Null => None,
                other => Some(other.clone()),
            };
            match first {
                None => Ok(None),
                Some(v) => {
                    let mut r = Viettel::registered(&v)?;
                    r.pdf = self.pdf(key, &r.provider_number).await;
                    Ok(Some(r))
                }
            }
        })
    }

    fn create<'a>(&'a self, out: Outgoing<'a>) -> BoxFuture<'a, Result<Registered, ProviderError>> {
        Box::pin(async move {
            let req = self
                .http
                .post(self.url(&self.create_path))
                .header("Content-Type", "application/json")
                .body(self.payload(&out).to_string());
            let body = self.post(&self.create_path, req).await?;
            let mut r = Viettel::registered(&body["result"])?;
            r.pdf = self.pdf(out.key, &r.provider_number).await;
            Ok(r)
        })
    }
}

/// The provider `[einvoice] provider` names; `None` for `off`.
pub fn from_settings(
    s: &EinvoiceSettings,
    seller: &SellerSettings,
) -> Result<Option<std::sync::Arc<dyn EinvoiceProvider>>, String> {
    match s.provider.as_str() {
        "off" => Ok(None),
        "mock" => Ok(Some(std::sync::Arc::new(Mock::default()))),
        "viettel" => Ok(Some(std::sync::Arc::new(Viettel::new(
            s,
            &seller.tax_code,
        )?))),
        other => Err(format!(
            "einvoice.provider is \"{other}\": mock, viettel or off"
        )),
    }
}
