//! 1,000 checkouts with random connection drops, lost replies and garbage: zero duplicate
//! and zero lost checkouts.

use std::time::Duration;

use kiosk_ils::client::{Client, ClientConfig, Credentials};
use kiosk_sim::sip2::{Behaviour, Catalogue, ItemState, Sip2Sim, numbered_items};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_checkouts_with_random_faults_none_doubled_none_lost() {
    const RUNS: usize = 1000;
    let mut catalogue = Catalogue::demo();
    catalogue.loan_limit = RUNS + 1;
    let items = numbered_items(&mut catalogue, "R", RUNS);
    let sim = Sip2Sim::start(catalogue, Behaviour::default()).await.unwrap();
    let mut cfg = ClientConfig::new(sim.addr().to_string(), "KIOSKLIB");
    cfg.login = Some(Credentials { user: "kiosk".into(), password: "secret".into(), location: None });
    cfg.request_timeout = Duration::from_millis(25);
    cfg.checkout_attempts = 6;
    let mut client = Client::new(cfg);
    let mut rng = Rng(0x5EED_CAFE_F00D_0001);
    let mut faults = [0usize; 5];
    for n in 0..RUNS {
        let item = format!("R{n:06}");
        let fault = (rng.next() % 5) as usize;
        faults[fault] += 1;
        sim.faults(|f| match fault {
            1 => f.disconnect_after_checkout = 1,
            2 => f.disconnect_before_checkout = 1,
            3 => f.drop_checkout_reply = 1,
            4 => f.garbage = 1,
            _ => {}
        });
        let loan =
            client.checkout("P0002", &item).await.unwrap_or_else(|e| panic!("run {n} (fault {fault}): {e}"));
        let loan = loan.unwrap_or_else(|p| panic!("run {n} (fault {fault}): refused {p:?}"));
        assert_eq!(loan.item, item);
        assert_eq!(loan.title, items[&item]);
        let state = sim.item(&item).unwrap();
        assert!(
            matches!(state.state, ItemState::OnLoan { ref patron, .. } if patron == "P0002"),
            "run {n}: lost"
        );
        assert_eq!(state.checkouts_executed, 1, "run {n} (fault {fault}): executed twice");
        // Faults not consumed by this run must not leak into the next.
        sim.faults(|f| *f = Default::default());
    }
    let stats = sim.stats();
    assert_eq!(stats.duplicate_checkouts, 0);
    assert_eq!(stats.checkouts_applied, RUNS as u64);
    assert_eq!(sim.loans_of("P0002").len(), RUNS);
    assert!(faults.iter().all(|n| *n > 150), "fault mix {faults:?}");
    assert!(client.stats().reconciliations >= faults[1] as u64);
}
