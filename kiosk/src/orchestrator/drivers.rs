//! Builds the real drivers from the configuration, each with a clear error when it
//! cannot start.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use kiosk_card::ReadMode;
use kiosk_ils::{ClientConfig, Credentials, Sip2Library, TlsSettings};
use kiosk_platform::cache::Guarded;
use kiosk_platform::links::LinkStore;
use kiosk_platform::links::shared::SharedLinks;
use kiosk_platform::proof::CardTrust;
use kiosk_platform::tls::{Endpoint, Identity};
use kiosk_printer::transport::{AnyDriver, TransportSpec};
use kiosk_printer::{Device, JobSettings, TokenKey};
use kiosk_ui::{AgentAsk, UpdatePhase, UpdateView};

use tokio::sync::mpsc;

use super::Input;
use super::card::{self, CardHandle};
use crate::config::{self, Config};
use crate::journal::{Journal, JournalError};

/// Why the kiosk cannot start; the message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "{what} is simulated in this configuration; run `kiosk demo` for simulated hardware, or configure the real {what}"
    )]
    Simulated { what: &'static str },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the platform client cannot start: {0}")]
    Platform(kiosk_platform::PlatformError),
    #[error(
        "the label token key {path} is too short (at least 32 bytes): make one with `head -c 32 /dev/urandom`"
    )]
    TokenKey { path: PathBuf },
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("the {what} thread cannot start: {source}")]
    Thread { what: &'static str, source: std::io::Error },
    #[error("the scanner rules are invalid: {0}")]
    Scanner(String),
    #[error("the desensitizer cannot start: {0}")]
    Desensitizer(kiosk_io::IoError),
}

/// How long the gate's line is high to release it.
const GATE_PULSE: Duration = Duration::from_millis(500);

/// The staff lamp, the buzzer and the security gate.
pub struct Outputs {
    signals: Option<kiosk_io::Ticker>,
}

impl core::fmt::Debug for Outputs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(if self.signals.is_some() { "Outputs(on)" } else { "Outputs(none)" })
    }
}

impl Outputs {
    /// No lamp and no buzzer.
    #[must_use]
    pub fn none() -> Outputs {
        Outputs { signals: None }
    }

    pub fn lamp(&self, pattern: kiosk_io::Pattern) {
        self.set(kiosk_io::Line::StaffLamp, pattern);
    }

    pub fn buzzer(&self, pattern: kiosk_io::Pattern) {
        self.set(kiosk_io::Line::Buzzer, pattern);
    }

    /// Pulses the security gate's line (`io.gate_pin`; nothing without one).
    pub fn gate(&self) {
        self.set(kiosk_io::Line::Gate, kiosk_io::Pattern::Beep { on: GATE_PULSE });
    }

    fn set(&self, line: kiosk_io::Line, pattern: kiosk_io::Pattern) {
        if let Some(s) = &self.signals
            && let Err(e) = s.set(line, pattern)
        {
            tracing::warn!(error = %e, "staff lamp, buzzer or gate output failed");
        }
    }
}

/// Every driver the event loop uses.
pub struct Drivers {
    pub card: Option<CardHandle>,
    pub platform: Option<SharedPlatform>,
    pub trust: Arc<CardTrust>,
    pub library: Option<Arc<Sip2Library>>,
    /// The library system behind the loan journal (checkouts go through it).
    pub lending: Option<super::journaled::JournaledLibrary>,
    /// What switches items' security with their loans: the RFID pad or a desensitizer.
    pub security: Option<super::security::SecurityUnit>,
    /// Offline lending, where the library turned it on (`[offline] enabled`).
    pub offline: Option<Arc<super::offline::OfflineLending>>,
    /// The usage statistics (`usage.stats` in the state directory).
    pub usage: Arc<crate::usage::Usage>,
    pub printer: Option<Arc<dyn super::printing::Printer>>,
    pub job_settings: JobSettings,
    pub label_keys: Arc<Vec<TokenKey>>,
    /// Method D labels let in today (a label works once).
    pub used_labels: Arc<std::sync::Mutex<super::labels::UsedLabels>>,
    pub classifier: kiosk_core::scan::Classifier,
    pub outputs: Outputs,
    pub journal: Arc<Journal>,
    /// How long any one driver call may take before the session gives up on it.
    pub timeout: Duration,
    /// The local link store (OCSP and CRL modes), shared with the platform back-end.
    pub links: Option<Arc<LinkStore>>,
    /// The municipality's shared link store, when `platform.link_server` names one: the
    /// counter writes links there (`links` is then this device's view of it).
    pub shared_links: Option<Arc<SharedLinks>>,
    /// Counter method C: the USB keyboard gadget and what it types after the number.
    pub keyboard: Option<(kiosk_keyboard::Gadget, &'static str)>,
    /// The counter profile (counter mode only).
    pub counter: Option<config::Counter>,
    /// Present while a session runs: the update agent waits (its `policy.busy_file`).
    pub busy_file: PathBuf,
    /// The update agent's status file, shown on the admin screen.
    pub update_status: PathBuf,
    /// Where the admin screen leaves a request for the update agent (its
    /// `policy.request_file`).
    pub update_request: PathBuf,
    /// The configuration the drivers were started with: terminal registration reads it
    /// and builds the platform back-end again from it.
    pub config: Arc<Config>,
    /// The demo's controls (its card, its scanner) when the devices are simulated.
    #[cfg(feature = "demo")]
    pub demo: Option<crate::demo::Controls>,
}

/// The devices and peers of one kiosk: the real ones ([`Drivers::start`]) or the
/// demo's simulated ones.
pub struct Devices {
    pub card: Option<CardHandle>,
    pub platform: Option<SharedPlatform>,
    pub trust: Arc<CardTrust>,
    pub links: Option<Arc<LinkStore>>,
    pub library: Option<Arc<Sip2Library>>,
    pub printer: Option<Arc<dyn super::printing::Printer>>,
    pub outputs: Outputs,
    /// The RFID pad or the desensitizer, where the library has one.
    pub security: Option<super::security::SecurityUnit>,
}

impl core::fmt::Debug for Devices {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Devices").finish_non_exhaustive()
    }
}

impl core::fmt::Debug for Drivers {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Drivers").finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, StartError> {
    std::fs::read(path).map_err(|source| StartError::Read { path: path.to_path_buf(), source })
}

