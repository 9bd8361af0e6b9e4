//! `crl` mode: the CA's CRL is fetched on a schedule with a conditional GET, verified
//! (signature by a configured JPKI CA, thisUpdate/nextUpdate), and reduced to a compact
//! sorted set of revoked serials; every lookup is local, so the platform never learns who
//! used the kiosk.
//!
//! Large CRLs (JPKI's may hold millions of entries) are read as a stream: the file is
//! never held in memory whole. The TBS bytes are hashed as they pass and the signature is
//! checked over the digest; each entry leaves only its serial behind, as a `u128` (serials
//! up to 16 octets) or a 20-octet array, in a sorted vector (binary search).

use std::fs;
use std::io::{BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use x509_cert::der::Decode;
use x509_cert::time::Time;

use crate::der::{integer_content, push_len, push_tlv, tlv, tlv_vec};
use crate::links::LinkStore;
use crate::proof::CardTrust;
use crate::tls::{Endpoint, http_client};
use crate::{BoxFuture, Challenge, CrlError, JpkiCertificate, Platform, PlatformError, Possession, Verdict};

/// sha256WithRSAEncryption AlgorithmIdentifier, DER.
const SHA256_RSA_ALG: [u8; 15] =
    [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00];
const OID_CRL_NUMBER: [u8; 3] = [0x55, 0x1d, 0x14];
const OID_DELTA_CRL: [u8; 3] = [0x55, 0x1d, 0x1b];
const OID_ISSUING_DP: [u8; 3] = [0x55, 0x1d, 0x1c];
const OID_REASON: [u8; 3] = [0x55, 0x1d, 0x15];
/// Upper bound of a CRL file (rustls-pki-types caps a PEM section at 256 MB).
pub const MAX_CRL_BYTES: u64 = 512 * 1024 * 1024;
/// Upper bound of one small element (name, extensions, one entry).
const MAX_ELEMENT: usize = 64 * 1024;

/// A sorted set of serial numbers (magnitude bytes, leading zeros stripped).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevokedSet {
    narrow: Vec<u128>,
    wide: Vec<[u8; 20]>,
}

fn magnitude(serial: &[u8]) -> &[u8] {
    let skip = serial.iter().take_while(|&&b| b == 0).count();
    &serial[skip..]
}

fn narrow_key(m: &[u8]) -> u128 {
    m.iter().fold(0u128, |acc, &b| (acc << 8) | u128::from(b))
}

fn wide_key(m: &[u8]) -> [u8; 20] {
    let mut k = [0u8; 20];
    k[20 - m.len()..].copy_from_slice(m);
    k
}

impl RevokedSet {
    fn push(&mut self, serial: &[u8]) -> Result<(), CrlError> {
        let m = magnitude(serial);
        match m.len() {
            0..=16 => self.narrow.push(narrow_key(m)),
            17..=20 => self.wide.push(wide_key(m)),
            _ => return Err(CrlError::Malformed("a serial number longer than 20 octets".into())),
        }
        Ok(())
    }

    fn seal(&mut self) {
        self.narrow.sort_unstable();
        self.narrow.dedup();
        self.narrow.shrink_to_fit();
        self.wide.sort_unstable();
        self.wide.dedup();
        self.wide.shrink_to_fit();
    }

    /// Builds a set from serial numbers (content octets, as in the certificate).
    pub fn from_serials<S: AsRef<[u8]>>(serials: impl IntoIterator<Item = S>) -> Result<Self, CrlError> {
        let mut set = RevokedSet::default();
        for s in serials {
            set.push(s.as_ref())?;
        }
        set.seal();
        Ok(set)
    }

    /// Whether `serial` (content octets, as in the certificate) is revoked.
    pub fn contains(&self, serial: &[u8]) -> bool {
        let m = magnitude(serial);
        match m.len() {
            0..=16 => self.narrow.binary_search(&narrow_key(m)).is_ok(),
            17..=20 => self.wide.binary_search(&wide_key(m)).is_ok(),
            _ => false,
        }
    }

