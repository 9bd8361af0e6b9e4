#![allow(clippy::unwrap_used)]
//! Shared by the simulator and peer tests: the one checkout scenario both must pass.

use kiosk_ils::ItemProblem;
use kiosk_ils::client::Client;

/// The scenario the peer test repeats against pysip2: PIN patron, borrow two books (one
/// Japanese, one English), one refused, end session.
pub async fn checkout_scenario(client: &mut Client) {
    let standing = client.patron_status("P0001", Some("1234")).await.unwrap().unwrap();
    assert_eq!(standing.name, "山田 太郎");
    let loan = client.checkout("P0001", "1000000001").await.unwrap().unwrap();
    assert_eq!(loan.title, "吾輩は猫である");
    assert_eq!(loan.due.len(), 18);
    assert!(!loan.recovered);
    let loan = client.checkout("P0001", "2000000001").await.unwrap().unwrap();
    assert_eq!(loan.title, "The Deep Blue Alibi");
    let unknown = client.checkout("P0001", "9999999999").await.unwrap().map_err(|r| r.problem);
    assert_eq!(unknown, Err(ItemProblem::NotFound));
    client.end_session("P0001").await.unwrap();
}
