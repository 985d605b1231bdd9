//! Sending one mail: `.eml` files by default, SMTP when `mail.smtp_url` is set (lettre).

use lettre::message::{Mailbox, header::ContentType};
use lettre::{FileTransport, Message, SmtpTransport, Transport};
use secrecy::ExposeSecret;

use crate::config::Settings;

pub trait Mailer: Send + Sync {
    /// Sends one mail under `message_id` (`<…@…>`): every attempt of one outbox row carries
    /// the same id, so a copy a server took before a timeout is recognised as the same mail.
    fn send(&self, to: &str, subject: &str, body: &str, message_id: &str) -> Result<(), String>;

    /// The domain of the sender's address, for Message-IDs.
    fn domain(&self) -> String;
}

enum Via {
    Files(FileTransport),
    Smtp(Box<SmtpTransport>),
}

pub struct LettreMailer {
    from: Mailbox,
    via: Via,
}

impl LettreMailer {
    pub fn from_settings(settings: &Settings) -> Result<LettreMailer, String> {
        let from: Mailbox = settings
            .mail
            .from
            .parse()
            .map_err(|e| format!("mail.from: {e}"))?;
        let url = settings.mail.smtp_url.expose_secret();
        let via = if url.is_empty() {
            let dir = settings.storage.data_dir.join("mail");
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            Via::Files(FileTransport::new(dir))
        } else {
            let transport = SmtpTransport::from_url(url)
                .map_err(|e| format!("mail.smtp_url: {e}"))?
                .timeout(Some(std::time::Duration::from_millis(
                    settings.mail.smtp_timeout_ms,
                )))
                .build();
            Via::Smtp(Box::new(transport))
        };
        Ok(LettreMailer { from, via })
    }
}

impl Mailer for LettreMailer {
    fn domain(&self) -> String {
        self.from.email.domain().to_string()
    }

    fn send(&self, to: &str, subject: &str, body: &str, message_id: &str) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("recipient {to:?}: {e}"))?;
        let message = Message::builder()
            .message_id(Some(message_id.to_string()))
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| format!("message: {e}"))?;
        match &self.via {
            Via::Files(t) => t
                .send(&message)
                .map(|_| ())
                .map_err(|e| format!("file: {e}")),
            Via::Smtp(t) => t
                .send(&message)
                .map(|_| ())
                .map_err(|e| format!("smtp: {e}")),
        }
    }
}