    pub fn len(&self) -> usize {
        self.narrow.len() + self.wide.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.narrow.capacity() * 16 + self.wide.capacity() * 20
    }
}

/// A verified CRL.
#[derive(Clone, Debug)]
pub struct LoadedCrl {
    /// Index (in the configured JPKI CAs) of the CA that signed it.
    pub ca_index: usize,
    pub this_update: SystemTime,
    pub next_update: SystemTime,
    /// The cRLNumber extension's content octets, if present.
    pub crl_number: Option<Vec<u8>>,
    pub revoked: RevokedSet,
    /// Size of the DER file.
    pub der_len: u64,
}

/// Reads DER from a stream, hashing the bytes while `hasher` is set.
struct Stream<R> {
    r: R,
    hasher: Option<Sha256>,
    pos: u64,
}

fn truncated(e: std::io::Error) -> CrlError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        CrlError::Malformed("truncated".into())
    } else {
        CrlError::Io(e.to_string())
    }
}

impl<R: Read> Stream<R> {
    fn exact(&mut self, buf: &mut [u8]) -> Result<(), CrlError> {
        self.r.read_exact(buf).map_err(truncated)?;
        if let Some(h) = &mut self.hasher {
            h.update(&*buf);
        }
        self.pos += buf.len() as u64;
        Ok(())
    }

    /// Tag and length; the header bytes are appended to `raw`.
    fn header(&mut self, raw: &mut Vec<u8>) -> Result<(u8, usize), CrlError> {
        let mut two = [0u8; 2];
        self.exact(&mut two)?;
        raw.extend_from_slice(&two);
        let [tag, first] = two;
        if tag & 0x1f == 0x1f {
            return Err(CrlError::Malformed("multi-byte tag".into()));
        }
        if first < 0x80 {
            return Ok((tag, usize::from(first)));
        }
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(CrlError::Malformed("indefinite or oversized length".into()));
        }
        let mut len_bytes = [0u8; 4];
        self.exact(&mut len_bytes[..n])?;
        raw.extend_from_slice(&len_bytes[..n]);
        let len = len_bytes[..n].iter().fold(0usize, |a, &b| (a << 8) | usize::from(b));
        if len < 0x80 || len_bytes[0] == 0 {
            return Err(CrlError::Malformed("non-minimal length".into()));
        }
        Ok((tag, len))
    }

    /// A whole small element: `(tag, raw TLV, content start)`.
    fn element(&mut self) -> Result<(u8, Vec<u8>, usize), CrlError> {
        let mut raw = Vec::new();
        let (tag, len) = self.header(&mut raw)?;
        if len > MAX_ELEMENT {
            return Err(CrlError::Malformed(format!("an element of {len} bytes")));
        }
        let start = raw.len();
        raw.resize(start + len, 0);
        self.exact(&mut raw[start..])?;
        Ok((tag, raw, start))
    }
}

fn time_of(raw: &[u8]) -> Result<SystemTime, CrlError> {
    let t = Time::from_der(raw).map_err(|e| CrlError::Malformed(format!("time: {e}")))?;
    Ok(UNIX_EPOCH + t.to_unix_duration())
}

fn is_time(tag: u8) -> bool {
    tag == 0x17 || tag == 0x18
}

/// Walks `Extensions` (SEQUENCE OF Extension): calls `f(oid, critical, value)`.
fn each_extension(
    seq_content: &[u8],
    mut f: impl FnMut(&[u8], bool, &[u8]) -> Result<(), CrlError>,
) -> Result<(), CrlError> {
    let bad = || CrlError::Malformed("extension".into());
    let mut rest = seq_content;
    while !rest.is_empty() {
        let ext = tlv(rest).filter(|t| t.tag == 0x30).ok_or_else(bad)?;
        rest = ext.rest;
        let oid = tlv(ext.content).filter(|t| t.tag == 0x06).ok_or_else(bad)?;
        let mut after = oid.rest;
        let mut critical = false;
        if let Some(b) = tlv(after).filter(|t| t.tag == 0x01) {
            critical = b.content == [0xff];
            after = b.rest;
        }
        let value = tlv(after).filter(|t| t.tag == 0x04 && t.rest.is_empty()).ok_or_else(bad)?;
        f(oid.content, critical, value.content)?;
    }
    Ok(())
}

