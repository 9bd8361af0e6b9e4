//! A simulated kiosk: the production `deploy/rauc/system.conf` under Debian's RAUC 1.8 with
//! its slots as files, U-Boot's environment as a file (the real `fw_printenv`/`fw_setenv`,
//! which RAUC's `uboot` backend calls), a private D-Bus daemon, and `deploy/rauc/boot.cmd.in`
//! run by a POSIX shell as U-Boot would run it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kiosk_update::rauc::Rauc;

use super::{COMPATIBLE, Pki, RUNNING, rauc_dir, rootfs, run};

/// How to build the kiosk.
#[derive(Debug, Clone)]
pub struct KioskOptions {
    /// Size of each slot file.
    pub slot_mib: u64,
    /// Keep system.conf's `bundle-formats=-plain`. CI's kernel has no dm-verity, so RAUC can
    /// install only plain bundles there; every other test turns the line off.
    pub production_formats: bool,
}

impl Default for KioskOptions {
    fn default() -> Self {
        KioskOptions { slot_mib: 32, production_formats: false }
    }
}

/// What one run of the boot script did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Boot {
    /// Booted the slot with this bootname.
    Slot(String),
    /// No slot had a try left: counters reset, board reset.
    Reset,
}

/// One simulated kiosk. Dropping it stops its RAUC and its bus and removes everything.
#[derive(Debug)]
pub struct Kiosk {
    /// The kiosk's directory (slots, data partition, U-Boot env, bus, logs).
    pub dir: tempfile::TempDir,
    /// The PKI whose root CA is in the kiosk's keyring.
    pub pki: Pki,
    /// The RAUC system.conf in use (the production file, paths pointed into `dir`).
    pub conf: PathBuf,
    /// The image slot A was made from (the running version).
    pub running_image: PathBuf,
    bus: String,
    dbus: Child,
    rauc: Option<Child>,
    booted: String,
}

impl Kiosk {
    /// A kiosk running [`RUNNING`] from slot A, with RAUC up.
    pub async fn new() -> Kiosk {
        Self::with(KioskOptions::default()).await
    }

