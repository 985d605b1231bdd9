//! What the printable invoice says about its legal e-invoice: series, number and lookup code
//! once the provider has issued it, "not issued yet" before.

/// The e-invoice registered for one invoice, as the printable invoice shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EInvoiceRef {
    /// `None` until the e-invoice is issued. It is filled in one place,
    /// `app::invoices::einvoice_ref`, from the e-invoice store's record of the invoice
    /// (`einvoice::store::issued_for(conn, invoice_id)`, written when the provider answers).
    pub issued: Option<IssuedEInvoice>,
}

/// An issued e-invoice's identifiers, as the provider and the tax authority gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedEInvoice {
    /// Template symbol and series, e.g. `1` and `C26TPO`.
    pub template: String,
    pub series: String,
    pub number: String,
    /// The tax authority's code, when the invoice is issued with one.
    pub authority_code: Option<String>,
    /// What the buyer types on the provider's lookup page.
    pub lookup_code: String,
}