/// Reads and verifies a DER CRL from `reader` against the configured CAs, at `now` with
/// `skew` allowed on both dates.
pub fn load_crl(
    reader: impl Read,
    trust: &CardTrust,
    now: SystemTime,
    skew: Duration,
) -> Result<LoadedCrl, CrlError> {
    let mut s = Stream { r: BufReader::with_capacity(64 * 1024, reader), hasher: None, pos: 0 };
    let malformed = |m: &str| CrlError::Malformed(m.to_owned());
    let mut scratch = Vec::new();
    let (tag, outer_len) = s.header(&mut scratch)?;
    if tag != 0x30 {
        return Err(malformed("not a SEQUENCE"));
    }
    let outer_end = s.pos + outer_len as u64;
    s.hasher = Some(Sha256::new());
    scratch.clear();
    let (tag, tbs_len) = s.header(&mut scratch)?;
    if tag != 0x30 {
        return Err(malformed("tbsCertList"));
    }
    let tbs_end = s.pos + tbs_len as u64;
    let (mut tag, mut raw, start) = s.element()?;
    if tag == 0x02 {
        if raw[start..] != [0x01] {
            return Err(malformed("version is not v2"));
        }
        (tag, raw, _) = s.element()?;
    }
    if tag != 0x30 || raw != SHA256_RSA_ALG {
        return Err(CrlError::UnsupportedAlgorithm);
    }
    let (tag, issuer, _) = s.element()?;
    if tag != 0x30 {
        return Err(malformed("issuer"));
    }
    let (tag, raw, _) = s.element()?;
    if !is_time(tag) {
        return Err(malformed("thisUpdate"));
    }
    let this_update = time_of(&raw)?;
    let mut next_update = None;
    let mut crl_number = None;
    let mut revoked = RevokedSet::default();
    let mut seen_list = false;
    let mut seen_ext = false;
    while s.pos < tbs_end {
        scratch.clear();
        let (tag, len) = s.header(&mut scratch)?;
        if is_time(tag) && next_update.is_none() && !seen_list && !seen_ext {
            let mut raw = scratch.clone();
            let start = raw.len();
            raw.resize(start + len.min(MAX_ELEMENT), 0);
            s.exact(&mut raw[start..])?;
            next_update = Some(time_of(&raw)?);
        } else if tag == 0x30 && !seen_list && !seen_ext {
            seen_list = true;
            let list_end = s.pos + len as u64;
            let mut entry = Vec::with_capacity(64);
            while s.pos < list_end {
                entry.clear();
                let (tag, len) = s.header(&mut entry)?;
                if tag != 0x30 || len > 4096 {
                    return Err(malformed("revoked entry"));
                }
                entry.clear();
                entry.resize(len, 0);
                s.exact(&mut entry)?;
                let serial =
                    tlv(&entry).filter(|t| t.tag == 0x02).ok_or_else(|| malformed("entry serial"))?;
                let date =
                    tlv(serial.rest).filter(|t| is_time(t.tag)).ok_or_else(|| malformed("entry date"))?;
                if !date.rest.is_empty() {
                    let exts = tlv(date.rest).filter(|t| t.tag == 0x30 && t.rest.is_empty());
                    let exts = exts.ok_or_else(|| malformed("entry extensions"))?;
                    each_extension(exts.content, |_, critical, _| {
                        // certificateIssuer (indirect CRL) and any other critical entry
                        // extension change the entry's meaning: refuse the CRL.
                        if critical { Err(CrlError::UnsupportedCriticalExtension) } else { Ok(()) }
                    })?;
                }
                revoked.push(serial.content)?;
            }
            if s.pos != list_end {
                return Err(malformed("revoked list length"));
            }
        } else if tag == 0xa0 && !seen_ext {
            seen_ext = true;
            if len > MAX_ELEMENT {
                return Err(malformed("extensions too large"));
            }
            let mut body = vec![0u8; len];
            s.exact(&mut body)?;
            let seq = tlv(&body)
                .filter(|t| t.tag == 0x30 && t.rest.is_empty())
                .ok_or_else(|| malformed("crlExtensions"))?;
            each_extension(seq.content, |oid, critical, value| {
                if oid == OID_DELTA_CRL {
                    Err(CrlError::UnsupportedDelta)
                } else if oid == OID_CRL_NUMBER {
                    crl_number = tlv(value).filter(|t| t.tag == 0x02).map(|t| t.content.to_vec());
                    Ok(())
                } else if critical && oid != OID_ISSUING_DP {
                    Err(CrlError::UnsupportedCriticalExtension)
                } else {
                    Ok(())
                }
            })?;
        } else {
            return Err(malformed("unexpected element in tbsCertList"));
        }
    }
    if s.pos != tbs_end {
        return Err(malformed("tbsCertList length"));
    }
    let digest: [u8; 32] = s.hasher.take().map(|h| h.finalize().into()).ok_or_else(|| malformed("hash"))?;
    let (tag, alg, _) = s.element()?;
    if tag != 0x30 || alg != SHA256_RSA_ALG {
        return Err(CrlError::UnsupportedAlgorithm);
    }
    let (tag, sig, start) = s.element()?;
    if tag != 0x03 || sig.get(start) != Some(&0) {
        return Err(malformed("signature"));
    }
    if s.pos != outer_end {
        return Err(malformed("CertificateList length"));
    }
    let mut extra = [0u8; 1];
    if s.r.read(&mut extra).map_err(truncated)? != 0 {
        return Err(malformed("trailing data"));
    }
    let sig = &sig[start + 1..];
    let ca_index = (0..trust.cas().len())
        .find(|&i| {
            trust.subject_der(i) == Some(issuer.as_slice())
                && trust.cas()[i].verify_sha256(&digest, sig).is_ok()
        })
        .ok_or(CrlError::BadSignature)?;
    let next_update = next_update.ok_or_else(|| malformed("no nextUpdate"))?;
    if this_update > now + skew {
        return Err(CrlError::NotYetValid);
    }
    if next_update + skew < now {
        return Err(CrlError::Stale);
    }
    revoked.seal();
    Ok(LoadedCrl { ca_index, this_update, next_update, crl_number, revoked, der_len: s.pos })
}

