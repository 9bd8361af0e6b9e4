#![allow(clippy::unwrap_used)]
//! The shared link store against the real engine: Debian's PostgreSQL in a private
//! directory, TLS with client certificates, the schema of `deploy/links/schema.sql`.
//! Counters write, kiosks follow; each municipality sees only its own links; a kiosk
//! keeps lending from its snapshot while the store is down and catches up after.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kiosk_platform::links::shared::{SharedConfig, SharedLinks};
use kiosk_platform::links::{LinkStore, SnapshotError};
use kiosk_platform::tls::Identity;
use kiosk_platform::{JpkiCertificate, PlatformError, ServiceId};
use kiosk_sim::links::LinkServer;
use kiosk_sim::platform::{PlatformPki, TestCard};

fn card(serial: &[u8]) -> JpkiCertificate {
    let c = TestCard::issue(serial, (2024, 1, 1), (2034, 1, 1)).unwrap();
    JpkiCertificate::from_der(&c.cert_der).unwrap()
}

fn patron(s: &str) -> ServiceId {
    ServiceId::new(s).unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiosk-shared-links-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A device of `municipality` with its own snapshot file and link key.
struct Device {
    shared: SharedLinks,
    store: Arc<LinkStore>,
}

fn device(
    server: &LinkServer,
    role: &str,
    municipality: &str,
    key: u8,
    snapshot: PathBuf,
    identity: Identity,
) -> Device {
    let shared = SharedLinks::new(SharedConfig {
        url: server.url(role),
        ca_pem: server.ca_pem().unwrap().into_bytes(),
        identity,
        municipality: municipality.to_owned(),
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    let (store, refused) = LinkStore::snapshot_with_key(&snapshot, vec![key; 32], municipality).unwrap();
    assert_eq!(refused, None);
    Device { shared, store: Arc::new(store) }
}

fn enrolled(
    server: &LinkServer,
    role: &str,
    municipality: &str,
    may_link: bool,
    key: u8,
    dir: &std::path::Path,
) -> Device {
    let id = server.add_device(role, municipality, may_link).unwrap();
    let identity = Identity::from_pem(id.chain_pem.as_bytes(), id.key_pem.as_bytes());
    device(server, role, municipality, key, dir.join(format!("{role}.snapshot")), identity)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_links_kiosks_follow_and_a_relink_moves_the_patron() {
    let server = LinkServer::start("follow").unwrap();
    let dir = temp_dir("follow");
    let counter = enrolled(&server, "counter-01", "132012", true, 0x11, &dir);
    let kiosk = enrolled(&server, "kiosk-01", "132012", false, 0x11, &dir);
    let (old, new) = (card(&[0x30, 0x01]), card(&[0x30, 0x02]));

    counter.shared.link(&counter.store, &old, &patron("2000001")).await.unwrap();
    assert_eq!(counter.store.resolve(&old), Some(patron("2000001")), "the counter sees its own link at once");
    assert_eq!(kiosk.shared.sync(&kiosk.store).await.unwrap(), 1);
    assert_eq!(kiosk.store.resolve(&old), Some(patron("2000001")));

    // A re-issued card: the counter moves the patron's link to the new card in one write.
    counter.shared.link(&counter.store, &new, &patron("2000001")).await.unwrap();
    assert_eq!(
        kiosk.shared.sync(&kiosk.store).await.unwrap(),
        2,
        "the old card unlinked, the new one linked"
    );
    assert_eq!(kiosk.store.resolve(&old), None);
    assert_eq!(kiosk.store.resolve(&new), Some(patron("2000001")));
    assert_eq!(kiosk.shared.sync(&kiosk.store).await.unwrap(), 0, "nothing new");

    assert!(counter.shared.unlink(&counter.store, &new).await.unwrap());
    assert!(!counter.shared.unlink(&counter.store, &new).await.unwrap(), "no link any more");
    kiosk.shared.sync(&kiosk.store).await.unwrap();
    assert_eq!(kiosk.store.resolve(&new), None);

    // Only keyed hashes are stored: the table's two credentials are the cards' HMACs.
    let stored = server
        .psql(kiosk_sim::links::DATABASE, "SELECT encode(credential, 'hex') FROM links ORDER BY change")
        .unwrap();
    let expected: Vec<String> =
        [&old, &new].iter().map(|c| kiosk_platform::hex(&counter.store.keyed_hash(c))).collect();
    let mut lines: Vec<String> = stored.lines().map(str::to_owned).collect();
    lines.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(lines, expected_sorted);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_municipality_sees_and_writes_only_its_own_links() {
    let server = LinkServer::start("tenancy").unwrap();
    let dir = temp_dir("tenancy");
    let counter_a = enrolled(&server, "counter-a", "132012", true, 0x11, &dir);
    let kiosk_a = enrolled(&server, "kiosk-a", "132012", false, 0x11, &dir);
    let kiosk_b = enrolled(&server, "kiosk-b", "132039", false, 0x22, &dir);
    let counter_b = enrolled(&server, "counter-b", "132039", true, 0x22, &dir);
    let c = card(&[0x31, 0x01]);

    // One card linked in both municipalities, to each one's own patron.
    counter_a.shared.link(&counter_a.store, &c, &patron("A-100")).await.unwrap();
    counter_b.shared.link(&counter_b.store, &c, &patron("B-200")).await.unwrap();
    kiosk_a.shared.sync(&kiosk_a.store).await.unwrap();
    kiosk_b.shared.sync(&kiosk_b.store).await.unwrap();
    assert_eq!(kiosk_a.store.resolve(&c), Some(patron("A-100")));
    assert_eq!(kiosk_b.store.resolve(&c), Some(patron("B-200")));
    assert_eq!((kiosk_a.store.len(), kiosk_b.store.len()), (1, 1));

    // A device of B that asks for A's links gets none (row level security), and cannot
    // write them; a kiosk cannot write at all.
    let pki = PlatformPki::shared().unwrap();
    let b_as_a = {
        let id = pki.client("kiosk-b").unwrap();
        device(
            &server,
            "kiosk-b",
            "132012",
            0x11,
            dir.join("b-as-a"),
            Identity::from_pem(id.chain_pem.as_bytes(), id.key_pem.as_bytes()),
        )
    };
    assert_eq!(b_as_a.shared.changes_since(0).await.unwrap(), vec![]);
    let err = b_as_a.shared.link(&b_as_a.store, &c, &patron("X-1")).await.unwrap_err();
    assert!(err.to_string().contains("may not link cards of municipality 132012"), "{err}");
    let err = kiosk_a.shared.link(&kiosk_a.store, &c, &patron("X-1")).await.unwrap_err();
    assert!(err.to_string().contains("may not link"), "{err}");
    kiosk_a.shared.sync(&kiosk_a.store).await.unwrap();
    assert_eq!(kiosk_a.store.resolve(&c), Some(patron("A-100")), "nothing changed");

    // A certificate from a CA the store does not trust gets no connection.
    let stranger = device(
        &server,
        "kiosk-a",
        "132012",
        0x11,
        dir.join("stranger"),
        Identity::from_pem(
            pki.stranger_terminal.chain_pem.as_bytes(),
            pki.stranger_terminal.key_pem.as_bytes(),
        ),
    );
    let err = stranger.shared.changes_since(0).await.unwrap_err();
    assert!(matches!(err, PlatformError::LinkStore(_)), "{err:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_store_down_the_snapshot_lends_and_links_arrive_when_it_is_back() {
    let mut server = LinkServer::start("down").unwrap();
    let dir = temp_dir("down");
    let counter = enrolled(&server, "counter-01", "132012", true, 0x11, &dir);
    let kiosk = enrolled(&server, "kiosk-01", "132012", false, 0x11, &dir);
    let (first, second) = (card(&[0x32, 0x01]), card(&[0x32, 0x02]));
    counter.shared.link(&counter.store, &first, &patron("3000001")).await.unwrap();
    kiosk.shared.sync(&kiosk.store).await.unwrap();
    kiosk.store.write_snapshot().unwrap();
    let snapshot = dir.join("kiosk-01.snapshot");

    server.stop();
    let err = kiosk.shared.sync(&kiosk.store).await.unwrap_err();
    assert!(err.to_string().contains("link store: the shared store, "), "{err}");
    // A kiosk started now, with the store down, lends from the snapshot.
    let (restarted, refused) = LinkStore::snapshot_with_key(&snapshot, vec![0x11; 32], "132012").unwrap();
    assert_eq!(refused, None);
    assert_eq!(restarted.resolve(&first), Some(patron("3000001")));
    assert!(restarted.taken().is_some(), "its age is known");

    // The store is back: the same connection object reconnects, and a new link arrives.
    server.resume().unwrap();
    counter.shared.link(&counter.store, &second, &patron("3000002")).await.unwrap();
    kiosk.shared.sync(&kiosk.store).await.unwrap();
    assert_eq!(kiosk.store.resolve(&second), Some(patron("3000002")));

    // A snapshot edited on the board is refused by name, and the view starts empty.
    let mut bytes = std::fs::read(&snapshot).unwrap();
    let n = bytes.len();
    bytes[n - 40] ^= 0x01;
    std::fs::write(&snapshot, &bytes).unwrap();
    let (tampered, refused) = LinkStore::snapshot_with_key(&snapshot, vec![0x11; 32], "132012").unwrap();
    assert_eq!(refused, Some(SnapshotError::Signature));
    assert!(tampered.is_empty());
    // Another municipality's snapshot is refused too.
    kiosk.store.write_snapshot().unwrap();
    let (_, refused) = LinkStore::snapshot_with_key(&snapshot, vec![0x11; 32], "132039").unwrap();
    assert!(matches!(refused, Some(SnapshotError::OtherMunicipality { .. })), "{refused:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiosk_asks_for_changes_at_the_configured_interval() {
    use kiosk_platform::links::shared::{Following, follow};
    let server = LinkServer::start("interval").unwrap();
    let dir = temp_dir("interval");
    let counter = enrolled(&server, "counter-01", "132012", true, 0x11, &dir);
    let fast = enrolled(&server, "kiosk-fast", "132012", false, 0x11, &dir);
    let slow = enrolled(&server, "kiosk-slow", "132012", false, 0x11, &dir);
    let states = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = states.clone();
    let report = move |s: Following| seen.lock().unwrap().push(s);
    let fast_task = tokio::spawn(follow(
        fast.store.clone(),
        Arc::new(fast.shared),
        Duration::from_millis(200),
        Duration::ZERO,
        report,
    ));
    let slow_task = tokio::spawn(follow(
        slow.store.clone(),
        Arc::new(slow.shared),
        Duration::from_secs(60),
        Duration::ZERO,
        |_| {},
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let c = card(&[0x33, 0x01]);
    counter.shared.link(&counter.store, &c, &patron("4000001")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fast.store.resolve(&c), Some(patron("4000001")), "asked every 200 ms");
    assert_eq!(slow.store.resolve(&c), None, "asked every 60 s: not yet");
    assert!(states.lock().unwrap().iter().all(|s| *s == Following::Current));
    assert!(dir.join("kiosk-fast.snapshot").exists(), "the change was saved");
    fast_task.abort();
    slow_task.abort();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The database restored from a backup (another `link_store.id`, change numbers from 1
/// again): a kiosk that had read further starts over, instead of waiting for numbers it
/// has already passed, and lends to the links made after the restore.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_store_is_read_again_from_its_first_change() {
    let server = LinkServer::start("restore").unwrap();
    let dir = temp_dir("restore");
    let counter = enrolled(&server, "counter-01", "132012", true, 0x11, &dir);
    let kiosk = enrolled(&server, "kiosk-01", "132012", false, 0x11, &dir);
    let (first, second, third) = (card(&[0x34, 0x01]), card(&[0x34, 0x02]), card(&[0x34, 0x03]));
    for (c, p) in [(&first, "5000001"), (&second, "5000002")] {
        counter.shared.link(&counter.store, c, &patron(p)).await.unwrap();
    }
    kiosk.shared.sync(&kiosk.store).await.unwrap();
    assert_eq!((kiosk.store.len(), kiosk.store.change()), (2, 2));
    // The restore: an older copy that held nothing, its sequence back at 1.
    server
        .psql(
            kiosk_sim::links::DATABASE,
            "DELETE FROM links; ALTER SEQUENCE link_changes RESTART WITH 1; UPDATE link_store SET id = 'restored'",
        )
        .unwrap();
    counter.shared.link(&counter.store, &third, &patron("5000003")).await.unwrap();
    kiosk.shared.sync(&kiosk.store).await.unwrap();
    assert_eq!(kiosk.store.resolve(&third), Some(patron("5000003")), "the link made after the restore");
    assert_eq!(kiosk.store.resolve(&first), None, "not in the restored store");
    assert_eq!(
        (kiosk.store.len(), kiosk.store.change(), kiosk.store.store_id()),
        (1, 1, "restored".to_owned())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// What a device could try on the store with its own login (a kiosk's certificate taken
/// from a stolen SD card): take the writers' lock to stall every counter, plant a function
/// for the owner's functions to find, read the device list or write a link directly. The
/// server refuses each; it reads its own municipality's links and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_cannot_stall_the_writers_plant_functions_or_write_around_link_card() {
    let server = LinkServer::start("hostile-device").unwrap();
    let id = server.add_device("kiosk-01", "132012", false).unwrap();
    let refused = |sql: &str| {
        let err = match server.psql_as("kiosk-01", &id, sql) {
            Ok(out) => panic!("{sql} was allowed: {out}"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("permission denied"), "{sql}: {err}");
    };
    refused("BEGIN; SELECT 1 FROM link_writer FOR UPDATE; COMMIT");
    refused("CREATE FUNCTION public.pg_advisory_xact_lock(integer) RETURNS void LANGUAGE sql AS 'SELECT'");
    refused("SELECT * FROM link_devices");
    refused(
        "INSERT INTO links (municipality, credential, patron, change) VALUES ('132012', '\\x00', 'X', 1)",
    );
    assert_eq!(server.psql_as("kiosk-01", &id, "SELECT count(*) FROM links").unwrap().trim(), "0");
}