/// The platform's endpoint; `client` is the TLS client identity's certificate and key
/// files.
pub(super) fn endpoint(
    e: &config::PlatformEndpoint,
    client: Option<(&Path, &Path)>,
) -> Result<Endpoint, StartError> {
    let mut endpoint = Endpoint::new(e.url.as_str(), Some(read(e.ca_file.path())?));
    endpoint.connect_timeout = e.connect_timeout;
    endpoint.request_timeout = e.request_timeout;
    if let Some((cert, key)) = client {
        endpoint.identity = Some(Identity::from_pem(&read(cert)?, &read(key)?));
    }
    Ok(endpoint)
}

impl Drivers {
    /// Starts every driver the configuration names. The card threads and the scanner and
    /// printer watchers feed `inputs`.
    ///
    /// # Errors
    /// A simulated part (that is `kiosk demo`'s job), an unreadable file, a driver that
    /// cannot start.
    pub fn start(
        config: &Config,
        journal_dir: &Path,
        inputs: &mpsc::UnboundedSender<Input>,
    ) -> Result<Drivers, StartError> {
        let journal = Arc::new(Journal::open_with(journal_dir, &config.security.sealer())?);
        let card = match &config.card.reader {
            config::CardReader::Pcsc { name_contains } => Some(
                card::start(name_contains, ReadMode::Auto, inputs.clone())
                    .map_err(|source| StartError::Thread { what: "card reader", source })?,
            ),
            config::CardReader::Simulated => return Err(StartError::Simulated { what: "card reader" }),
        };
        let (platform, trust, links, follow) = platform(config)?;
        let library = match &config.ils {
            config::Ils::Sip2(s) => {
                let queued = journal_dir.join(crate::offline::FILE).exists();
                Some(library(config, s, queued)?)
            }
            // The counter hands numbers to the library system through its own screens.
            config::Ils::Simulated if config.mode.counter().is_some() => None,
            config::Ils::Simulated => return Err(StartError::Simulated { what: "library system" }),
        };
        let printer = printer(config, inputs)?
            .map(|device| Arc::new(super::printing::EscPos(device)) as Arc<dyn super::printing::Printer>);
        let outputs = Outputs { signals: outputs(config) };
        let security = security(config, inputs)?;
        let devices =
            Devices { card, platform, trust, links: links.clone(), library, printer, outputs, security };
        let mut drivers = Drivers::assemble(config, journal, devices)?;
        if let (Some(store), Some(follow)) = (links, follow) {
            drivers.shared_links = Some(follow.shared.clone());
            follow_shared_store(store, follow, inputs.clone());
        }
        start_scanner(&config.scanner, inputs)?;
        start_keypad(config, inputs)?;
        Ok(drivers)
    }

    /// The drivers around `devices`: what every kiosk has whatever its devices (the
    /// journal, the label keys, what a scan is, the counter's keyboard, the update
    /// agent's files).
    ///
    /// # Errors
    /// The label key file cannot be read or is too short; the scanner rules are invalid.
    pub fn assemble(config: &Config, journal: Arc<Journal>, devices: Devices) -> Result<Drivers, StartError> {
        let keyboard = config.mode.counter().map(|c| {
            let k = &c.keyboard;
            (kiosk_keyboard::Gadget::new(k.device.path(), k.layout, k.key_delay), k.terminator.text())
        });
        let label_keys = match &config.label.method_d {
            config::MethodD::On { token_key: config::TokenKey::File(f), .. } => {
                let bytes = zeroize::Zeroizing::new(read(f.path())?);
                vec![
                    TokenKey::new(&bytes)
                        .map_err(|_| StartError::TokenKey { path: f.path().to_path_buf() })?,
                ]
            }
            config::MethodD::On { token_key: config::TokenKey::Ephemeral, .. } => vec![ephemeral_key()?],
            config::MethodD::Off => Vec::new(),
        };
        let sc = &config.scanner;
        let classifier =
            kiosk_core::scan::Classifier::standard(&sc.library_card_prefix, sc.staff_card_prefix.as_deref())
                .map_err(|e| StartError::Scanner(e.to_string()))?;
        let Devices { card, platform, trust, links, library, printer, outputs, security } = devices;
        // Loans made offline are sent even if the library has since turned offline lending
        // off: `enabled` governs new offline loans only.
        let queued = journal.dir().join(crate::offline::FILE).exists();
        let state = journal.dir().parent().unwrap_or(journal.dir());
        let usage = Arc::new(crate::usage::Usage::open(state, config.statistics.keep_days));
        let offline = match (&library, config.offline.enabled || queued) {
            (Some(lib), true) => {
                let queue = crate::offline::OfflineQueue::open(journal.clone())?;
                Some(Arc::new(
                    super::offline::OfflineLending::new(
                        queue,
                        crate::offline::ClockTrust::system(state),
                        config.offline.clone(),
                        lib.clone(),
                        crate::clock::Clock::library().utc_offset_secs(),
                    )
                    .counting(usage.clone()),
                ))
            }
            _ => None,
        };
        Ok(Drivers {
            offline,
            usage,
            card,
            platform,
            trust,
            lending: library.clone().map(|l| {
                super::journaled::JournaledLibrary::new(l, journal.clone()).with_security(security.clone())
            }),
            security,
            library,
            printer,
            job_settings: config.job_settings(),
            label_keys: Arc::new(label_keys),
            used_labels: Arc::new(std::sync::Mutex::new(super::labels::UsedLabels::new(
                &journal.dir().parent().unwrap_or(journal.dir()).join("labels-used"),
            ))),
            classifier,
            outputs,
            journal,
            timeout: Duration::from_secs(30),
            links,
            shared_links: None,
            keyboard,
            counter: config.mode.counter().cloned(),
            busy_file: runtime_file("KIOSK_BUSY_FILE", "session-active"),
            update_status: std::env::var_os("KIOSK_UPDATE_STATUS")
                .map_or_else(|| PathBuf::from("/run/kiosk-update/status.json"), PathBuf::from),
            update_request: runtime_file("KIOSK_UPDATE_REQUEST", "update-request"),
            config: Arc::new(config.clone()),
            #[cfg(feature = "demo")]
            demo: None,
        })
    }
}

/// A label key made now from the system's random source: labels printed with it are
/// valid on this kiosk until it restarts (the demo's).
fn ephemeral_key() -> Result<TokenKey, StartError> {
    let random = Path::new("/dev/urandom");
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    std::fs::File::open(random)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut *bytes))
        .map_err(|source| StartError::Read { path: random.to_path_buf(), source })?;
    TokenKey::new(&*bytes).map_err(|_| StartError::TokenKey { path: random.to_path_buf() })
}