/// Issues CRLs (for the simulator, tests and benchmarks): the DER writer; the caller
/// signs the TBS bytes with the CA key.
#[derive(Clone, Debug)]
pub struct CrlBuilder {
    /// The issuer's subject DN, DER.
    pub issuer_der: Vec<u8>,
    pub this_update: SystemTime,
    pub next_update: SystemTime,
    pub crl_number: u64,
    /// Adds a (critical) delta CRL indicator with this base number.
    pub delta_of: Option<u64>,
    /// Adds a reasonCode entry extension to every entry.
    pub reason: Option<u8>,
}

fn encode_time(t: SystemTime) -> Vec<u8> {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let d = x509_cert::der::DateTime::from_unix_duration(Duration::from_secs(since.as_secs()))
        .unwrap_or(x509_cert::der::DateTime::INFINITY);
    let body = format!("{:02}{:02}{:02}{:02}{:02}Z", d.month(), d.day(), d.hour(), d.minutes(), d.seconds());
    if (1950..2050).contains(&d.year()) {
        tlv_vec(0x17, format!("{:02}{body}", d.year() % 100).as_bytes())
    } else {
        tlv_vec(0x18, format!("{:04}{body}", d.year()).as_bytes())
    }
}

fn extension(oid: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let mut inner = tlv_vec(0x06, oid);
    if critical {
        inner.extend_from_slice(&[0x01, 0x01, 0xff]);
    }
    push_tlv(&mut inner, 0x04, value);
    tlv_vec(0x30, &inner)
}

