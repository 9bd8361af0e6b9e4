//! Named errors, each with a message staff can act on. None carries personal data.

use std::time::Duration;

/// Why a card's proof or the platform's answer refuses the card (never lend).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Untrusted {
    #[error("the card's signature over the challenge does not verify: not the genuine card")]
    BadSignature,
    #[error("the card's certificate does not chain to a configured JPKI CA")]
    UntrustedIssuer,
    #[error("the card's certificate is not valid yet")]
    NotYetValid,
    #[error("the card's certificate is not a usable RSA sha256WithRSA certificate")]
    UnsupportedCertificate,
    #[error("the challenge expired before the card's answer was checked")]
    ChallengeExpired,
    #[error("the platform refused the card's signature")]
    PlatformRejectedSignature,
    #[error("the responder does not know this certificate")]
    UnknownToPlatform,
}

impl Untrusted {
    pub fn staff_message(&self) -> &'static str {
        match self {
            Untrusted::BadSignature | Untrusted::PlatformRejectedSignature => {
                "The card could not prove it is genuine. Ask the patron to use a library card or see the counter."
            }
            Untrusted::UntrustedIssuer | Untrusted::UnsupportedCertificate | Untrusted::UnknownToPlatform => {
                "This card's certificate is not from a trusted JPKI CA (check the configured CA certificates)."
            }
            Untrusted::NotYetValid => "The card's certificate is not valid yet: check the kiosk's clock.",
            Untrusted::ChallengeExpired => "The check took too long. Ask the patron to try again.",
        }
    }
}

/// An OCSP response that cannot be trusted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OcspError {
    #[error("the response is not valid DER OCSP: {0}")]
    Malformed(String),
    #[error("the responder answered status {0}")]
    NotSuccessful(String),
    #[error("the response type is not id-pkix-ocsp-basic")]
    NotBasic,
    #[error("the response is signed with an unsupported algorithm")]
    UnsupportedAlgorithm,
    #[error("the response's signer is neither the CA nor a responder certified by it for OCSP signing")]
    UnknownSigner,
    #[error("the response's signature does not verify")]
    BadSignature,
    #[error("the response carries no nonce (a replayed or pre-produced response)")]
    NonceMissing,
    #[error("the response's nonce is not the one sent")]
    NonceMismatch,
    #[error("the response is not about the certificate asked for")]
    CertIdMismatch,
    #[error("the response is stale (nextUpdate passed) or from the future")]
    Stale,
}

/// A CRL that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CrlError {
    #[error("the CRL is not valid DER: {0}")]
    Malformed(String),
    #[error("the CRL is signed with an unsupported algorithm")]
    UnsupportedAlgorithm,
    #[error("no configured CA signed the CRL (bad signature or wrong issuer)")]
    BadSignature,
    #[error("the CRL is past its nextUpdate")]
    Stale,
    #[error("the CRL's thisUpdate is in the future")]
    NotYetValid,
    #[error("delta CRLs are not supported")]
    UnsupportedDelta,
    #[error("the CRL has an unsupported critical extension")]
    UnsupportedCriticalExtension,
    #[error("no CRL has been loaded yet")]
    NoCrl,
    #[error("the CRL is from another CA generation than the card")]
    OtherIssuer,
    #[error("reading or storing the CRL failed: {0}")]
    Io(String),
}

