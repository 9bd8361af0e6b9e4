//! Counter mode's figures: drawing method B's barcode, rendering the hand-off screen,
//! and typing a number through the HID gadget (into a file standing in for /dev/hidg0)
//! with and without the default key delay.
//!
//! `cargo bench -p kiosk --bench counter` (medians of 200; 20 for typing with the
//! delay). Under `cargo test` it runs a few rounds, to keep it working.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use kiosk::config::Config;
use kiosk::hand_off::barcode;
use kiosk_keyboard::{Gadget, Layout, reports};
use kiosk_ui::headless::Headless;
use kiosk_ui::{HandOffMethod, Scene, Screen};

const NUMBER: &str = "2300012345678";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(n: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..n)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (n, slow) = if bench { (200, 20) } else { (3, 1) };
    let config = Config::demo_counter(&std::env::temp_dir().join("counter-bench-hidg0"));
    let symbology = config.job_settings().symbology;

    let picture = barcode(NUMBER, symbology).expect("the demo number draws");
    let draw = time(n, || {
        let _ = barcode(NUMBER, symbology);
    });

    let ui = Headless::new(1280, 800).unwrap();
    let mut scene = Scene { screen: Screen::HandOff, counter_mode: true, ..Scene::default() };
    scene.hand_off.method = HandOffMethod::Barcode;
    scene.hand_off.offer_barcode = true;
    scene.hand_off.barcode = Some(picture.clone());
    let render = time(n, || {
        let _ = ui.render(&scene).unwrap();
    });

    let encode = time(n, || {
        let _ = reports(&format!("{NUMBER}\n"), Layout::Jis).unwrap();
    });
    let file = std::env::temp_dir().join(format!("counter-bench-hidg0-{}", std::process::id()));
    std::fs::write(&file, b"").unwrap();
    let fast = Gadget::new(&file, Layout::Jis, Duration::ZERO);
    let typed_fast = time(n, || fast.type_text(NUMBER, "\n").unwrap());
    let default_delay = Gadget::new(&file, Layout::Jis, Duration::from_millis(8));
    let typed_slow = time(slow, || default_delay.type_text(NUMBER, "\n").unwrap());
    let keys = reports(&format!("{NUMBER}\n"), Layout::Jis).unwrap().len() / 2;
    std::fs::remove_file(&file).ok();

    println!("counter mode, medians ({n} rounds; typing with the delay: {slow}):");
    println!("| step | median |");
    println!("|---|---|");
    println!(
        "| method B: draw the barcode ({} x {} px, NW-7, 13 digits) | {:.2} ms |",
        picture.width,
        picture.height,
        ms(draw)
    );
    println!(
        "| method B: render the hand-off screen (1280 x 800, software renderer) | {:.1} ms |",
        ms(render)
    );
    println!(
        "| method C: encode the number + Enter ({keys} keys, JIS) | {:.1} µs |",
        encode.as_secs_f64() * 1e6
    );
    println!("| method C: type it, no key delay | {:.2} ms |", ms(typed_fast));
    println!("| method C: type it, default 8 ms key delay | {:.1} ms |", ms(typed_slow));
}