impl CrlBuilder {
    /// The DER `tbsCertList` for these serial numbers (magnitude bytes), all revoked at
    /// `revoked_at`.
    pub fn tbs<S: AsRef<[u8]>>(
        &self,
        serials: impl IntoIterator<Item = S>,
        revoked_at: SystemTime,
    ) -> Vec<u8> {
        let date = encode_time(revoked_at);
        let reason = self.reason.map(|r| tlv_vec(0x30, &extension(&OID_REASON, false, &[0x0a, 0x01, r])));
        let mut list = Vec::new();
        let mut entry = Vec::with_capacity(64);
        for s in serials {
            entry.clear();
            push_tlv(&mut entry, 0x02, &integer_content(s.as_ref()));
            entry.extend_from_slice(&date);
            if let Some(r) = &reason {
                entry.extend_from_slice(r);
            }
            list.push(0x30);
            push_len(&mut list, entry.len());
            list.extend_from_slice(&entry);
        }
        let mut tbs = vec![0x02, 0x01, 0x01];
        tbs.extend_from_slice(&SHA256_RSA_ALG);
        tbs.extend_from_slice(&self.issuer_der);
        tbs.extend_from_slice(&encode_time(self.this_update));
        tbs.extend_from_slice(&encode_time(self.next_update));
        if !list.is_empty() {
            tbs.push(0x30);
            push_len(&mut tbs, list.len());
            tbs.extend_from_slice(&list);
        }
        drop(list);
        let mut exts = extension(
            &OID_CRL_NUMBER,
            false,
            &tlv_vec(0x02, &integer_content(&self.crl_number.to_be_bytes())),
        );
        if let Some(base) = self.delta_of {
            exts.extend_from_slice(&extension(
                &OID_DELTA_CRL,
                true,
                &tlv_vec(0x02, &integer_content(&base.to_be_bytes())),
            ));
        }
        push_tlv(&mut tbs, 0xa0, &tlv_vec(0x30, &exts));
        tlv_vec(0x30, &tbs)
    }

    /// The whole CRL: `tbs` plus the algorithm and `signature` (over `tbs`).
    pub fn finish(tbs: &[u8], signature: &[u8]) -> Vec<u8> {
        let mut body = Vec::with_capacity(tbs.len() + signature.len() + 32);
        body.extend_from_slice(tbs);
        body.extend_from_slice(&SHA256_RSA_ALG);
        let mut bits = vec![0u8];
        bits.extend_from_slice(signature);
        push_tlv(&mut body, 0x03, &bits);
        tlv_vec(0x30, &body)
    }
}

/// The settings of `crl` mode.
#[derive(Clone, Debug)]
pub struct CrlConfig {
    /// Where the CRL is fetched from (`http(s)://…`).
    pub endpoint: Endpoint,
    /// How often it is fetched.
    pub refresh: Duration,
    /// Where the last good CRL is kept (loaded at start, so the kiosk works offline
    /// until its nextUpdate).
    pub cache_path: PathBuf,
    /// Clock skew allowed on thisUpdate/nextUpdate.
    pub skew: Duration,
}

/// What a refresh did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refresh {
    /// A new CRL was verified and swapped in.
    Updated { entries: usize },
    /// The server answered 304: the CRL held is current.
    NotModified,
}

#[derive(Default)]
struct Validators {
    etag: Option<String>,
    last_modified: Option<String>,
}

/// The CRL back-end.
pub struct CrlPlatform {
    client: reqwest::Client,
    config: CrlConfig,
    trust: Arc<CardTrust>,
    links: Arc<LinkStore>,
    current: RwLock<Option<Arc<LoadedCrl>>>,
    validators: Mutex<Validators>,
}

impl std::fmt::Debug for CrlPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrlPlatform").field("url", &self.config.endpoint.url).finish_non_exhaustive()
    }
}

