//! Checked value types: each can only be made by the check that proves it valid.

use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU16;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// What is wrong with a value and how to fix it; becomes a [`super::Problem`].
#[derive(Debug)]
pub(super) struct Bad {
    pub(super) what: String,
    pub(super) fix: String,
}

pub(super) fn bad(what: impl Into<String>, fix: impl Into<String>) -> Bad {
    Bad { what: what.into(), fix: fix.into() }
}

/// A TCP port, 1 to 65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Port(NonZeroU16);

impl Port {
    /// For defaults written in the code; 0 becomes 1 (never used with 0).
    pub(super) const fn from_const(port: u16) -> Port {
        match NonZeroU16::new(port) {
            Some(p) => Port(p),
            None => Port(NonZeroU16::MIN),
        }
    }

    pub(super) fn from_checked(port: i64) -> Result<Port, Bad> {
        u16::try_from(port)
            .ok()
            .and_then(NonZeroU16::new)
            .map(Port)
            .ok_or_else(|| bad(format!("{port} is not a port"), "use a port from 1 to 65535"))
    }

    /// The port number.
    #[must_use]
    pub fn get(self) -> u16 {
        self.0.get()
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A host name (letters, digits, `-` and `.`) or an IPv4/IPv6 address, without a port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Host(String);

impl Host {
    pub(super) fn parse(raw: &str) -> Result<Host, Bad> {
        let fix = "write a host name such as ils.library.example or an IP address such as 10.20.30.40, without a port or scheme";
        if raw.is_empty() {
            return Err(bad("is empty", fix));
        }
        if raw.parse::<IpAddr>().is_ok() || is_host_name(raw) {
            Ok(Host(raw.to_owned()))
        } else if raw.contains("://") || raw.contains(':') || raw.contains('/') {
            Err(bad(format!("`{raw}` is not a bare host name"), fix))
        } else {
            Err(bad(format!("`{raw}` is not a valid host name"), fix))
        }
    }

    /// The host name or address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_host_name(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// An `https://` URL with a valid host, an optional port and an optional path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HttpsUrl {
    url: String,
    host: Host,
    port: Port,
}

impl HttpsUrl {
    pub(super) fn parse(raw: &str) -> Result<HttpsUrl, Bad> {
        let fix = "write the full address, such as https://platform.example.lg.jp/api";
        let Some(rest) = raw.strip_prefix("https://") else {
            if raw.starts_with("http://") {
                return Err(bad(
                    "uses plain http; the platform is only reached over TLS",
                    "change http:// to https://",
                ));
            }
            return Err(bad(format!("`{raw}` is not an https:// URL"), fix));
        };
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("contains spaces or control characters", fix));
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        if authority.contains('@') {
            return Err(bad(
                "contains a user name or password",
                "remove it from the URL; the terminal's credentials go in terminal_id and terminal_password",
            ));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let Some((addr, after)) = v6.split_once(']') else {
                return Err(bad(format!("`{raw}` has an unclosed [ in the host"), fix));
            };
            (addr, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        let host = Host::parse(host).map_err(|_| bad(format!("`{raw}` has no valid host name"), fix))?;
        let port = match port {
            None => Port::from_const(443),
            Some(p) => p.parse::<NonZeroU16>().map(Port).map_err(|_| {
                bad(format!("`{raw}` has an invalid port"), "use a port from 1 to 65535, or none for 443")
            })?,
        };
        Ok(HttpsUrl { url: raw.to_owned(), host, port })
    }

    /// The whole URL as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The host part.
    #[must_use]
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The port (443 unless the URL names one).
    #[must_use]
    pub fn port(&self) -> Port {
        self.port
    }
}

impl fmt::Display for HttpsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// What an [`ExistingFile`] must contain; checked at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Content {
    /// One or more PEM certificates.
    PemCertificate,
    /// A PEM private key.
    PemPrivateKey,
    /// At least 32 bytes of key material (any format: the kiosk reads the raw bytes).
    KeyMaterial,
}

/// The largest PEM file accepted (a CA bundle of a few dozen certificates fits easily).
const MAX_PEM_BYTES: u64 = 1024 * 1024;
/// Key files: at least 256 bits, at most one page.
const MIN_KEY_BYTES: u64 = 32;
const MAX_KEY_BYTES: u64 = 4096;

/// A regular file that existed, was readable and held the right kind of content when the
/// configuration was loaded. Relative paths were resolved against the configuration
/// file's directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExistingFile(PathBuf);

impl ExistingFile {
    /// `purpose` completes the fix: "put <purpose> there".
    pub(super) fn check(
        base: &Path,
        raw: &str,
        content: Content,
        purpose: &str,
    ) -> Result<ExistingFile, Bad> {
        let path = resolve(base, raw)?;
        let shown = path.display();
        let relative = relative_note(raw, base);
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(bad(
                    format!("{shown} does not exist"),
                    format!("put {purpose} there, or correct the path{relative}"),
                ));
            }
            Err(e) => return Err(unreadable(&path, &e)),
        };
        if !meta.is_file() {
            return Err(bad(format!("{shown} is not a regular file"), format!("point it at {purpose}")));
        }
        match content {
            Content::KeyMaterial => {
                let len = meta.len();
                if len < MIN_KEY_BYTES {
                    return Err(bad(
                        format!("{shown} holds {len} bytes; a key needs at least {MIN_KEY_BYTES}"),
                        format!("make a new key with `head -c 32 /dev/urandom > {shown}`"),
                    ));
                }
                if len > MAX_KEY_BYTES {
                    return Err(bad(
                        format!(
                            "{shown} holds {len} bytes; that is not a key file (at most {MAX_KEY_BYTES})"
                        ),
                        format!("point it at {purpose}"),
                    ));
                }
                // Readable? Open it, but read nothing.
                std::fs::File::open(&path).map_err(|e| unreadable(&path, &e))?;
            }
            Content::PemCertificate | Content::PemPrivateKey => {
                if meta.len() > MAX_PEM_BYTES {
                    return Err(bad(
                        format!("{shown} is {} bytes, too large for a PEM file", meta.len()),
                        format!("point it at {purpose}"),
                    ));
                }
                let bytes = Zeroizing::new(std::fs::read(&path).map_err(|e| unreadable(&path, &e))?);
                check_pem(&bytes, content, &path, purpose)?;
            }
        }
        Ok(ExistingFile(path))
    }

