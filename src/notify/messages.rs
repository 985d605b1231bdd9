//! What every mail of a province says of where it comes from. (What the citizen is told at
//! each step of a dossier is `dossiers::mail`.)

/// Where the mail comes from: the province's name and site.
#[derive(Debug, Clone)]
pub struct MailContext {
    pub province: String,
    pub site_url: String,
}