fn io_err(e: impl std::fmt::Display) -> PlatformError {
    PlatformError::Crl(CrlError::Io(e.to_string()))
}

impl CrlPlatform {
    /// Builds the back-end and loads the cached CRL, if one is on disk and still valid.
    pub fn new(config: CrlConfig, trust: CardTrust, links: Arc<LinkStore>) -> Result<Self, PlatformError> {
        let client = http_client(&config.endpoint)?;
        let platform = CrlPlatform {
            client,
            config,
            trust: Arc::new(trust),
            links,
            current: RwLock::new(None),
            validators: Mutex::new(Validators::default()),
        };
        if let Ok(file) = fs::File::open(&platform.config.cache_path) {
            match load_crl(file, &platform.trust, SystemTime::now(), platform.config.skew) {
                Ok(crl) => {
                    tracing::info!(entries = crl.revoked.len(), "cached CRL loaded");
                    platform.swap(crl);
                    if let Ok(text) = fs::read_to_string(platform.validators_path())
                        && let Ok(mut v) = platform.validators.lock()
                    {
                        let mut lines = text.lines();
                        v.etag = lines.next().filter(|l| !l.is_empty()).map(str::to_owned);
                        v.last_modified = lines.next().filter(|l| !l.is_empty()).map(str::to_owned);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cached CRL not usable"),
            }
        }
        Ok(platform)
    }

    fn validators_path(&self) -> PathBuf {
        let mut p = self.config.cache_path.clone().into_os_string();
        p.push(".validators");
        p.into()
    }

    fn swap(&self, crl: LoadedCrl) {
        if let Ok(mut cur) = self.current.write() {
            *cur = Some(Arc::new(crl));
        }
    }

    /// The CRL in force.
    pub fn current(&self) -> Option<Arc<LoadedCrl>> {
        self.current.read().ok().and_then(|c| c.clone())
    }

    /// Fetches the CRL (conditionally, when one is held), verifies it and swaps it in. On
    /// any failure the CRL held stays in force (until its own nextUpdate).
    pub async fn refresh(&self) -> Result<Refresh, PlatformError> {
        let timeout = self.config.endpoint.request_timeout;
        let mut req = self.client.get(&self.config.endpoint.url);
        if self.current().is_some()
            && let Ok(v) = self.validators.lock()
        {
            if let Some(etag) = &v.etag {
                req = req.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &v.last_modified {
                req = req.header(reqwest::header::IF_MODIFIED_SINCE, lm);
            }
        }
        let mut resp = crate::tls::send(&self.config.endpoint, req).await?;
        match resp.status().as_u16() {
            304 => {
                tracing::info!("CRL not modified");
                return Ok(Refresh::NotModified);
            }
            200 => {}
            503 => return Err(PlatformError::Maintenance),
            other => return Err(PlatformError::Http(other)),
        }
        let header = |name: reqwest::header::HeaderName| {
            resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
        };
        let etag = header(reqwest::header::ETAG);
        let last_modified = header(reqwest::header::LAST_MODIFIED);
        let mut tmp = self.config.cache_path.clone().into_os_string();
        tmp.push(".download");
        let tmp = PathBuf::from(tmp);
        let result = async {
            let mut file = fs::File::create(&tmp).map_err(io_err)?;
            let mut total = 0u64;
            while let Some(chunk) =
                resp.chunk().await.map_err(|e| PlatformError::from_reqwest(&e, timeout))?
            {
                total += chunk.len() as u64;
                if total > MAX_CRL_BYTES {
                    return Err(PlatformError::Crl(CrlError::Malformed("larger than the size limit".into())));
                }
                file.write_all(&chunk).map_err(io_err)?;
            }
            file.sync_all().map_err(io_err)?;
            let trust = Arc::clone(&self.trust);
            let path = tmp.clone();
            let skew = self.config.skew;
            let crl = tokio::task::spawn_blocking(move || {
                let file = fs::File::open(&path).map_err(|e| CrlError::Io(e.to_string()))?;
                load_crl(file, &trust, SystemTime::now(), skew)
            })
            .await
            .map_err(io_err)??;
            fs::rename(&tmp, &self.config.cache_path).map_err(io_err)?;
            Ok(crl)
        }
        .await;
        let crl = match result {
            Ok(crl) => crl,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                tracing::warn!(error = %e, "CRL refresh failed; the CRL held stays in force");
                return Err(e);
            }
        };
        let entries = crl.revoked.len();
        let validators =
            format!("{}\n{}\n", etag.as_deref().unwrap_or(""), last_modified.as_deref().unwrap_or(""));
        let _ = crate::links::write_atomic(&self.validators_path(), &validators);
        if let Ok(mut v) = self.validators.lock() {
            *v = Validators { etag, last_modified };
        }
        self.swap(crl);
        tracing::info!(entries, "CRL updated");
        Ok(Refresh::Updated { entries })
    }

    /// Refreshes now and then on the schedule (every `refresh`; after a failure, again
    /// within a minute). Runs until the task is aborted.
    pub fn spawn_refresher(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                let wait = match me.refresh().await {
                    Ok(_) => me.config.refresh,
                    Err(_) => me.config.refresh.min(Duration::from_secs(60)),
                };
                tokio::time::sleep(wait).await;
            }
        })
    }

    /// The verdict for a card whose proof has been checked, against the CRL in force.
    fn lookup(&self, cert: &JpkiCertificate, ca_index: usize, now: SystemTime) -> Verdict {
        let Some(crl) = self.current() else { return Verdict::Unavailable(CrlError::NoCrl.into()) };
        if crl.next_update + self.config.skew < now {
            return Verdict::Unavailable(CrlError::Stale.into());
        }
        if crl.ca_index != ca_index {
            return Verdict::Unavailable(CrlError::OtherIssuer.into());
        }
        if crl.revoked.contains(cert.serial().expose()) {
            return Verdict::Revoked;
        }
        match self.links.resolve(cert) {
            Some(id) => {
                Verdict::Good { service_id: Some(id), next_update: Some(crl.next_update), reissued: false }
            }
            None => Verdict::NotLinked,
        }
    }
}

