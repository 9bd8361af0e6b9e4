#![allow(clippy::unwrap_used)]
//! The back-panel lockdown (`deploy/lockdown/`, docs/security.md): what each file says,
//! read the way the tool that reads it does, and that the image recipe installs every
//! file and masks the console logins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// `key = value` lines as sysctl.d(5) reads them (comments `#` and `;`).
fn sysctl(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or_else(|| panic!("not key = value: {l}"));
            (k.trim().replace('/', "."), v.trim().to_owned())
        })
        .collect()
}

#[test]
fn sysrq_is_off_and_the_kernel_keeps_its_addresses_and_log_to_itself() {
    let s = sysctl(&read("deploy/lockdown/90-kiosk-lockdown.conf"));
    assert_eq!(s.get("kernel.sysrq").map(String::as_str), Some("0"));
    assert_eq!(s.get("kernel.kptr_restrict").map(String::as_str), Some("2"));
    assert_eq!(s.get("kernel.dmesg_restrict").map(String::as_str), Some("1"));
}

#[test]
fn usb_storage_drivers_can_never_load() {
    let text = read("deploy/lockdown/kiosk-no-usb-storage.conf");
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect())
        .collect();
    for module in ["usb-storage", "uas"] {
        // modprobe.d(5): `install MODULE COMMAND` runs COMMAND instead of loading it.
        assert!(
            lines.contains(&vec!["install", module, "/bin/false"]),
            "{module} can still be loaded:\n{text}"
        );
    }
}

#[test]
fn no_login_is_started_on_another_virtual_terminal() {
    let text = read("deploy/lockdown/kiosk-no-vt-login.conf");
    let mut section = "";
    let mut login = BTreeMap::new();
    for l in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if l.starts_with('[') {
            section = l;
        } else if section == "[Login]" {
            let (k, v) = l.split_once('=').unwrap();
            login.insert(k.trim(), v.trim());
        }
    }
    assert_eq!(login.get("NAutoVTs"), Some(&"0"));
    assert_eq!(login.get("ReserveVT"), Some(&"0"));
}

#[test]
fn the_image_installs_every_lockdown_file_and_masks_the_console_logins() {
    let recipe = read("yocto-layer/meta-kiosk/recipes-kiosk/kiosk/kiosk_git.bb");
    for entry in std::fs::read_dir(root().join("deploy/lockdown")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".conf") {
            assert!(
                recipe.contains(&format!("${{S}}/deploy/lockdown/{name}")),
                "the image does not install {name}"
            );
        }
    }
    for unit in ["getty@.service", "serial-getty@.service"] {
        assert!(
            recipe.contains(&format!("ln -sf /dev/null ${{D}}${{sysconfdir}}/systemd/system/{unit}")),
            "{unit} is not masked"
        );
    }
}
