//! A thread that keeps the outputs' patterns running.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::IoError;
use crate::line::{Line, Pattern};
use crate::pins::Pins;
use crate::signals::Signals;

/// How often the ticker writes level changes.
pub const TICK: Duration = Duration::from_millis(20);

#[derive(Debug)]
enum Command {
    Set(Line, Pattern),
    Stop,
}

/// The running ticker. Dropping it stops the thread, after driving every line low.
///
/// `set` only queues a command, so it may be called from async code; the handle is
/// `Send + Sync` (share it in an `Arc`).
#[derive(Debug)]
pub struct Ticker {
    tx: mpsc::Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

/// Starts a thread that ticks `signals` every [`TICK`] and applies [`Ticker::set`] at once.
///
/// # Errors
/// [`IoError::Spawn`] if the thread cannot be started.
pub fn spawn_ticker<P: Pins + 'static>(signals: Signals<P>) -> Result<Ticker, IoError> {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("kiosk-io-ticker".to_owned())
        .spawn(move || run(signals, &rx))
        .map_err(IoError::Spawn)?;
    Ok(Ticker { tx, thread: Some(thread) })
}

impl Ticker {
    /// Shows `pattern` on `line` from now (see [`Signals::set`]).
    ///
    /// # Errors
    /// [`IoError::TickerStopped`] if the thread is gone (it panicked in the pins driver).
    pub fn set(&self, line: Line, pattern: Pattern) -> Result<(), IoError> {
        self.tx.send(Command::Set(line, pattern)).map_err(|_| IoError::TickerStopped)
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        let _ = self.tx.send(Command::Stop);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("outputs: the ticker thread had panicked");
        }
    }
}

fn run<P: Pins>(mut signals: Signals<P>, rx: &mpsc::Receiver<Command>) {
    let mut failing = false;
    let mut tick = |signals: &mut Signals<P>| match signals.tick(Instant::now()) {
        Ok(()) => {
            if std::mem::replace(&mut failing, false) {
                tracing::info!("outputs: writing works again");
            }
        }
        // Logged when it starts failing, not every 20 ms.
        Err(e) if !std::mem::replace(&mut failing, true) => {
            tracing::warn!(error = %e, "outputs: write failed")
        }
        Err(_) => {}
    };
    let mut next = Instant::now();
    loop {
        let now = Instant::now();
        if now >= next {
            tick(&mut signals);
            next = (next + TICK).max(now);
        }
        match rx.recv_timeout(next.saturating_duration_since(Instant::now())) {
            Ok(Command::Set(line, pattern)) => {
                signals.set(line, pattern, Instant::now());
                tick(&mut signals);
            }
            Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
    let now = Instant::now();
    for line in Line::ALL {
        signals.set(line, Pattern::Off, now);
    }
    tick(&mut signals);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pins::SimulatedPins;
    use std::thread::sleep;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn start(pins: &SimulatedPins) -> Ticker {
        match spawn_ticker(Signals::new(pins.clone(), Instant::now())) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Waits (up to 5 s) for `cond`.
    fn eventually(mut cond: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if cond() {
                return true;
            }
            sleep(ms(5));
        }
        cond()
    }

    #[test]
    fn a_blink_produces_transitions_over_time() {
        let pins = SimulatedPins::new();
        let ticker = start(&pins);
        assert!(ticker.set(Line::StaffLamp, Pattern::Blink { on: ms(40), off: ms(40) }).is_ok());
        // The first write is the initial low; then ~10 edges in 400 ms. Ask for 3, and
        // give a loaded machine up to 5 s to get there.
        sleep(ms(400));
        assert!(eventually(|| pins.transitions_of(Line::StaffLamp).len() >= 4), "{:?}", pins.transitions());
        let lamp = pins.transitions_of(Line::StaffLamp);
        assert!(lamp.windows(2).all(|w| w[0] != w[1]), "only changes are written: {lamp:?}");
        drop(ticker);
    }

    #[test]
    fn a_set_is_applied_without_waiting_for_the_next_tick_and_a_beep_ends() {
        let pins = SimulatedPins::new();
        let ticker = start(&pins);
        assert!(ticker.set(Line::Buzzer, Pattern::Beep { on: ms(50) }).is_ok());
        assert!(
            eventually(|| pins.transitions_of(Line::Buzzer) == [false, true, false]),
            "{:?}",
            pins.transitions()
        );
        drop(ticker);
    }

    #[test]
    fn dropping_the_handle_stops_the_thread_with_every_line_low() {
        let pins = SimulatedPins::new();
        let ticker = start(&pins);
        assert!(ticker.set(Line::StaffLamp, Pattern::Steady).is_ok());
        assert!(ticker.set(Line::Gate, Pattern::Steady).is_ok());
        assert!(eventually(|| pins.level(Line::Gate) == Some(true)));
        drop(ticker); // joins the thread
        assert_eq!(pins.level(Line::StaffLamp), Some(false));
        assert_eq!(pins.level(Line::Gate), Some(false));
        let after = pins.transitions().len();
        sleep(ms(100));
        assert_eq!(pins.transitions().len(), after, "nothing is written after the stop");
    }

    /// Pins that panic when the buzzer goes high: the thread dies.
    struct PanickingPins;

    impl Pins for PanickingPins {
        fn write(&mut self, line: Line, high: bool) -> Result<(), IoError> {
            assert!(!(line == Line::Buzzer && high), "simulated driver bug");
            Ok(())
        }
    }

    #[test]
    fn a_dead_thread_is_reported_by_set() {
        let ticker = match spawn_ticker(Signals::new(PanickingPins, Instant::now())) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        assert!(ticker.set(Line::Buzzer, Pattern::Steady).is_ok());
        assert!(eventually(|| matches!(
            ticker.set(Line::StaffLamp, Pattern::Off),
            Err(IoError::TickerStopped)
        )));
        drop(ticker); // must not panic
    }

    #[test]
    fn write_failures_do_not_stop_the_ticker() {
        let pins = SimulatedPins::new();
        pins.set_failing(Line::StaffLamp, true);
        let ticker = start(&pins);
        assert!(ticker.set(Line::StaffLamp, Pattern::Steady).is_ok());
        assert!(ticker.set(Line::Buzzer, Pattern::Steady).is_ok());
        assert!(eventually(|| pins.level(Line::Buzzer) == Some(true)));
        pins.set_failing(Line::StaffLamp, false);
        assert!(eventually(|| pins.level(Line::StaffLamp) == Some(true)), "retried on a later tick");
        drop(ticker);
    }
}