impl Platform for CrlPlatform {
    fn challenge(&self) -> BoxFuture<'_, Result<Challenge, PlatformError>> {
        Box::pin(async { Challenge::local() })
    }

    fn verify<'a>(
        &'a self,
        certificate: &'a JpkiCertificate,
        possession: Possession<'a>,
    ) -> BoxFuture<'a, Verdict> {
        Box::pin(async move {
            let now = SystemTime::now();
            let verdict = match self.trust.check_possession(certificate, possession, now) {
                Ok(ca_index) => self.lookup(certificate, ca_index, now),
                Err(v) => v,
            };
            tracing::info!(verdict = verdict.label(), "crl check");
            verdict
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_lookups_ignore_leading_zeros_and_handle_wide_serials() {
        let wide = [0x7fu8; 20];
        let set = RevokedSet::from_serials([&[0x00, 0x81][..], &[0x05], &wide, &[0x05]]).unwrap();
        assert_eq!(set.len(), 3);
        assert!(set.contains(&[0x81]));
        assert!(set.contains(&[0x00, 0x00, 0x05]));
        assert!(set.contains(&wide));
        assert!(!set.contains(&[0x06]));
        assert!(!set.contains(&[0x7f; 19]));
        assert!(RevokedSet::from_serials([[1u8; 21]]).is_err());
    }

    #[test]
    fn times_encode_as_utc_or_generalized() {
        let t = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        assert_eq!(encode_time(t), tlv_vec(0x17, b"260921141320Z"));
        assert_eq!(time_of(&encode_time(t)).unwrap(), t);
        let late = UNIX_EPOCH + Duration::from_secs(2_600_000_000);
        assert_eq!(encode_time(late)[0], 0x18);
        assert_eq!(time_of(&encode_time(late)).unwrap(), late);
    }
}