/// Why no trustworthy answer could be had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    #[error("the platform's TLS certificate is not trusted: {0}")]
    ServerCertificate(String),
    #[error("the platform refused this terminal's client certificate: {0}")]
    ClientCertificateRefused(String),
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    #[error("could not connect to the platform: {0}")]
    Connect(String),
    #[error("the platform did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the platform is in maintenance (HTTP 503)")]
    Maintenance,
    #[error("the platform answered HTTP {0}")]
    Http(u16),
    #[error("the platform's answer was cut short")]
    Truncated,
    #[error("the platform's answer is larger than {limit} bytes; it was not read further")]
    TooLarge { limit: usize },
    #[error("the platform's answer is malformed: {0}")]
    Malformed(String),
    #[error("the platform's answer belongs to another transaction")]
    TransactionMismatch,
    #[error("the platform's answer is not trustworthy: {0}")]
    Ocsp(#[from] OcspError),
    #[error("CRL: {0}")]
    Crl(#[from] CrlError),
    #[error("the platform could not be asked (no platform challenge)")]
    Offline,
    #[error("terminal registration refused: {0}")]
    RegistrationRefused(String),
    #[error("this kiosk is not registered with the platform yet")]
    NotRegistered,
    #[error("link store: {0}")]
    LinkStore(String),
    #[error("configuration: {0}")]
    Config(String),
}

impl PlatformError {
    /// What staff should do (shown in the admin menu and on the refusal screen's staff
    /// view).
    pub fn staff_message(&self) -> &'static str {
        match self {
            PlatformError::ServerCertificate(_) => {
                "The platform presented a certificate the kiosk does not trust (wrong CA or expired). \
                 Card checks are refused; call IT. Library cards still work."
            }
            PlatformError::ClientCertificateRefused(_) => {
                "The platform refused this kiosk's terminal certificate: register the terminal again \
                 from the admin menu. Library cards still work."
            }
            PlatformError::Tls(_) => {
                "The secure connection to the platform failed (protocol mismatch). Call IT. \
                 Library cards still work."
            }
            PlatformError::Connect(_) | PlatformError::Timeout(_) | PlatformError::Offline => {
                "The platform cannot be reached (network). Card checks are refused until it is back; \
                 library cards still work."
            }
            PlatformError::Maintenance => {
                "The platform is in maintenance. Card checks resume when it is back; library cards still work."
            }
            PlatformError::Http(_)
            | PlatformError::Truncated
            | PlatformError::TooLarge { .. }
            | PlatformError::Malformed(_)
            | PlatformError::TransactionMismatch => {
                "The platform gave an answer the kiosk cannot use. Card checks are refused; call IT if it \
                 persists. Library cards still work."
            }
            PlatformError::Ocsp(_) => {
                "The revocation responder's answer failed verification (possible attack or misconfiguration). \
                 Card checks are refused; call IT. Library cards still work."
            }
            PlatformError::Crl(CrlError::Stale | CrlError::NoCrl) => {
                "The kiosk has no current revocation list (download failing). Card checks are refused; \
                 check the network. Library cards still work."
            }
            PlatformError::Crl(_) => {
                "The revocation list failed verification. Card checks are refused; call IT. \
                 Library cards still work."
            }
            PlatformError::RegistrationRefused(_) => {
                "Registration refused: check the terminal ID and password issued by the municipality. \
                 'Registered with another fingerprint' means the hardware changed: ask the municipality to reset it."
            }
            PlatformError::NotRegistered => {
                "This kiosk is not registered with the platform yet: open the staff menu, Registration, \
                 and press Register this terminal. Library cards still work."
            }
            PlatformError::LinkStore(_) => "The kiosk's link store cannot be read or written. Call IT.",
            PlatformError::Config(_) => "The platform settings are wrong. Call IT.",
        }
    }

    /// Classifies a reqwest error by walking its source chain (see [`Failure`]); a
    /// connection closed before any answer is named [`PlatformError::Connect`] here.
    /// Requests that can tell that case apart go through [`crate::tls::send`].
    pub(crate) fn from_reqwest(err: &reqwest::Error, timeout: Duration) -> Self {
        Failure::of(err, timeout).into_error()
    }
}

/// Where a failed request was when it failed, as reqwest reports it (kept apart from the
/// error chain so that the classification can be tested without a network).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Phase {
    /// reqwest's own timeout fired.
    pub timed_out: bool,
    /// Connecting: TCP connect or the TLS handshake.
    pub connecting: bool,
    /// The response's head had arrived: reading or decoding its body failed.
    pub reading_body: bool,
}

impl Phase {
    pub(crate) fn of(err: &reqwest::Error) -> Self {
        Phase {
            timed_out: err.is_timeout(),
            connecting: err.is_connect(),
            reading_body: err.is_body() || err.is_decode(),
        }
    }
}

/// What a failed request tells, before anything else is asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The failure names itself.
    Known(PlatformError),
    /// The connection was set up (TCP and TLS handshake done), then closed, reset, or
    /// found closed when the request was to be written, before any HTTP answer, and no
    /// TLS alert in the error says why.
    ///
    /// With TLS 1.3 this is how the platform's refusal of the terminal's certificate can
    /// look: the client's handshake is over once it has sent its certificate and Finished,
    /// so the request follows at once, and the server's alert races it. The alert may be
    /// read by hyper's connection task before the request is handed over (the request
    /// then fails with "connection was not ready" and the alert is only logged by hyper),
    /// or writing the request may fail first (reset, broken pipe), since a server that has
    /// closed answers the request's bytes with a reset, or the connection may read as
    /// closed before the answer.
    ///
    /// It is not enough to conclude that the certificate was refused: a platform
    /// restarting, a load balancer with no healthy back-end, a server at its connection
    /// limit or closing idle connections, or a middlebox look exactly the same. Telling
    /// staff "register the terminal again" for a network fault sends them on a wrong and
    /// costly errand (and the opposite mistake hides a refused terminal behind "network").
    /// So the caller asks the platform again in a way that has no race
    /// ([`crate::tls::check_client_certificate`]) and otherwise names it a connection
    /// failure.
    ClosedBeforeAnswer(String),
}