/// The revocation back-end (shared by the event loop's tasks).
pub type SharedPlatform = Arc<dyn kiosk_platform::Platform>;

/// The platform back-end, the card trust, the link store when the mode keeps one, and
/// the shared store it follows when there is one.
type PlatformParts = (Option<SharedPlatform>, Arc<CardTrust>, Option<Arc<LinkStore>>, Option<Follow>);

/// A kiosk's view of the shared link store, and how to keep it current.
#[derive(Debug)]
struct Follow {
    shared: Arc<SharedLinks>,
    refresh: Duration,
    /// The snapshot found at start and refused (its view starts empty).
    refused: Option<kiosk_platform::links::SnapshotError>,
}

/// The link store of `l`: the local file, or the snapshot of the shared store and the
/// store itself.
fn link_store(l: &config::LinkStore) -> Result<(Arc<LinkStore>, Option<Follow>), StartError> {
    let Some(shared) = &l.shared else {
        let store = LinkStore::open(l.path.path(), l.key_file.path()).map_err(StartError::Platform)?;
        return Ok((Arc::new(store), None));
    };
    let (store, refused) = LinkStore::open_snapshot(l.path.path(), l.key_file.path(), &shared.municipality)
        .map_err(StartError::Platform)?;
    if let Some(e) = &refused {
        tracing::error!(
            path = %l.path.path().display(),
            error = %e,
            "the link snapshot was refused; no card is recognised until the shared link store answers"
        );
    }
    let identity = kiosk_platform::tls::Identity::from_pem(
        &read(shared.client_cert.path())?,
        &read(shared.client_key.path())?,
    );
    let config = kiosk_platform::links::shared::SharedConfig {
        url: shared.url.clone(),
        ca_pem: read(shared.ca_file.path())?,
        identity,
        municipality: shared.municipality.clone(),
        timeout: Duration::from_secs(5),
    };
    let links = SharedLinks::new(config).map_err(StartError::Platform)?;
    Ok((Arc::new(store), Some(Follow { shared: Arc::new(links), refresh: shared.refresh, refused })))
}

/// Keeps `store` current with the shared store, and the staff menu's line about it.
fn follow_shared_store(store: Arc<LinkStore>, follow: Follow, inputs: mpsc::UnboundedSender<Input>) {
    use kiosk_platform::links::shared::Following;
    use kiosk_ui::{Device, DeviceState};
    let refused = follow.refused.map(|e| e.to_string());
    let counted = store.clone();
    let mut last = None;
    let report = move |state: Following| {
        let row = match state {
            Following::Current => {
                let n = i32::try_from(counted.len()).unwrap_or(i32::MAX);
                // A refused snapshot stays named until a good one has replaced it.
                let detail = match &refused {
                    Some(why) if !counted.snapshot_written() => why.as_str(),
                    _ => "",
                };
                kiosk_ui::status_row(Device::LinkStore, DeviceState::LinksCurrent, n, detail)
            }
            Following::Unreachable { taken: None, why } => {
                let state =
                    if refused.is_some() { DeviceState::SnapshotRefused } else { DeviceState::NoLinks };
                kiosk_ui::status_row(Device::LinkStore, state, 0, refused.as_deref().unwrap_or(&why))
            }
            Following::Unreachable { taken: Some(t), why } => {
                let minutes = SystemTime::now().duration_since(t).map_or(0, |d| d.as_secs() / 60);
                let (state, n) = if minutes < 120 {
                    (DeviceState::LinksFromSnapshot, minutes)
                } else {
                    (DeviceState::LinksFromSnapshotHours, minutes / 60)
                };
                kiosk_ui::status_row(Device::LinkStore, state, i32::try_from(n).unwrap_or(i32::MAX), &why)
            }
        };
        if last.as_ref() != Some(&row) {
            last = Some(row.clone());
            let _ = inputs.send(Input::Status(row));
        }
    };
    // The snapshot is written at most once a minute: a busy counter does not wear the
    // board's storage, and a power cut loses at most a minute of links, fetched again.
    tokio::spawn(kiosk_platform::links::shared::follow(
        store,
        follow.shared,
        follow.refresh,
        Duration::from_secs(60),
        report,
    ));
}

fn platform(config: &Config) -> Result<PlatformParts, StartError> {
    let trust_of = |e: &config::PlatformEndpoint| -> Result<CardTrust, StartError> {
        CardTrust::from_pem(&read(e.jpki_ca_file.path())?).map_err(StartError::Platform)
    };
    const CACHE: usize = 256;
    Ok(match &config.platform {
        config::Platform::Api { endpoint: e, client, terminal } => {
            let trust = trust_of(e)?;
            // The files, not the configuration's view of them: registration may have
            // written them since the file was read.
            if !client.cert_path().exists() && !client.key_path().exists() {
                tracing::warn!(
                    "this kiosk is not registered with the platform: My Number cards are refused until \
                     staff register it (staff menu, Registration) or IT runs `kiosk register`"
                );
                return Ok((Some(Arc::new(NotRegistered)), Arc::new(trust), None, None));
            }
            let api = kiosk_platform::api::ApiConfig {
                endpoint: endpoint(e, Some((client.cert_path(), client.key_path())))?,
                terminal_id: terminal.id.as_str().to_owned(),
                service_provider: config
                    .library
                    .service_provider_id
                    .as_ref()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            };
            let p =
                kiosk_platform::api::ApiPlatform::new(api, trust.clone()).map_err(StartError::Platform)?;
            let g = Guarded::new(p, e.offline_policy, CACHE).map_err(StartError::Platform)?;
            (Some(Arc::new(g)), Arc::new(trust), None, None)
        }
        config::Platform::Ocsp { endpoint: e, client, links: l } => {
            let trust = trust_of(e)?;
            let cfg = kiosk_platform::ocsp::OcspConfig::new(endpoint(
                e,
                client.as_ref().map(|c| (c.cert.path(), c.key.path())),
            )?);
            let (store, follow) = link_store(l)?;
            let p = kiosk_platform::ocsp::OcspPlatform::new(cfg, trust.clone(), store.clone())
                .map_err(StartError::Platform)?;
            let g = Guarded::new(p, e.offline_policy, CACHE).map_err(StartError::Platform)?;
            (Some(Arc::new(g)), Arc::new(trust), Some(store), follow)
        }
        config::Platform::Crl { endpoint: e, client, links: l, refresh } => {
            let trust = trust_of(e)?;
            let cache_path = l.path.path().with_extension("crl");
            let cfg = kiosk_platform::crl::CrlConfig {
                endpoint: endpoint(e, client.as_ref().map(|c| (c.cert.path(), c.key.path())))?,
                refresh: *refresh,
                cache_path,
                skew: Duration::from_secs(300),
            };
            let (store, follow) = link_store(l)?;
            let p = Arc::new(
                kiosk_platform::crl::CrlPlatform::new(cfg, trust.clone(), store.clone())
                    .map_err(StartError::Platform)?,
            );
            let _refresher = p.spawn_refresher();
            let g = Guarded::new(ArcPlatform(p), e.offline_policy, CACHE).map_err(StartError::Platform)?;
            (Some(Arc::new(g)), Arc::new(trust), Some(store), follow)
        }
        config::Platform::Simulated => return Err(StartError::Simulated { what: "platform" }),
    })
}