    /// The resolved path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.0
    }
}

fn check_pem(bytes: &[u8], content: Content, path: &Path, purpose: &str) -> Result<(), Bad> {
    let has = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    let shown = path.display();
    let is_cert = has("-----BEGIN CERTIFICATE-----");
    let is_key = has("PRIVATE KEY-----");
    match content {
        Content::PemCertificate if !is_cert => Err(bad(
            if is_key {
                format!("{shown} holds a private key, not a certificate")
            } else {
                format!("{shown} is not a PEM certificate (no -----BEGIN CERTIFICATE----- line)")
            },
            format!(
                "point it at {purpose}; convert a DER file with `openssl x509 -inform der -in FILE -out FILE.pem`"
            ),
        )),
        Content::PemPrivateKey if !is_key => Err(bad(
            if is_cert {
                format!("{shown} holds a certificate, not a private key")
            } else {
                format!("{shown} is not a PEM private key (no -----BEGIN ... PRIVATE KEY----- line)")
            },
            format!("point it at {purpose}"),
        )),
        _ => Ok(()),
    }
}

fn unreadable(path: &Path, e: &std::io::Error) -> Bad {
    bad(
        format!("{} cannot be read ({e})", path.display()),
        "make it readable by the kiosk's user (for example `chgrp kiosk FILE && chmod 640 FILE`)",
    )
}

pub(super) fn resolve(base: &Path, raw: &str) -> Result<PathBuf, Bad> {
    if raw.trim().is_empty() {
        return Err(bad("is empty", "write a path, such as /etc/kiosk/FILE"));
    }
    let path = Path::new(raw);
    Ok(if path.is_absolute() { path.to_path_buf() } else { base.join(path) })
}

fn relative_note(raw: &str, base: &Path) -> String {
    if Path::new(raw).is_absolute() {
        String::new()
    } else {
        format!(" (a relative path is relative to the configuration file's directory, {})", base.display())
    }
}

/// A file the kiosk reads and writes (created if missing): its directory existed when
/// the configuration was loaded, and the path is not a directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataFile(PathBuf);

impl DataFile {
    pub(super) fn check(base: &Path, raw: &str) -> Result<DataFile, Bad> {
        let path = resolve(base, raw)?;
        if path.is_dir() {
            return Err(bad(
                format!("{} is a directory", path.display()),
                "name a file inside it, such as /var/lib/kiosk/FILE",
            ));
        }
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(bad(
                format!("directory {} does not exist", dir.display()),
                format!(
                    "create it (`mkdir -p {}`, owned by the kiosk's user) or correct the path{}",
                    dir.display(),
                    relative_note(raw, base)
                ),
            ));
        }
        Ok(DataFile(path))
    }

    /// The resolved path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.0
    }
}

/// An absolute device path such as `/dev/ttyUSB0`. Not checked to exist: a USB device
/// may be unplugged while the configuration is checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DevicePath(PathBuf);