    /// A kiosk built with `options`.
    pub async fn with(options: KioskOptions) -> Kiosk {
        let dir = tempfile::Builder::new().prefix("kiosk-update-test-").tempdir().unwrap();
        let d = dir.path().to_path_buf();
        for sub in ["slots", "data/rauc", "data/kiosk-update", "mnt", "uboot/bin", "run", "keys", "images"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let pki = Pki::generate(&d.join("keys"), "Kiosk test");

        // Slots: plain files; A holds the running image.
        let running_image = rootfs(&d.join("images"), RUNNING, 16, 64);
        for slot in ["A", "B"] {
            let f = std::fs::File::create(d.join(format!("slots/rootfs-{slot}"))).unwrap();
            f.set_len(options.slot_mib << 20).unwrap();
        }
        {
            use std::io::Write;
            let mut a = std::fs::OpenOptions::new().write(true).open(d.join("slots/rootfs-A")).unwrap();
            a.write_all(&std::fs::read(&running_image).unwrap()).unwrap();
        }

        // U-Boot's environment in a file, as on the boot partition.
        std::fs::write(d.join("uboot/env.txt"), "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n").unwrap();
        run(Command::new("mkenvimage")
            .args(["-s", "0x4000", "-o"])
            .arg(d.join("uboot/uboot.env"))
            .arg(d.join("uboot/env.txt")));
        std::fs::write(
            d.join("uboot/fw_env.config"),
            format!("{} 0x0000 0x4000\n", d.join("uboot/uboot.env").display()),
        )
        .unwrap();
        for tool in ["fw_printenv", "fw_setenv"] {
            let wrapper = d.join("uboot/bin").join(tool);
            std::fs::write(
                &wrapper,
                format!(
                    "#!/bin/sh\nexec /usr/bin/{tool} -c {} \"$@\"\n",
                    d.join("uboot/fw_env.config").display()
                ),
            )
            .unwrap();
            run(Command::new("chmod").arg("+x").arg(&wrapper));
        }

        let conf = d.join("system.conf");
        std::fs::write(&conf, test_system_conf(&d, &pki, options.production_formats)).unwrap();

        // A private bus that lets RAUC own de.pengutronix.rauc.
        std::fs::write(
            d.join("bus.conf"),
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="de.pengutronix.rauc"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"#,
                d.join("bus").display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(d.join("dbus.log")).unwrap();
        let mut dbus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", d.join("bus.conf").display()))
            .args(["--nofork", "--print-address"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("dbus-daemon (Debian dbus-daemon) is installed by cargo xtask test");
        let mut line = String::new();
        BufReader::new(dbus.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(line.starts_with("unix:"), "dbus-daemon printed {line:?}");
        let bus = format!("unix:path={}", d.join("bus").display());

        let mut kiosk = Kiosk { dir, pki, conf, running_image, bus, dbus, rauc: None, booted: String::new() };
        kiosk.write_release_file("A");
        kiosk.start_rauc("A").await;
        kiosk
    }

    /// A path inside the kiosk's directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The private bus RAUC is on.
    pub fn bus_address(&self) -> &str {
        &self.bus
    }

    /// The bootname RAUC was told is booted.
    pub fn booted(&self) -> &str {
        &self.booted
    }

    /// The slot file with bootname `A` or `B`.
    pub fn slot(&self, bootname: &str) -> PathBuf {
        self.path(&format!("slots/rootfs-{bootname}"))
    }

    /// The running system's os-release (what the agent reads its version from).
    pub fn release_file(&self) -> PathBuf {
        self.path("run/os-release")
    }

    /// A client of this kiosk's RAUC (the agent's own module).
    pub async fn rauc(&self) -> Rauc {
        Rauc::connect(Some(&self.bus)).await.unwrap()
    }

    /// RAUC's process id.
    pub fn rauc_pid(&self) -> u32 {
        self.rauc.as_ref().expect("rauc runs").id()
    }

    /// RAUC's log so far.
    pub fn rauc_log(&self) -> String {
        std::fs::read_to_string(self.path("rauc.log")).unwrap_or_default()
    }

    async fn start_rauc(&mut self, bootname: &str) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.path("rauc.log")).unwrap();
        let path =
            format!("{}:{}", self.path("uboot/bin").display(), std::env::var("PATH").unwrap_or_default());
        let child = Command::new("rauc")
            .arg("-c")
            .arg(&self.conf)
            .arg("service")
            .arg(format!("--override-boot-slot={bootname}"))
            .env("PATH", path)
            .env("DBUS_STARTER_BUS_TYPE", "session")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("rauc (Debian rauc + rauc-service) is installed by cargo xtask test");
        self.rauc = Some(child);
        self.booted = bootname.to_owned();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(r) = Rauc::connect(Some(&self.bus)).await
                && r.boot_slot().await.is_ok_and(|b| b == bootname)
            {
                return;
            }
            if let Some(status) = self.rauc.as_mut().unwrap().try_wait().unwrap() {
                panic!("rauc service exited ({status}):\n{}", self.rauc_log());
            }
            assert!(Instant::now() < deadline, "rauc service did not come up:\n{}", self.rauc_log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Cuts the power: RAUC dies on the spot (SIGKILL), and what a reboot clears goes
    /// (RAUC's bundle mount and loop device under this kiosk's directory).
    pub fn power_cut(&mut self) {
        if let Some(mut child) = self.rauc.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.clear_kernel_state();
    }

    fn clear_kernel_state(&self) {
        let root = self.dir.path().to_string_lossy().into_owned();
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut ours: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .filter(|m| m.starts_with(root.as_str()))
            .collect();
        ours.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in ours {
            let _ = Command::new("umount").arg("-l").arg(m).status();
        }
        if let Ok(out) = Command::new("losetup").arg("-a").output() {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                if line.contains(root.as_str())
                    && let Some((dev, _)) = line.split_once(':')
                {
                    let _ = Command::new("losetup").arg("-d").arg(dev).status();
                }
            }
        }
    }

    /// Restarts the board: power off, U-Boot runs the boot script (again after a reset),
    /// the booted slot's os-release becomes the running one, RAUC starts with
    /// `rauc.slot=<booted>`. Returns the booted slot.
    pub async fn reboot(&mut self) -> String {
        self.power_cut();
        let slot = match self.run_boot_script() {
            Boot::Slot(s) => s,
            Boot::Reset => match self.run_boot_script() {
                Boot::Slot(s) => s,
                Boot::Reset => panic!("the boot script reset twice in a row: {:?}", self.env()),
            },
        };
        self.write_release_file(&slot);
        self.start_rauc(&slot).await;
        slot
    }

    /// Runs `deploy/rauc/boot.cmd.in` once, with a POSIX shell standing in for U-Boot's hush
    /// (its commands `env set`, `setenv`, `setexpr`, `saveenv`, `reset` and the kernel boot
    /// are shell functions over the file-backed environment).
    pub fn run_boot_script(&self) -> Boot {
        let script = std::fs::read_to_string(rauc_dir().join("boot.cmd.in"))
            .unwrap()
            .replace("@@KERNEL_IMAGETYPE@@", "Image")
            .replace("@@KERNEL_BOOTCMD@@", "booti");
        const UBOOT: &str = r#"
env() {
  [ "$1" = set ] || { echo "U-Boot command 'env $1' is not simulated" >&2; exit 3; }
  n=$2; shift 2
  if [ $# -eq 0 ]; then unset "$n"; else eval "$n=\$*"; fi
}
setenv() { n=$1; shift; env set "$n" "$@"; }
setexpr() { eval "$1=\$(( $2 $3 $4 ))"; }
saveenv() {
  printf 'BOOT_ORDER=%s\nBOOT_A_LEFT=%s\nBOOT_B_LEFT=%s\n' "$BOOT_ORDER" "$BOOT_A_LEFT" "$BOOT_B_LEFT" > "$KIOSK_SAVEENV"
  fw_setenv -s "$KIOSK_SAVEENV" || exit 4
  saved=1
}
reset() { [ -n "$saved" ] || exit 5; echo "KIOSK-BOOT reset"; exit 0; }
fdt() { :; }
load() { :; }
booti() { [ -n "$saved" ] || exit 5; echo "KIOSK-BOOT slot=$rauc_slot args=$bootargs"; exit 0; }
"#;
        let path =
            format!("{}:{}", self.path("uboot/bin").display(), std::env::var("PATH").unwrap_or_default());
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(format!("{UBOOT}\n{script}\necho 'KIOSK-BOOT fell through'; exit 6\n"));
        cmd.env("PATH", path).env("KIOSK_SAVEENV", self.path("uboot/saveenv.txt"));
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        let out = run(&mut cmd);
        let last = out.lines().rfind(|l| l.starts_with("KIOSK-BOOT")).unwrap_or_default().to_owned();
        if last == "KIOSK-BOOT reset" {
            return Boot::Reset;
        }
        let slot = last
            .strip_prefix("KIOSK-BOOT slot=")
            .and_then(|r| r.split(' ').next())
            .unwrap_or_else(|| panic!("the boot script did not boot:\n{out}"));
        assert!(
            last.contains(&format!("rauc.slot={slot}")),
            "the kernel command line must carry rauc.slot={slot}: {last}"
        );
        let part = if slot == "A" { 2 } else { 3 };
        assert!(last.contains(&format!("root=/dev/mmcblk0p{part} ")), "slot {slot} is p{part}: {last}");
        Boot::Slot(slot.to_owned())
    }

    /// The U-Boot environment (`fw_printenv`).
    pub fn env(&self) -> BTreeMap<String, String> {
        let out = run(&mut Command::new(self.path("uboot/bin/fw_printenv")));
        out.lines()
            .filter_map(|l| l.split_once('='))
            .filter(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// `BOOT_ORDER` as a list.
    pub fn boot_order(&self) -> Vec<String> {
        self.env()
            .get("BOOT_ORDER")
            .map(|o| o.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// `BOOT_<slot>_LEFT`.
    pub fn tries_left(&self, bootname: &str) -> u32 {
        self.env().get(&format!("BOOT_{bootname}_LEFT")).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// What a booted slot says it is: its `/etc/os-release`, read from the slot's ext4 with
    /// debugfs, becomes the running system's.
    fn write_release_file(&self, bootname: &str) {
        let out = Command::new("debugfs")
            .arg("-R")
            .arg("cat /etc/os-release")
            .arg(self.slot(bootname))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success() && text.contains("VERSION_ID="),
            "slot {bootname} has no readable root file system: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(self.release_file(), text).unwrap();
    }

    /// The agent's configuration for this kiosk against `server_url` (TOML; tests may
    /// append keys to the sections through `extra_policy`).
    pub fn agent_toml(&self, server_url: &str, extra_policy: &str) -> String {
        let p = |rel: &str| self.path(rel).display().to_string();
        format!(
            r#"[server]
url = "{server_url}"
controller_id = "kiosk-01"
timeout_secs = 5

[device]
compatible = "{COMPATIBLE}"
release_file = "{release}"

[policy]
busy_file = "{busy}"
reboot_command = ["sh", "-c", "echo reboot >> {reboots}"]
download_attempts = 3
health_attempts = 2
health_interval_secs = 0
{extra_policy}

[paths]
download_dir = "{downloads}"
state_dir = "{state}"
status_file = "{status}"

[rauc]
bus_address = "{bus}"
"#,
            release = self.release_file().display(),
            busy = p("run/session-active"),
            reboots = p("reboots"),
            downloads = p("data/kiosk-update"),
            state = p("data/kiosk-update"),
            status = p("run/kiosk-update/status.json"),
            bus = self.bus,
        )
    }

    /// [`Kiosk::agent_toml`] with a `[manifest]` source at `manifest_url` instead of the
    /// hawkBit `[server]`.
    pub fn manifest_toml(&self, manifest_url: &str, extra_policy: &str) -> String {
        let toml = self.agent_toml("http://unused", extra_policy);
        let server = "[server]\nurl = \"http://unused\"\ncontroller_id = \"kiosk-01\"\ntimeout_secs = 5\n";
        assert!(toml.starts_with(server), "agent_toml changed shape");
        toml.replacen(server, &format!("[manifest]\nurl = \"{manifest_url}\"\ntimeout_secs = 5\n"), 1)
    }

    /// Writes [`Kiosk::agent_toml`] to `update.toml` and returns its path.
    pub fn write_agent_config(&self, server_url: &str, extra_policy: &str) -> PathBuf {
        let path = self.path("update.toml");
        std::fs::write(&path, self.agent_toml(server_url, extra_policy)).unwrap();
        path
    }

    /// The parsed agent configuration (as `kiosk-update` would load it).
    pub fn agent_config(&self, server_url: &str, extra_policy: &str) -> kiosk_update::AgentConfig {
        let path = self.write_agent_config(server_url, extra_policy);
        kiosk_update::AgentConfig::load(&path).unwrap()
    }

    /// Writes `toml` to `update.toml` and loads it.
    pub fn agent_config_from(&self, toml: &str) -> kiosk_update::AgentConfig {
        let path = self.path("update.toml");
        std::fs::write(&path, toml).unwrap();
        kiosk_update::AgentConfig::load(&path).unwrap()
    }

    /// The bundles (and partial downloads) in the agent's download directory.
    pub fn downloads(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path("data/kiosk-update"))
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.retain(|n| n.ends_with(".raucb") || n.ends_with(".part"));
        names.sort();
        names
    }

    /// The status file the admin screen reads.
    pub fn status_file(&self) -> PathBuf {
        self.path("run/kiosk-update/status.json")
    }

    /// How often the reboot command ran.
    pub fn reboots(&self) -> usize {
        std::fs::read_to_string(self.path("reboots")).map(|s| s.lines().count()).unwrap_or(0)
    }

    /// Runs the real `kiosk-update gate -- <health...>` binary; returns (success, stderr).
    pub fn gate(&self, config: &Path, health: &[&str]) -> (bool, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_kiosk-update"))
            .arg("--config")
            .arg(config)
            .arg("gate")
            .arg("--")
            .args(health)
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

impl Drop for Kiosk {
    fn drop(&mut self) {
        self.power_cut();
        let _ = self.dbus.kill();
        let _ = self.dbus.wait();
    }
}

/// deploy/rauc/system.conf with its device, keyring and directory paths pointed into
/// `dir` (and, unless `production_formats`, plain bundles allowed: CI has no dm-verity).
/// Every substitution must hit, so a change to the production file shows up here.
fn test_system_conf(dir: &Path, pki: &Pki, production_formats: bool) -> String {
    let text = std::fs::read_to_string(rauc_dir().join("system.conf")).unwrap();
    let mut out = String::new();
    let mut hits = BTreeMap::new();
    for line in text.lines() {
        let replaced = match line {
            "[system]" => Some(format!("[system]\nmountprefix={}", dir.join("mnt").display())),
            "device=/dev/mmcblk0p2" => Some(format!("device={}", dir.join("slots/rootfs-A").display())),
            "device=/dev/mmcblk0p3" => Some(format!("device={}", dir.join("slots/rootfs-B").display())),
            "path=/etc/rauc/ca.cert.pem" => Some(format!("path={}", pki.ca.display())),
            "data-directory=/data/rauc" => {
                Some(format!("data-directory={}", dir.join("data/rauc").display()))
            }
            "bundle-formats=-plain" if !production_formats => {
                Some("# bundle-formats: CI allows plain".into())
            }
            "bundle-formats=-plain" => Some(line.to_owned()),
            l if l.starts_with("compatible=") => {
                assert_eq!(l, format!("compatible={COMPATIBLE}"), "the tests assume this compatible");
                Some(l.to_owned())
            }
            _ => None,
        };
        match replaced {
            Some(r) => {
                *hits.entry(line.to_owned()).or_insert(0) += 1;
                out.push_str(&r);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    assert_eq!(hits.len(), 7, "deploy/rauc/system.conf changed shape; the tests rewrite: {hits:?}");
    out
}