/// The platform back-end of a kiosk not registered yet (`api` mode without its client
/// certificate): every check is unavailable, with the reason for the admin screen.
struct NotRegistered;

impl kiosk_platform::Platform for NotRegistered {
    fn challenge(
        &self,
    ) -> kiosk_platform::BoxFuture<'_, Result<kiosk_platform::Challenge, kiosk_platform::PlatformError>> {
        Box::pin(async { Err(kiosk_platform::PlatformError::NotRegistered) })
    }

    fn verify<'a>(
        &'a self,
        _certificate: &'a kiosk_platform::JpkiCertificate,
        _possession: kiosk_platform::Possession<'a>,
    ) -> kiosk_platform::BoxFuture<'a, kiosk_platform::Verdict> {
        Box::pin(async { kiosk_platform::Verdict::Unavailable(kiosk_platform::PlatformError::NotRegistered) })
    }
}

/// A platform back-end built after terminal registration.
pub struct NewPlatform(pub(super) SharedPlatform);

impl core::fmt::Debug for NewPlatform {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("NewPlatform(..)")
    }
}

/// The platform back-end again, after terminal registration stored a new certificate.
///
/// # Errors
/// A file cannot be read, the back-end cannot be built.
pub(super) fn rebuild_platform(config: &Config) -> Result<Option<SharedPlatform>, StartError> {
    platform(config).map(|(p, ..)| p)
}

/// A shared back-end (the CRL one has a refresher task holding it too).
struct ArcPlatform<P>(Arc<P>);

impl<P: kiosk_platform::Platform> kiosk_platform::Platform for ArcPlatform<P> {
    fn challenge(
        &self,
    ) -> kiosk_platform::BoxFuture<'_, Result<kiosk_platform::Challenge, kiosk_platform::PlatformError>> {
        self.0.challenge()
    }

    fn verify<'a>(
        &'a self,
        certificate: &'a kiosk_platform::JpkiCertificate,
        possession: kiosk_platform::Possession<'a>,
    ) -> kiosk_platform::BoxFuture<'a, kiosk_platform::Verdict> {
        self.0.verify(certificate, possession)
    }
}

/// The SIP2 client; `queued`: loans made offline wait to be sent (the replay is on even
/// where the library has since turned offline lending off).
fn library(config: &Config, s: &config::Sip2, queued: bool) -> Result<Arc<Sip2Library>, StartError> {
    let mut c = ClientConfig::new(
        format!("{}:{}", s.host.as_str(), s.port.get()),
        config.library.institution_id.as_str(),
    );
    c.charset = s.encoding;
    c.request_timeout = s.request_timeout;
    // SIP2 dates are local times without a zone: the library's, from the tz database.
    c.utc_offset_secs = crate::clock::Clock::library().utc_offset_secs();
    c.resends = u32::from(s.retries);
    c.keepalive = s.keepalive;
    c.resend = s.resend;
    c.charged_items = s.charged_items;
    c.checkout_allowed_override = s.override_checkout_not_allowed.then_some(true);
    // Offline loans are sent with `no block` only where the library lends offline, or
    // loans made offline still wait to be sent.
    c.offline_replay = config.offline.enabled || queued;
    if let Some(loc) = &s.location_code {
        c.location = loc.as_str().to_owned();
    }
    if let Some(login) = &s.login {
        c.login = Some(Credentials {
            user: login.user.as_str().to_owned(),
            password: login.password.expose().to_owned(),
            location: s.location_code.as_ref().map(|l| l.as_str().to_owned()),
        });
    }
    if let Some(tls) = &s.tls {
        c.tls = Some(TlsSettings {
            ca_pem: read(tls.ca_file.path())?,
            ca_label: format!("ils.ca_file ({})", tls.ca_file.path().display()),
            server_name: None,
            client_identity: None,
        });
    }
    let lib = Sip2Library::new(c);
    let _keepalive = lib.spawn_keepalive();
    Ok(lib)
}

fn printer(
    config: &Config,
    inputs: &mpsc::UnboundedSender<Input>,
) -> Result<Option<Arc<Mutex<Device<AnyDriver>>>>, StartError> {
    let spec = match &config.printer.transport {
        config::PrinterTransport::Usb { vendor_id, product_id } => {
            TransportSpec::Usb { vendor_id: *vendor_id, product_id: *product_id }
        }
        config::PrinterTransport::Serial { device, baud } => {
            TransportSpec::Serial { device: device.path().to_path_buf(), baud: *baud }
        }
        config::PrinterTransport::Tcp { host, port } => {
            TransportSpec::Tcp { host: host.as_str().to_owned(), port: port.get() }
        }
        config::PrinterTransport::File { path } => TransportSpec::File { path: path.path().to_path_buf() },
        config::PrinterTransport::Simulated | config::PrinterTransport::None => return Ok(None),
    };
    match kiosk_printer::transport::open(&spec, Duration::from_secs(2)) {
        Ok(device) => {
            let device = Arc::new(Mutex::new(device));
            let health = kiosk_printer::watch(device.clone(), Duration::from_secs(5));
            let tx = inputs.clone();
            std::thread::Builder::new()
                .name("printer-watch".into())
                .spawn(move || {
                    let mut out = false;
                    while let Ok(h) = health.recv() {
                        use kiosk_ui::DeviceState as D;
                        let (state, detail, paper_out) = match &h {
                            kiosk_printer::Health::Status(Some(s)) => {
                                (printer_state(s), printer_words(s), s.paper == kiosk_printer::Paper::Out)
                            }
                            kiosk_printer::Health::Status(None) => (D::OneWay, String::new(), false),
                            kiosk_printer::Health::Unreachable(why) => (D::NotWorking, why.clone(), false),
                        };
                        let row = kiosk_ui::status_row(kiosk_ui::Device::Printer, state, 0, &detail);
                        if paper_out != out {
                            out = paper_out;
                            let _ = tx.send(Input::PaperOut(out));
                        }
                        if tx.send(Input::Status(row)).is_err() {
                            return;
                        }
                    }
                })
                .map_err(|source| StartError::Thread { what: "printer watch", source })?;
            Ok(Some(device))
        }
        Err(e) => {
            // A missing printer is not a reason to stop lending: no receipts today.
            tracing::warn!(error = %e, "the printer is not available: no receipts or labels");
            let row = kiosk_ui::status_row(
                kiosk_ui::Device::Printer,
                kiosk_ui::DeviceState::NotWorking,
                0,
                &e.to_string(),
            );
            let _ = inputs.send(Input::Status(row));
            let _ = inputs.send(Input::PaperOut(true));
            Ok(None)
        }
    }
}

