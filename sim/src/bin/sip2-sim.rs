//! `sip2-sim [ADDR]`: runs the simulated library system (default 127.0.0.1:6001), login
//! `kiosk`/`secret`, institution `KIOSKLIB`, the demo catalogue.
#![allow(clippy::print_stdout)]

use kiosk_sim::sip2::{Behaviour, Catalogue, Sip2Sim};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:6001".into());
    let sim = Sip2Sim::bind(&addr, Catalogue::demo(), Behaviour::default()).await?;
    println!("SIP2 library simulator on {} (login kiosk/secret, institution KIOSKLIB)", sim.addr());
    // Runs until killed (Ctrl-C).
    std::future::pending::<()>().await;
    Ok(())
}
