//! A real SMTP conversation in the test: a tiny server that accepts every mail and keeps it,
//! decoded (base64 / quoted-printable, UTF-8) so tests can read Vietnamese text.

use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct Mail {
    /// The `From` header as sent (encoded words decoded).
    pub from: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The `Message-ID` header as sent.
    pub message_id: String,
}

pub struct MailSink {
    pub port: u16,
    pub mails: Arc<Mutex<Vec<Mail>>>,
    /// Waited before the final `250` after a message's data (the mail is kept first): longer
    /// than the client's timeout, it is a mail taken whose sender never heard so.
    pub final_reply_delay: Arc<Mutex<std::time::Duration>>,
    task: Option<JoinHandle<()>>,
}

impl MailSink {
    /// Listens on a free port.
    pub async fn start() -> MailSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut sink = MailSink {
            port,
            mails: Arc::default(),
            final_reply_delay: Arc::default(),
            task: None,
        };
        sink.task = Some(tokio::spawn(serve(
            listener,
            sink.mails.clone(),
            sink.final_reply_delay.clone(),
        )));
        sink
    }

    /// Delays the final reply to each message's data by `delay` from now on.
    pub fn delay_final_reply(&self, delay: std::time::Duration) {
        *self.final_reply_delay.lock().unwrap() = delay;
    }

    /// Takes the port back after `stop` (the same address the app was configured with).
    pub async fn restart(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.task = Some(tokio::spawn(serve(
            listener,
            self.mails.clone(),
            self.final_reply_delay.clone(),
        )));
    }

    /// Closes the port: connections are refused until `restart`.
    pub async fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits up to `secs` for at least `n` mails.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Mail> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let got = self.received();
            if got.len() >= n || std::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

async fn serve(
    listener: TcpListener,
    mails: Arc<Mutex<Vec<Mail>>>,
    delay: Arc<Mutex<std::time::Duration>>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let mails = mails.clone();
        let delay = delay.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            let _ = write.write_all(b"220 sink ESMTP\r\n").await;
            let mut to = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                let upper = line.to_ascii_uppercase();
                let reply: &[u8] = if upper.starts_with("EHLO") {
                    b"250-sink\r\n250 8BITMIME\r\n"
                } else if upper.starts_with("RCPT TO:") {
                    to = line[8..].trim().trim_matches(['<', '>']).to_string();
                    b"250 ok\r\n"
                } else if upper.starts_with("DATA") {
                    let _ = write.write_all(b"354 go on\r\n").await;
                    let mut raw = Vec::new();
                    while let Ok(Some(l)) = lines.next_line().await {
                        if l == "." {
                            break;
                        }
                        raw.push(l.strip_prefix('.').map(str::to_string).unwrap_or(l));
                    }
                    mails.lock().unwrap().push(decode(&to, &raw));
                    let wait = *delay.lock().unwrap();
                    if !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                    b"250 queued\r\n"
                } else if upper.starts_with("QUIT") {
                    let _ = write.write_all(b"221 bye\r\n").await;
                    return;
                } else {
                    b"250 ok\r\n"
                };
                let _ = write.write_all(reply).await;
            }
        });
    }
}

fn decode(to: &str, lines: &[String]) -> Mail {
    let split = lines
        .iter()
        .position(|l| l.is_empty())
        .unwrap_or(lines.len());
    let (headers, body) = lines.split_at(split);
    let header = |name: &str| {
        let mut value = String::new();
        let mut inside = false;
        for h in headers {
            if h.to_ascii_lowercase()
                .starts_with(&format!("{}:", name.to_ascii_lowercase()))
            {
                value = h[name.len() + 1..].trim().to_string();
                inside = true;
            } else if inside && h.starts_with([' ', '\t']) {
                value.push(' ');
                value.push_str(h.trim_start());
            } else {
                inside = false;
            }
        }
        value
    };
    let body: Vec<String> = body.iter().skip(1).cloned().collect();
    let encoding = header("Content-Transfer-Encoding").to_ascii_lowercase();
    let text = match encoding.as_str() {
        "base64" => {
            let joined: String = body.concat();
            String::from_utf8_lossy(
                &base64::engine::general_purpose::STANDARD
                    .decode(joined)
                    .unwrap_or_default(),
            )
            .into_owned()
        }
        "quoted-printable" => quoted_printable(&body),
        _ => body.join("\n"),
    };
    Mail {
        from: decode_words(&header("From")),
        to: to.to_string(),
        subject: decode_words(&header("Subject")),
        body: text,
        message_id: header("Message-ID"),
    }
}

fn quoted_printable(lines: &[String]) -> String {
    let mut bytes = Vec::new();
    for line in lines {
        let (content, soft) = match line.strip_suffix('=') {
            Some(c) => (c, true),
            None => (line.as_str(), false),
        };
        let b = content.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'='
                && i + 3 <= b.len()
                && let Ok(v) =
                    u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or(""), 16)
            {
                bytes.push(v);
                i += 3;
                continue;
            }
            bytes.push(b[i]);
            i += 1;
        }
        if !soft {
            bytes.push(b'\n');
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// RFC 2047 encoded words (`=?utf-8?b?…?=`) in a header. Adjacent words are joined as bytes
/// first: lettre may split one UTF-8 character across two words.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let flush = |pending: &mut Vec<u8>, out: &mut String| {
        out.push_str(&String::from_utf8_lossy(pending));
        pending.clear();
    };
    for word in value.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        if lower.starts_with("=?utf-8?b?") && word.ends_with("?=") {
            let data = &word[10..word.len() - 2];
            pending.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .unwrap_or_default(),
            );
        } else if lower.starts_with("=?utf-8?q?") && word.ends_with("?=") {
            let data = word[10..word.len() - 2].replace('_', " ");
            pending.extend(quoted_printable(&[format!("{data}=")]).into_bytes());
        } else {
            flush(&mut pending, &mut out);
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    flush(&mut pending, &mut out);
    out
}
