//! `sip2-sim [ADDR] [TLS options]`: runs the simulated library system (default
//! 127.0.0.1:6001), login `kiosk`/`secret`, institution `KIOSKLIB`, the demo catalogue.
//!
//! TLS options:
//! - `--tls-demo DIR`: make a throwaway CA and a server certificate for `localhost`,
//!   `127.0.0.1`, `::1` and ADDR's host; write `DIR/ca.pem` (the kiosk's `ils.ca_file`);
//! - `--tls-cert FILE --tls-key FILE`: serve these (PEM);
//! - `--client-ca FILE`: also require a client certificate signed by this CA (mutual TLS).
#![allow(clippy::print_stdout)]

use std::io::{Error, ErrorKind};

use kiosk_sim::sip2::{Behaviour, Catalogue, SimTls, Sip2Sim, TestPki};

fn usage(msg: &str) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!(
            "{msg}\nusage: sip2-sim [ADDR] [--tls-demo DIR | --tls-cert FILE --tls-key FILE] [--client-ca FILE]"
        ),
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut addr = "127.0.0.1:6001".to_owned();
    let (mut demo_dir, mut cert, mut key, mut client_ca) = (None, None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| usage(&format!("{arg} needs a value")));
        match arg.as_str() {
            "--tls-demo" => demo_dir = Some(value()?),
            "--tls-cert" => cert = Some(value()?),
            "--tls-key" => key = Some(value()?),
            "--client-ca" => client_ca = Some(value()?),
            a if a.starts_with("--") => return Err(usage(&format!("unknown option {a}"))),
            a => addr = a.to_owned(),
        }
    }
    let mut tls = match (demo_dir, cert, key) {
        (None, None, None) => None,
        (Some(dir), None, None) => {
            let host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h).trim_matches(['[', ']']);
            let pki = TestPki::new("kiosk SIP2 simulator demo CA").map_err(|e| usage(&e.to_string()))?;
            let server =
                pki.server(&["localhost", "127.0.0.1", "::1", host]).map_err(|e| usage(&e.to_string()))?;
            std::fs::create_dir_all(&dir)?;
            let ca_path = std::path::Path::new(&dir).join("ca.pem");
            std::fs::write(&ca_path, pki.ca_pem())?;
            println!("demo CA written to {} (use it as [ils] ca_file)", ca_path.display());
            Some(server)
        }
        (None, Some(cert), Some(key)) => Some(SimTls {
            cert_chain_pem: std::fs::read_to_string(cert)?,
            key_pem: std::fs::read_to_string(key)?,
            client_ca_pem: None,
        }),
        _ => return Err(usage("use either --tls-demo or both --tls-cert and --tls-key")),
    };
    match (&mut tls, client_ca) {
        (Some(t), Some(ca)) => t.client_ca_pem = Some(std::fs::read_to_string(ca)?),
        (None, Some(_)) => return Err(usage("--client-ca needs TLS")),
        _ => {}
    }
    let sim = Sip2Sim::bind_tls(&addr, Catalogue::demo(), Behaviour::default(), tls.as_ref()).await?;
    println!(
        "SIP2 library simulator on {}{} (login kiosk/secret, institution KIOSKLIB)",
        sim.addr(),
        if tls.is_some() { " over TLS" } else { "" }
    );
    // Runs until killed (Ctrl-C).
    std::future::pending::<()>().await;
    Ok(())
}
