//! Legal e-invoices (Decree 123/2020 as amended by Decree 70/2025): from each finalized
//! invoice, the tax authority's XML message 2.1.0, issued through a licensed provider
//! (docs/einvoice.md).
//!
//! `model` holds the invoice as the law describes it (types that check themselves), `xml`
//! writes it (the schema is `reference/einvoice-2.1.0.xsd`), `buyer` keeps each province's
//! buyer details, `build` makes an e-invoice of an invoice, `store` keeps what was issued.

pub mod build;
pub mod buyer;
pub mod model;
pub mod provider;
pub mod reference;
pub mod store;
pub mod xml;

#[cfg(test)]
mod tests;

/// Why an e-invoice cannot be made or issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EinvoiceError {
    /// A value the format refuses: never written, never sent.
    #[error("invalid e-invoice: {0}")]
    Invalid(String),
}