fn outputs(config: &Config) -> Option<kiosk_io::Ticker> {
    let now = std::time::Instant::now();
    let ticker = match &config.io {
        config::Io::Gpio(pins) => {
            match kiosk_io::GpioPins::open(
                pins.lamp().bcm(),
                pins.buzzer().bcm(),
                pins.gate().map(config::GpioPin::bcm),
            ) {
                Ok(p) => kiosk_io::spawn_ticker(kiosk_io::Signals::new(p, now)),
                Err(e) => {
                    tracing::error!(error = %e, "the staff lamp and buzzer are not available");
                    return None;
                }
            }
        }
        config::Io::Simulated => {
            kiosk_io::spawn_ticker(kiosk_io::Signals::new(kiosk_io::SimulatedPins::new(), now))
        }
        config::Io::None => return None,
    };
    ticker.map_err(|e| tracing::error!(error = %e, "the output ticker cannot start")).ok()
}

/// The RFID pad (its reader's thread started) or the desensitizer, as configured.
///
/// # Errors
/// A simulated reader (the demo's), a desensitizer whose pins cannot be claimed, the
/// pad's thread cannot start. A reader that cannot be opened now is not an error: the
/// pad's thread opens it when it is there, and the status page says why it is not.
fn security(
    config: &Config,
    inputs: &mpsc::UnboundedSender<Input>,
) -> Result<Option<super::security::SecurityUnit>, StartError> {
    use super::security::{SecurityUnit, start_pad};
    if let Some(r) = &config.rfid {
        let config::RfidReader::Serial(path) = &r.reader else {
            return Err(StartError::Simulated { what: "RFID reader" });
        };
        let path = path.display().to_string();
        let open = Box::new(move || kiosk_rfid::EvmReader::open(&path));
        let pad = start_pad(open, tag_values(r), inputs.clone())
            .map_err(|source| StartError::Thread { what: "RFID pad", source })?;
        return Ok(Some(SecurityUnit::Rfid(pad)));
    }
    let Some(d) = &config.desensitizer else { return Ok(None) };
    let unit: Arc<dyn kiosk_io::Desensitizer> = match d.unit {
        config::DesensitizerUnit::Gpio { pulse, book_present } => Arc::new(
            kiosk_io::GpioDesensitizer::open(pulse.bcm(), book_present.map(config::GpioPin::bcm), d.pulse)
                .map_err(StartError::Desensitizer)?,
        ),
        config::DesensitizerUnit::Simulated => Arc::new(kiosk_io::SimulatedDesensitizer::new()),
    };
    Ok(Some(SecurityUnit::Desensitizer { unit, wait: d.wait, pulses: Arc::default() }))
}

/// The library's tag values from `[rfid]`.
#[must_use]
pub fn tag_values(r: &config::Rfid) -> super::security::TagValues {
    super::security::TagValues {
        security: r.security,
        afi_on_shelf: r.afi_on_shelf,
        afi_on_loan: r.afi_on_loan,
        patron_cards: r.patron_cards,
    }
}

/// Opens the configured scanner.
fn open_scanner(
    sc: &config::Scanner,
) -> Result<Option<Box<dyn kiosk_scanner::Scanner>>, kiosk_scanner::ScannerError> {
    use kiosk_scanner::{DeviceSpec, EvdevScanner, LineConfig, LineFileScanner, SerialScanner};
    let line = LineConfig { terminator: sc.terminator, ..LineConfig::default() };
    Ok(match &sc.source {
        config::ScannerSource::Evdev { device } => Some(Box::new(EvdevScanner::open(
            &DeviceSpec::Path(device.path().to_path_buf()),
            sc.layout,
            line,
        )?)),
        config::ScannerSource::Serial { device, baud } => {
            Some(Box::new(SerialScanner::open(&device.path().to_string_lossy(), *baud, line)?))
        }
        config::ScannerSource::Fifo { path } => {
            Some(Box::new(LineFileScanner::open(path.path(), line.max_len)?))
        }
        config::ScannerSource::Simulated | config::ScannerSource::None => None,
    })
}