impl DevicePath {
    pub(super) fn parse(raw: &str) -> Result<DevicePath, Bad> {
        if raw.starts_with('/') && raw.len() > 1 {
            Ok(DevicePath(PathBuf::from(raw)))
        } else {
            Err(bad(
                format!("`{raw}` is not an absolute device path"),
                "write the device's path, such as /dev/ttyUSB0 or /dev/serial/by-id/...",
            ))
        }
    }

    /// The device path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path the demo chose (not read from a file).
    pub(super) fn demo(path: &Path) -> DevicePath {
        DevicePath(path.to_path_buf())
    }
}

/// A short code given by another system: the SIP2 institution id, location code and
/// login user, the platform's service-provider id. 1 to 64 printable ASCII characters,
/// no `|` (SIP2's field separator).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Code(String);

impl Code {
    /// For [`super::Config::demo`]: a literal known to be valid (checked by a test).
    pub(super) fn demo(code: &str) -> Code {
        Code(code.to_owned())
    }

    pub(super) fn parse(raw: &str) -> Result<Code, Bad> {
        sip2_text_ok(raw).map(|()| Code(raw.to_owned()))
    }

    /// The code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shared by [`Code`] and the SIP2 password; never echoes the value.
pub(super) fn sip2_text_ok(raw: &str) -> Result<(), Bad> {
    let fix = "use 1 to 64 printable ASCII characters without `|` (the library system's administrator knows the value)";
    if raw.is_empty() || raw.len() > 64 {
        Err(bad("must be 1 to 64 characters long", fix))
    } else if raw.contains('|') {
        Err(bad("contains `|`, which SIP2 uses to separate fields", fix))
    } else if !raw.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Err(bad("contains characters that are not printable ASCII", fix))
    } else {
        Ok(())
    }
}

/// A name made of ASCII letters, digits, `-`, `_` and `.`, 1 to 32 characters: the
/// kiosk's id (in Method D tokens and the audit log), the platform terminal id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ident(String);

impl Ident {
    /// For [`super::Config::demo`]: a literal known to be valid (checked by a test).
    pub(super) fn demo(id: &str) -> Ident {
        Ident(id.to_owned())
    }

    pub(super) fn parse(raw: &str, example: &str) -> Result<Ident, Bad> {
        let ok = (1..=32).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(Ident(raw.to_owned()))
        } else {
            Err(bad(
                format!("`{raw}` is not 1 to 32 letters, digits, `-`, `_` or `.`"),
                format!("use a short code such as \"{example}\""),
            ))
        }
    }

    /// The identifier.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Raspberry Pi GPIO line by its BCM number, 0 to 27.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GpioPin(u8);

impl GpioPin {
    pub(super) const fn new(bcm: u8) -> Option<GpioPin> {
        if bcm <= 27 { Some(GpioPin(bcm)) } else { None }
    }

    /// The BCM GPIO number (not the header pin number).
    #[must_use]
    pub fn bcm(self) -> u8 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn hosts() {
        for ok in ["ils", "ils.library.example", "10.0.0.1", "fe80::1", "a-b.c"] {
            assert!(Host::parse(ok).is_ok(), "{ok}");
        }
        for no in ["", "-a", "a..b", "https://x", "x:80", "a b", "図書館"] {
            assert!(Host::parse(no).is_err(), "{no}");
        }
    }

    #[test]
    fn urls() {
        let u = HttpsUrl::parse("https://platform.example.lg.jp/api/v1").unwrap();
        assert_eq!(u.host().as_str(), "platform.example.lg.jp");
        assert_eq!(u.port().get(), 443);
        let u = HttpsUrl::parse("https://10.1.2.3:8443").unwrap();
        assert_eq!(u.port().get(), 8443);
        let u = HttpsUrl::parse("https://[fd00::1]:9443/x").unwrap();
        assert_eq!((u.host().as_str(), u.port().get()), ("fd00::1", 9443));
        assert!(HttpsUrl::parse("http://x").unwrap_err().fix.contains("https://"));
        for no in ["https://", "https://a b", "https://u:p@x/", "https://x:0/", "https://x:99999", "ftp://x"]
        {
            assert!(HttpsUrl::parse(no).is_err(), "{no}");
        }
    }

    #[test]
    fn sip2_codes_and_idents() {
        assert!(Code::parse("HIMEJI-LIB").is_ok());
        assert!(Code::parse("a|b").is_err());
        assert!(Code::parse("").is_err());
        assert!(Code::parse("館").is_err());
        assert!(Ident::parse("chuo-01", "x").is_ok());
        assert!(Ident::parse("chuo 01", "x").is_err());
        assert!(Ident::parse(&"x".repeat(33), "x").is_err());
    }

    #[test]
    fn gpio_range() {
        assert_eq!(GpioPin::new(27).map(GpioPin::bcm), Some(27));
        assert!(GpioPin::new(28).is_none());
    }
}