impl Failure {
    pub(crate) fn of(err: &reqwest::Error, timeout: Duration) -> Self {
        Failure::classify(Phase::of(err), err, timeout)
    }

    /// `err` is the whole chain, walked through `source()` (and into `io::Error`s, whose
    /// `source()` skips the error they wrap) down to the `rustls::Error` or `io::Error`.
    pub(crate) fn classify(phase: Phase, err: &(dyn std::error::Error + 'static), timeout: Duration) -> Self {
        if phase.timed_out {
            return Failure::Known(PlatformError::Timeout(timeout));
        }
        // A TLS alert or certificate error anywhere in the chain names the failure,
        // whichever phase it came in (handshake, writing the request, reading the answer).
        if let Some(tls) = find_rustls_error(err) {
            return Failure::Known(classify_rustls(tls));
        }
        if phase.reading_body {
            return Failure::Known(PlatformError::Truncated);
        }
        let text = chain_text(err);
        if has_io_kind(err, &[std::io::ErrorKind::TimedOut]) || text.contains("timed out") {
            return Failure::Known(PlatformError::Timeout(timeout));
        }
        if phase.connecting {
            // Refused, unreachable, or closed during the handshake without an alert: the
            // certificate was not refused here (a TLS 1.2 server refuses inside the
            // handshake with an alert; a TLS 1.3 one only after the client's Finished).
            return Failure::Known(PlatformError::Connect(text));
        }
        if closed_before_answer(err) {
            return Failure::ClosedBeforeAnswer(text);
        }
        Failure::Known(PlatformError::Connect(text))
    }

    /// The error when nothing more is learned: a connection closed before any answer is
    /// a connection failure.
    pub(crate) fn into_error(self) -> PlatformError {
        match self {
            Failure::Known(e) => e,
            Failure::ClosedBeforeAnswer(text) => PlatformError::Connect(text),
        }
    }
}

/// hyper's messages for a request that never got an answer on its connection
/// (`Canceled` with "connection was not ready", `ChannelClosed`, `IncompleteMessage`).
/// reqwest does not expose hyper's error type, so its words are matched; the unit tests
/// check them against what the real stack reports for closed and reset connections.
const HYPER_NO_ANSWER: &[&str] =
    &["operation was canceled", "channel closed", "connection closed before message completed"];

fn closed_before_answer(err: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind as K;
    if has_io_kind(err, &[K::ConnectionReset, K::ConnectionAborted, K::BrokenPipe, K::UnexpectedEof]) {
        return true;
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        let own = e.to_string();
        if HYPER_NO_ANSWER.iter().any(|m| own.starts_with(m)) {
            return true;
        }
        cur = e.source();
    }
    false
}

fn has_io_kind(err: &(dyn std::error::Error + 'static), kinds: &[std::io::ErrorKind]) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if kinds.contains(&io.kind()) {
                return true;
            }
            if let Some(inner) = io.get_ref()
                && has_io_kind(inner, kinds)
            {
                return true;
            }
        }
        cur = e.source();
    }
    false
}

fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cur = e.source();
    }
    text
}

fn find_rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // io::Error::source() skips the wrapped error itself: look inside.
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
        {
            if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                return Some(tls);
            }
            if let Some(found) = find_rustls_error(inner) {
                return Some(found);
            }
        }
        cur = e.source();
    }
    None
}