/// The scanner's supervisor: open, read scans into the event loop, and after a failure
/// (unplugged, grabbed by another program) open again with back-off (1 s doubling to 30 s).
fn start_scanner(sc: &config::Scanner, inputs: &mpsc::UnboundedSender<Input>) -> Result<(), StartError> {
    if matches!(sc.source, config::ScannerSource::Simulated | config::ScannerSource::None) {
        tracing::warn!(
            "no barcode scanner configured: patrons can log in by card but not borrow by scanning"
        );
        return Ok(());
    }
    let (sc, tx) = (sc.clone(), inputs.clone());
    std::thread::Builder::new()
        .name("scanner".into())
        .spawn(move || {
            let mut backoff = Duration::from_secs(1);
            while !tx.is_closed() {
                match open_scanner(&sc) {
                    Ok(Some(scanner)) => {
                        backoff = Duration::from_secs(1);
                        let mut scanner =
                            kiosk_scanner::Debounced::new(scanner, kiosk_scanner::Debounce::new(sc.debounce));
                        let result = kiosk_scanner::pump(&mut scanner, Duration::from_millis(500), || tx.is_closed(), |scan| {
                            match scan {
                                Ok(code) => tx.send(Input::Scan(code)).is_ok(),
                                Err(e) => {
                                    tracing::warn!(error = %e, "scan discarded");
                                    true
                                }
                            }
                        });
                        if let Err(e) = result {
                            tracing::error!(error = %e, "the scanner failed; opening it again");
                        }
                    }
                    Ok(None) => return,
                    Err(e) => tracing::error!(error = %e, retry_in_s = backoff.as_secs(), "the scanner cannot be opened"),
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        })
        .map_err(|source| StartError::Thread { what: "scanner", source })?;
    Ok(())
}

/// What a key of the tactile keypad means (the key map of `kiosk_core::tactile`, on
/// the printable card `docs/keypad-card.md`).
#[must_use]
pub fn key_meaning(key: kiosk_scanner::KeypadKey) -> kiosk_core::tactile::Key {
    use kiosk_core::tactile::Key;
    use kiosk_scanner::KeypadKey as K;
    match key {
        K::Digit(d) => Key::Digit(d),
        K::Enter => Key::Select,
        K::Plus | K::Down | K::Right => Key::Next,
        K::Minus | K::Up | K::Left => Key::Previous,
        K::Star => Key::Help,
        K::Dot | K::Backspace => Key::Correct,
        K::Slash | K::Escape => Key::Cancel,
    }
}

/// The tactile keypad's supervisor: open it, send its keys and its headphone jack's
/// changes to the event loop, and after a failure (unplugged) open it again with back-off
/// (1 s doubling to 30 s); the status page says which. With `[audio] jack` (the jack on
/// an input node of its own), that node's supervisor says the headphones' changes, and
/// the keypad's failure leaves them as they are.
pub fn start_keypad(
    config: &crate::config::Config,
    inputs: &mpsc::UnboundedSender<Input>,
) -> Result<(), StartError> {
    let own_jack = config.audio.jack.is_some();
    if let Some(path) = config.keypad.as_deref() {
        supervise_input(path, Some(kiosk_ui::Device::Keypad), !own_jack, inputs)?;
    }
    if let Some(path) = config.audio.jack.as_deref() {
        supervise_input(path, None, true, inputs)?;
    }
    Ok(())
}

/// Reads an evdev node (or a recorded stream) on a thread of its own: its keys as the
/// keypad's (a jack's node has none), its `SW_HEADPHONE_INSERT` as the headphones'
/// (`jack`: this node says them, and its failure takes them out); opened again with
/// back-off. `status`: its line on the status page (the keypad's).
fn supervise_input(
    path: &Path,
    status: Option<kiosk_ui::Device>,
    jack: bool,
    inputs: &mpsc::UnboundedSender<Input>,
) -> Result<(), StartError> {
    use kiosk_ui::{DeviceState, status_row};
    let (path, tx) = (path.to_path_buf(), inputs.clone());
    let shown = path.display().to_string();
    let what = if status.is_some() { "the tactile keypad" } else { "the headphone jack" };
    let say = move |tx: &mpsc::UnboundedSender<Input>, state: DeviceState, detail: &str| {
        if let Some(device) = status {
            let _ = tx.send(Input::Status(status_row(device, state, 0, detail)));
        }
    };
    say(&tx, DeviceState::Starting, &shown);
    std::thread::Builder::new()
        .name(if status.is_some() { "keypad" } else { "jack" }.into())
        .spawn(move || {
            let mut backoff = Duration::from_secs(1);
            while !tx.is_closed() {
                let opened = if status.is_some() {
                    kiosk_scanner::Keypad::open(&path)
                } else {
                    kiosk_scanner::Keypad::open_jack(&path)
                };
                match opened {
                    Ok(mut keypad) => {
                        backoff = Duration::from_secs(1);
                        say(&tx, DeviceState::Ready, &shown);
                        let failed = loop {
                            if tx.is_closed() {
                                return;
                            }
                            match keypad.next_event(Duration::from_millis(500)) {
                                Ok(Some(kiosk_scanner::KeypadEvent::Key(key))) if status.is_some() => {
                                    let _ = tx.send(Input::Keypad(key_meaning(key)));
                                }
                                Ok(Some(kiosk_scanner::KeypadEvent::Headphones(inserted))) if jack => {
                                    tracing::info!(inserted, "{what}: headphones");
                                    let _ = tx.send(Input::Headphones(inserted));
                                }
                                Ok(_) => {}
                                Err(e) => break e,
                            }
                        };
                        tracing::error!(error = %failed, "{what} failed; opening it again");
                        // Its jack went with it: the voice back on the speaker.
                        if jack {
                            let _ = tx.send(Input::Headphones(false));
                        }
                        say(&tx, DeviceState::NotWorking, &failed.to_string());
                    }
                    Err(e) => {
                        tracing::error!(error = %e, retry_in_s = backoff.as_secs(), "{what} cannot be opened");
                        say(&tx, DeviceState::NotWorking, &e.to_string());
                    }
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        })
        .map_err(|source| StartError::Thread { what: if status.is_some() { "tactile keypad" } else { "headphone jack" }, source })?;
    Ok(())
}

/// The printer's line on the status page: the most urgent thing first.
fn printer_state(s: &kiosk_printer::PrinterStatus) -> kiosk_ui::DeviceState {
    use kiosk_ui::DeviceState as D;
    if s.cover_open {
        D::CoverOpen
    } else if s.paper == kiosk_printer::Paper::Out {
        D::PaperOut
    } else if s.error || !s.online {
        D::NotWorking
    } else if s.paper == kiosk_printer::Paper::NearEnd {
        D::PaperLow
    } else {
        D::Ready
    }
}

/// The printer's status as it reported it (the technical detail under its line).
fn printer_words(s: &kiosk_printer::PrinterStatus) -> String {
    let mut words = Vec::new();
    if s.cover_open {
        words.push("cover open");
    }
    match s.paper {
        kiosk_printer::Paper::Out => words.push("paper out"),
        kiosk_printer::Paper::NearEnd => words.push("paper low"),
        kiosk_printer::Paper::Ok => {}
    }
    if s.error {
        words.push("error: switch it off and on");
    }
    if !s.online && words.is_empty() {
        words.push("offline");
    }
    if words.is_empty() { "ready".to_owned() } else { words.join(", ") }
}

/// The default route's interface and its state, from the kernel (`/proc/net/route`,
/// `/sys/class/net`), for the admin screen.
pub fn network_state() -> (bool, String) {
    let route = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    let iface = route.lines().skip(1).find_map(|l| {
        let mut f = l.split_whitespace();
        let (name, dest) = (f.next()?, f.next()?);
        (dest == "00000000").then(|| name.to_owned())
    });
    match iface {
        Some(i) => {
            let state = std::fs::read_to_string(format!("/sys/class/net/{i}/operstate")).unwrap_or_default();
            let state = state.trim();
            (state == "up" || state == "unknown", format!("{i} {state}"))
        }
        None => (false, "no default route: check the network cable or Wi-Fi".to_owned()),
    }
}

/// One line of `kiosk health`.
#[derive(Debug)]
pub struct HealthLine {
    pub what: &'static str,
    pub result: Result<String, String>,
    /// A failing line fails the check; `false` for information (a closed network may
    /// have no default route while every peer answers).
    pub required: bool,
}

/// What `kiosk health` checks: the card reader is there, the printer answers, the platform
/// and the library system answer, the network has a route. Nothing about patrons is
/// sent. The UI is covered by the unit ordering: the health unit runs after
/// `kiosk.service`, which is ready only once it draws and serves.
pub async fn health(config: &Config) -> Vec<HealthLine> {
    let mut out = Vec::new();
    let line = |what, result| HealthLine { what, result, required: true };
    out.push(HealthLine {
        what: "network",
        result: {
            let (ok, detail) = network_state();
            if ok { Ok(detail) } else { Err(detail) }
        },
        required: false,
    });
    if let config::CardReader::Pcsc { name_contains } = &config.card.reader {
        let mut readers = kiosk_card::pcsc::PcscReaders::new(name_contains.clone());
        out.push(line(
            "card reader",
            match readers.find_reader() {
                Ok(Some(name)) => Ok(name.to_string_lossy().into_owned()),
                Ok(None) => {
                    Err(kiosk_card::CardError::NoReader { pattern: name_contains.clone() }.to_string())
                }
                Err(e) => Err(e.to_string()),
            },
        ));
    }
    let (tx, _rx) = mpsc::unbounded_channel();
    match printer(config, &tx) {
        Ok(Some(device)) => {
            let status = device
                .lock()
                .map_err(|_| "printer lock poisoned".to_owned())
                .and_then(|d| d.status().map_err(|e| e.to_string()));
            out.push(line(
                "printer",
                match status {
                    Ok(Some(s)) if s.ready() => Ok(printer_words(&s)),
                    Ok(Some(s)) => Err(printer_words(&s)),
                    Ok(None) => Ok("no status (one-way link)".to_owned()),
                    Err(e) => Err(e),
                },
            ));
        }
        Ok(None) if matches!(config.printer.transport, config::PrinterTransport::None) => {}
        Ok(None) => out.push(line("printer", Err("not available".to_owned()))),
        Err(e) => out.push(line("printer", Err(e.to_string()))),
    }
    match platform(config) {
        Ok((p, _, links, follow)) => {
            if let Some(p) = p {
                out.push(line(
                    "platform",
                    match tokio::time::timeout(Duration::from_secs(10), p.challenge()).await {
                        Ok(Ok(_)) => Ok("answers".to_owned()),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(_) => Err("no answer within 10 s".to_owned()),
                    },
                ));
            }
            if let (Some(store), Some(follow)) = (links, follow) {
                // Not required: the kiosk lends from its snapshot while the store is away.
                let result = match follow.shared.sync(&store).await {
                    Ok(_) => Ok(format!("answers; {} links", store.len())),
                    Err(e) => Err(e.to_string()),
                };
                out.push(HealthLine { what: "shared link store", result, required: false });
            }
        }
        Err(e) => out.push(line("platform", Err(e.to_string()))),
    }
    if let Some(c) = config.mode.counter() {
        // Method C only: the other methods work without it, so it does not fail the gate.
        out.push(HealthLine { what: "USB keyboard", result: keyboard_state(c), required: false });
    }
    if let config::Ils::Sip2(s) = &config.ils {
        out.push(line(
            "library system",
            match library(config, s, false) {
                Ok(l) => match tokio::time::timeout(Duration::from_secs(10), library_state(&l)).await {
                    Ok(state) => state.map(|s| format!("SIP2 login and status answered; {s}")),
                    Err(_) => Err("no answer within 10 s".to_owned()),
                },
                Err(e) => Err(e.to_string()),
            },
        ));
    }
    out
}

/// Whether the library system answers (SIP2 login and status) and lets this kiosk lend,
/// in words for staff and `kiosk health`.
///
/// # Errors
/// No answer, or the library system's status says checkout is not allowed (with what to
/// do).
pub async fn library_state(library: &Sip2Library) -> Result<String, String> {
    use kiosk_ils::client::CheckoutPermission as P;
    library.probe().await.map_err(|e| e.to_string())?;
    let keepalive = library.keepalive_interval().await.as_secs();
    match library.checkout_permission().await {
        P::Allowed | P::Unknown => Ok(format!("checkout allowed; keep-alive every {keepalive} s")),
        P::Overridden => Ok(format!(
            "checkout allowed by ils.override_checkout_not_allowed although the library system's status \
             says no; keep-alive every {keepalive} s"
        )),
        P::RefusedByServer => Err("the library system's status says checkout is not allowed: ask its \
                                   administrator, or set ils.override_checkout_not_allowed = true if the \
                                   status is wrong"
            .to_owned()),
    }
}

/// Whether method C's gadget device is there, in words for the admin screen.
///
/// # Errors
/// What is missing and what to do.
pub fn keyboard_state(counter: &config::Counter) -> Result<String, String> {
    let path = counter.keyboard.device.path();
    match std::fs::OpenOptions::new().write(true).open(path) {
        Ok(_) => Ok(format!("{} ready", path.display())),
        Err(e) => Err(format!(
            "{} cannot be opened ({e}): connect the board's USB data port to the counter PC and check \
             kiosk-usb-gadget.service; methods A, B and D still work",
            path.display()
        )),
    }
}

/// `$env`, else `name` in systemd's `$RUNTIME_DIRECTORY` (`/run/kiosk`), else
/// `/run/kiosk/<name>` (the update agent's defaults).
fn runtime_file(env: &str, name: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    std::env::var_os("RUNTIME_DIRECTORY")
        .and_then(|dirs| std::env::split_paths(&dirs).next())
        .unwrap_or_else(|| PathBuf::from("/run/kiosk"))
        .join(name)
}

/// What staff can ask the update agent for; the words are `kiosk-update`'s
/// (`deploy/agent/src/request.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentRequest {
    Check,
    Install,
    Reboot,
}

impl AgentRequest {
    fn word(self) -> &'static str {
        match self {
            AgentRequest::Check => "check",
            AgentRequest::Install => "install",
            AgentRequest::Reboot => "reboot",
        }
    }
}

/// Leaves `request` for the update agent, atomically (it never reads half a word).
///
/// # Errors
/// The runtime directory cannot be written.
pub fn ask_agent(path: &Path, request: AgentRequest) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{}\n", request.word()))?;
    std::fs::rename(&tmp, path)
}

/// The request still waiting for the agent, in words, if there is one.
fn pending_request(path: &Path) -> AgentAsk {
    let Ok(text) = std::fs::read_to_string(path) else { return AgentAsk::None };
    match [AgentRequest::Check, AgentRequest::Install, AgentRequest::Reboot]
        .into_iter()
        .find(|r| r.word() == text.trim())
    {
        Some(AgentRequest::Check) => AgentAsk::Check,
        Some(AgentRequest::Install) => AgentAsk::Install,
        Some(AgentRequest::Reboot) => AgentAsk::Reboot,
        None => AgentAsk::None,
    }
}

/// The update page: the update agent's status (its `status.json`, written by
/// `kiosk-update`; the format is `deploy/agent/src/status.rs`'s) and a request it has not
/// taken yet. The page words it in the staff's language.
#[must_use]
pub fn update_page(status: &Path, request: &Path) -> UpdateView {
    UpdateView { asked: pending_request(request), ..update_state(status) }
}

/// The update agent's status, for the update page.
#[must_use]
pub fn update_state(path: &Path) -> UpdateView {
    #[derive(serde::Deserialize)]
    struct Status {
        phase: String,
        version: Option<String>,
        reason: Option<String>,
        percent: Option<u8>,
        step: Option<String>,
        error: Option<String>,
    }
    let view = |phase, detail: Option<String>| UpdateView {
        phase,
        detail: detail.unwrap_or_default(),
        ..UpdateView::default()
    };
    let Ok(bytes) = std::fs::read(path) else {
        return view(UpdatePhase::NotReported, None);
    };
    let Ok(s) = serde_json::from_slice::<Status>(&bytes) else {
        return view(UpdatePhase::Unreadable, Some(path.display().to_string()));
    };
    let (phase, detail) = match s.phase.as_str() {
        "idle" => (UpdatePhase::UpToDate, None),
        "deferred" => (UpdatePhase::Deferred, s.reason),
        "downloading" => (UpdatePhase::Downloading, None),
        "installing" => (UpdatePhase::Installing, s.step),
        "waiting_for_reboot" => (UpdatePhase::WaitingForReboot, None),
        "failed" => (UpdatePhase::Failed, s.error),
        other => (UpdatePhase::Other, Some(other.to_owned())),
    };
    UpdateView {
        version: s.version.unwrap_or_default(),
        percent: i32::from(s.percent.unwrap_or(0)),
        ..view(phase, detail)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Staff see whether the library system lets the kiosk lend, and what to do when its
    /// status says no (`ils.override_checkout_not_allowed`).
    #[cfg(feature = "demo")]
    #[tokio::test]
    async fn a_library_system_that_says_checkout_is_not_allowed() {
        use kiosk_sim::sip2::{Behaviour, Catalogue, Sip2Sim};
        let state = |lie: bool, override_it: bool| async move {
            let sim = Sip2Sim::in_process(
                Catalogue::demo(),
                Behaviour { login: None, lie_checkout_not_ok: lie, ..Behaviour::default() },
            );
            let mut c = ClientConfig::new("in process", "KIOSKLIB");
            c.in_process = Some(sim.peer());
            c.checkout_allowed_override = override_it.then_some(true);
            library_state(&Sip2Library::new(c)).await
        };
        assert!(state(false, false).await.unwrap().starts_with("checkout allowed; keep-alive every"));
        let refused = state(true, false).await.unwrap_err();
        assert!(refused.contains("set ils.override_checkout_not_allowed = true"), "{refused}");
        let overridden = state(true, true).await.unwrap();
        assert!(overridden.contains("although the library system's status says no"), "{overridden}");
    }

    #[test]
    fn the_update_agents_status_for_the_page() {
        let dir = std::env::temp_dir().join(format!("kiosk-update-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("status.json");
        assert_eq!(update_state(&file).phase, UpdatePhase::NotReported);
        for (json, phase, version, percent, detail) in [
            (r#"{"phase":"idle","version":null,"at":1}"#, UpdatePhase::UpToDate, "", 0, ""),
            (
                r#"{"phase":"downloading","percent":40,"version":"2026.12.0","at":1}"#,
                UpdatePhase::Downloading,
                "2026.12.0",
                40,
                "",
            ),
            (
                r#"{"phase":"deferred","reason":"waiting for the patron session to end","version":"2026.12.0","at":1}"#,
                UpdatePhase::Deferred,
                "2026.12.0",
                0,
                "waiting for the patron session to end",
            ),
            (
                r#"{"phase":"failed","error":"the data partition is full","version":"2026.12.0","at":1}"#,
                UpdatePhase::Failed,
                "2026.12.0",
                0,
                "the data partition is full",
            ),
            (
                r#"{"phase":"waiting_for_reboot","version":"2026.12.0","at":1}"#,
                UpdatePhase::WaitingForReboot,
                "2026.12.0",
                0,
                "",
            ),
            (r#"{"phase":"sleeping","at":1}"#, UpdatePhase::Other, "", 0, "sleeping"),
        ] {
            std::fs::write(&file, json).unwrap();
            let v = update_state(&file);
            assert_eq!(
                (v.phase, v.version.as_str(), v.percent, v.detail.as_str()),
                (phase, version, percent, detail)
            );
        }
        std::fs::write(&file, b"{garbage").unwrap();
        assert_eq!(update_state(&file).phase, UpdatePhase::Unreadable);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_request_waits_for_the_agent_in_words() {
        let dir = std::env::temp_dir().join(format!("kiosk-update-request-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (status, request) = (dir.join("status.json"), dir.join("update-request"));
        std::fs::write(&status, r#"{"phase":"idle","version":null,"at":1}"#).unwrap();
        let up_to_date = UpdateView { phase: UpdatePhase::UpToDate, ..UpdateView::default() };
        assert_eq!(update_page(&status, &request), up_to_date);
        for (r, word, asked) in [
            (AgentRequest::Check, "check\n", AgentAsk::Check),
            (AgentRequest::Install, "install\n", AgentAsk::Install),
            (AgentRequest::Reboot, "reboot\n", AgentAsk::Reboot),
        ] {
            ask_agent(&request, r).unwrap();
            assert_eq!(std::fs::read_to_string(&request).unwrap(), word);
            assert_eq!(update_page(&status, &request), UpdateView { asked, ..up_to_date.clone() });
        }
        // The agent took it.
        std::fs::remove_file(&request).unwrap();
        assert_eq!(update_page(&status, &request), up_to_date);
        std::fs::remove_dir_all(dir).ok();
    }
}