pub(crate) fn classify_rustls(err: &rustls::Error) -> PlatformError {
    use rustls::AlertDescription as A;
    match err {
        rustls::Error::InvalidCertificate(why) => PlatformError::ServerCertificate(format!("{why:?}")),
        rustls::Error::AlertReceived(
            alert @ (A::BadCertificate
            | A::CertificateRequired
            | A::UnknownCA
            | A::CertificateUnknown
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::UnsupportedCertificate
            | A::AccessDenied),
        ) => PlatformError::ClientCertificateRefused(format!("{alert:?}")),
        other => PlatformError::Tls(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BoxFuture;

    #[test]
    fn every_error_has_a_staff_message() {
        let all = [
            PlatformError::ServerCertificate(String::new()),
            PlatformError::ClientCertificateRefused(String::new()),
            PlatformError::Tls(String::new()),
            PlatformError::Timeout(Duration::from_secs(5)),
            PlatformError::Maintenance,
            PlatformError::Truncated,
            PlatformError::Ocsp(OcspError::NonceMissing),
            PlatformError::Crl(CrlError::Stale),
            PlatformError::Crl(CrlError::BadSignature),
            PlatformError::NotRegistered,
        ];
        for e in all {
            assert!(e.staff_message().len() > 20, "{e}");
        }
    }

    #[test]
    fn rustls_alerts_are_classified() {
        let e = classify_rustls(&rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired));
        assert!(matches!(e, PlatformError::ClientCertificateRefused(_)));
        let e = classify_rustls(&rustls::Error::InvalidCertificate(rustls::CertificateError::Expired));
        assert!(matches!(e, PlatformError::ServerCertificate(_)));
    }

    /// An error with a message and a source, like reqwest's and hyper's wrappers.
    #[derive(Debug)]
    struct Wrapped(&'static str, Option<Box<dyn std::error::Error + Send + Sync + 'static>>);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_ref().map(|e| &**e as _)
        }
    }

    /// reqwest → hyper-util → hyper → `inner`, the shape of a failed `send()`.
    fn request_error(inner: impl std::error::Error + Send + Sync + 'static) -> Wrapped {
        let hyper = Wrapped("error reading a body from connection", Some(Box::new(inner)));
        Wrapped(
            "error sending request",
            Some(Box::new(Wrapped("client error (SendRequest)", Some(Box::new(hyper))))),
        )
    }

    fn io(kind: std::io::ErrorKind) -> std::io::Error {
        std::io::Error::new(kind, "from the socket")
    }

    /// A rustls error as tokio-rustls and hyper-rustls report it: inside an `io::Error`.
    fn tls_io(e: rustls::Error) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }

    const T: Duration = Duration::from_secs(5);
    const AFTER_CONNECT: Phase = Phase { timed_out: false, connecting: false, reading_body: false };
    const CONNECTING: Phase = Phase { timed_out: false, connecting: true, reading_body: false };

    fn classify(phase: Phase, err: &(dyn std::error::Error + 'static)) -> Failure {
        Failure::classify(phase, err, T)
    }

    #[test]
    fn a_timeout_is_a_timeout_whatever_the_chain_holds() {
        let timed_out = Phase { timed_out: true, ..AFTER_CONNECT };
        let e = request_error(io(std::io::ErrorKind::ConnectionReset));
        assert_eq!(classify(timed_out, &e), Failure::Known(PlatformError::Timeout(T)));
        let e = request_error(io(std::io::ErrorKind::TimedOut));
        assert_eq!(classify(AFTER_CONNECT, &e), Failure::Known(PlatformError::Timeout(T)));
    }

    #[test]
    fn a_certificate_alert_names_the_refusal_in_the_handshake_or_on_the_first_read() {
        use rustls::AlertDescription as A;
        for alert in [A::CertificateRequired, A::BadCertificate, A::UnknownCA, A::CertificateUnknown] {
            let e = request_error(tls_io(rustls::Error::AlertReceived(alert)));
            for phase in [CONNECTING, AFTER_CONNECT] {
                let got = classify(phase, &e);
                assert!(matches!(got, Failure::Known(PlatformError::ClientCertificateRefused(_))), "{got:?}");
            }
        }
        // The io::Error wrapped once more (an io::Error's source() skips what it wraps).
        let e = request_error(io_around(tls_io(rustls::Error::AlertReceived(A::UnknownCA))));
        let got = classify(AFTER_CONNECT, &e);
        assert!(matches!(got, Failure::Known(PlatformError::ClientCertificateRefused(_))), "{got:?}");
    }

    fn io_around(inner: std::io::Error) -> std::io::Error {
        std::io::Error::other(inner)
    }

    #[test]
    fn other_tls_errors_name_the_server_certificate_or_the_protocol() {
        let e =
            request_error(tls_io(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)));
        assert!(matches!(classify(CONNECTING, &e), Failure::Known(PlatformError::ServerCertificate(_))));
        let e =
            request_error(tls_io(rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion)));
        assert!(matches!(classify(CONNECTING, &e), Failure::Known(PlatformError::Tls(_))));
    }

    #[test]
    fn a_body_cut_short_is_truncated() {
        let reading_body = Phase { reading_body: true, ..AFTER_CONNECT };
        let e = request_error(io(std::io::ErrorKind::ConnectionReset));
        assert_eq!(classify(reading_body, &e), Failure::Known(PlatformError::Truncated));
    }

    #[test]
    fn failures_while_connecting_are_connection_failures() {
        use std::io::ErrorKind as K;
        for kind in [K::ConnectionRefused, K::ConnectionReset, K::UnexpectedEof] {
            let got = classify(CONNECTING, &request_error(io(kind)));
            assert!(matches!(got, Failure::Known(PlatformError::Connect(_))), "{kind:?}: {got:?}");
        }
    }

    #[test]
    fn closed_or_reset_after_the_handshake_before_an_answer_is_not_concluded_yet() {
        use std::io::ErrorKind as K;
        for kind in [K::ConnectionReset, K::ConnectionAborted, K::BrokenPipe, K::UnexpectedEof] {
            let got = classify(AFTER_CONNECT, &request_error(io(kind)));
            assert!(matches!(got, Failure::ClosedBeforeAnswer(_)), "{kind:?}: {got:?}");
        }
        // hyper's own words (the texts are pinned against the real stack in
        // `the_real_stack_reports_a_closed_connection_as_closed_before_answer`).
        let not_ready =
            Wrapped("operation was canceled", Some(Box::new(Wrapped("connection was not ready", None))));
        let got = classify(AFTER_CONNECT, &request_error(not_ready));
        assert!(
            matches!(&got, Failure::ClosedBeforeAnswer(t) if t.contains("connection was not ready")),
            "{got:?}"
        );
        for text in ["connection closed before message completed", "channel closed"] {
            let got = classify(AFTER_CONNECT, &request_error(Wrapped(text, None)));
            assert!(matches!(got, Failure::ClosedBeforeAnswer(_)), "{text}: {got:?}");
        }
        // With nothing more learned, it is a connection failure (never "answer cut short").
        let got = classify(AFTER_CONNECT, &request_error(io(K::ConnectionReset))).into_error();
        assert!(matches!(got, PlatformError::Connect(_)), "{got:?}");
    }

    #[test]
    fn anything_else_is_a_connection_failure() {
        let e = request_error(Wrapped("invalid HTTP status-code parsed", None));
        assert!(matches!(classify(AFTER_CONNECT, &e), Failure::Known(PlatformError::Connect(_))));
    }

    /// A plain-HTTP server on loopback that answers each connection with `behave`.
    async fn server(behave: fn(tokio::net::TcpStream) -> BoxFuture<'static, ()>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(behave(tcp));
            }
        });
        url
    }

    async fn read_head(tcp: &mut tokio::net::TcpStream) {
        use tokio::io::AsyncReadExt;
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    }

    async fn get(url: &str) -> Result<reqwest::Response, reqwest::Error> {
        let client = crate::tls::http_client(&crate::tls::Endpoint::new(url, None)).unwrap();
        client.get(format!("{url}/v1/nonce")).send().await
    }

    #[tokio::test]
    async fn the_real_stack_reports_a_closed_connection_as_closed_before_answer() {
        // Closed after reading the request: hyper's IncompleteMessage.
        let url = server(|mut tcp| {
            Box::pin(async move {
                read_head(&mut tcp).await;
            })
        })
        .await;
        let err = get(&url).await.unwrap_err();
        let got = Failure::of(&err, T);
        assert!(matches!(got, Failure::ClosedBeforeAnswer(_)), "{got:?}");
        // Reset after reading the request.
        let url = server(|mut tcp| {
            Box::pin(async move {
                read_head(&mut tcp).await;
                let _ = tcp.set_zero_linger();
            })
        })
        .await;
        let err = get(&url).await.unwrap_err();
        let got = Failure::of(&err, T);
        assert!(matches!(got, Failure::ClosedBeforeAnswer(_)), "{got:?}");
        // Closed at once: depending on who is first, "connection was not ready", a reset
        // or an incomplete message; every time the same class.
        let url = server(|tcp| Box::pin(async move { drop(tcp) })).await;
        for _ in 0..20 {
            let err = get(&url).await.unwrap_err();
            let got = Failure::of(&err, T);
            assert!(matches!(got, Failure::ClosedBeforeAnswer(_)), "{got:?}");
        }
    }

    #[tokio::test]
    async fn the_real_stack_reports_a_refused_connection_and_a_cut_body_by_name() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let err = get(&url).await.unwrap_err();
        assert!(matches!(Failure::of(&err, T), Failure::Known(PlatformError::Connect(_))), "{err:?}");
        let url = server(|mut tcp| {
            Box::pin(async move {
                use tokio::io::AsyncWriteExt;
                read_head(&mut tcp).await;
                let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"cut").await;
            })
        })
        .await;
        let resp = get(&url).await.unwrap();
        let err = resp.bytes().await.unwrap_err();
        assert_eq!(PlatformError::from_reqwest(&err, T), PlatformError::Truncated);
    }
}
