# SPDX-License-Identifier: GPL-3.0-or-later
SUMMARY = "My Number card self-checkout kiosk for public libraries"
DESCRIPTION = "The kiosk (Slint touchscreen UI on KMS/DRM, PC/SC card reader, SIP2, \
               ESC/POS printer) and its update agent kiosk-update (hawkBit DDI, RAUC over \
               D-Bus, boot health gate), with their systemd units."
HOMEPAGE = "https://example.invalid/kiosk"
BUGTRACKER = "https://example.invalid/kiosk/issues"
SECTION = "misc"
# The workspace is GPL-3.0-or-later; the UI embeds the MigMix 1P font (IPA Font License).
# The crates linked in are MIT/Apache-2.0/BSD/ISC/MPL-2.0/Unicode (GPL-3.0 compatible) and
# Slint is used under GPL-3.0-only; crate licences are listed by the crate fetcher's SBOM.
# The Japanese prompts are spoken in the HTS voice "Mei" (CC-BY-3.0, attributed in
# docs/voice.md, installed with the docs).
LICENSE = "GPL-3.0-or-later & IPA & OFL-1.1 & CC-BY-3.0"
LIC_FILES_CHKSUM = "file://LICENSE;md5=1ebbd3e34237af26da5dc08a4e440464 \
                    file://ui/fonts/IPA_Font_License_Agreement_v1.0.txt;md5=f5914d514ff569d8519e2b6a6b14e41b \
                    file://ui/fonts/OFL-1.1.txt;md5=289b694892e28f26255480e3a9de7bf6"

# pcsc-sys links libpcsclite; Slint's linuxkms backend links libinput, libudev and
# libxkbcommon, and its software renderer's font lookup (fontique) links fontconfig;
# tss-esapi links the TPM software stack (tpm2-tss); the alsa crate links alsa-lib (the
# voice and tones).
DEPENDS = "alsa-lib fontconfig libinput libxkbcommon pcsc-lite tpm2-tss udev"

# The workspace version (Cargo.toml [workspace.package] version); the release version the
# fleet sees is DISTRO_VERSION (conf/distro/kiosk.conf).
PV = "0.1.0+git"

# The source is this repository at the commit KIOSK_SRCREV names (the kas file passes it
# from the environment: KIOSK_SRCREV=$(git rev-parse HEAD)). kiosk-crates.inc is generated
# from that commit's Cargo.lock, so the crates always match the source. KIOSK_REPO_DIR is
# set in conf/layer.conf.
SRC_URI = "git://${KIOSK_REPO_DIR};protocol=file;nobranch=1 \
           file://kiosk-provisioned.conf \
           file://kiosk-state-dir.service \
           file://var-lib-kiosk.mount \
           file://99-kiosk-gpio.rules \
           "
SRCREV = "${KIOSK_SRCREV}"

require ${BPN}-crates.inc

inherit cargo cargo-update-recipe-crates pkgconfig systemd useradd

# Anonymous python on purpose: one getVar at parse time, so a build without KIOSK_SRCREV
# stops saying what to do, not with the git fetcher's "invalid SRCREV".
# nooelint: oelint.task.noanonpython
python __anonymous() {
    if not d.getVar("KIOSK_SRCREV"):
        bb.fatal("KIOSK_SRCREV is not set: run kas with KIOSK_SRCREV=$(git rev-parse HEAD) (yocto-layer/README.md)")
    if not d.getVar("KIOSK_PROMPTS"):
        bb.fatal("KIOSK_PROMPTS is not set: run `cargo xtask prompts`, then kas with "
                 "KIOSK_PROMPTS=$(pwd)/target/prompts/kiosk-voice.pack (yocto-layer/README.md)")
}

# The voice's prompts ([audio] prompts' default): synthesised from the catalogues on the
# build host by `cargo xtask prompts` (Debian's Open JTalk and eSpeak NG: this layer has
# no native recipes for them) and passed in like the revision. A new pack rebuilds this.
do_install[file-checksums] += "${KIOSK_PROMPTS}:True"

# The board build: full screen on KMS/DRM with touch, software renderer (kiosk/Cargo.toml
# feature "board" -> kiosk-ui/board -> slint/backend-linuxkms-noseat). Both binaries of
# the workspace, nothing else (the workspace's default member is only kiosk). No default
# features: the demo and its simulators stay out of the image.
do_compile() {
    oe_cargo_build --package kiosk --package kiosk-update --no-default-features --features kiosk/board
}

# The kiosk user runs kiosk.service (User=kiosk). Fixed ids: the slots of an A/B update
# come from different builds, and files on the data partition (/etc/kiosk in the /etc
# overlay) keep their numeric owner. The groups are kiosk.service's SupplementaryGroups:
# input (scanner), video and render (KMS/DRM), gpio (lamp, buzzer), dialout (serial
# devices), lp (USB printer), tss (the TPM, security.tpm), audio (ALSA, [audio]). gpio exists nowhere else; input
# and render come from systemd's sysusers at rootfs time, after this package's preinst, and
# tss from tpm2-tss's own, so they are created here too (groupadd skips a group that
# exists).
USERADD_PACKAGES = "${PN}"
GROUPADD_PARAM:${PN} = "--system --gid 450 kiosk; --system --gid 451 gpio; --system input; --system render; --system tss"
USERADD_PARAM:${PN} = "--system --uid 450 --gid kiosk --groups input,video,render,gpio,dialout,lp,tss,audio \
                       --home-dir ${localstatedir}/lib/kiosk --no-create-home \
                       --shell ${base_sbindir}/nologin kiosk"

# kiosk-usb-gadget.service makes the board a USB keyboard for a counter PC (counter mode,
# docs/counter.md); it does nothing on a board without a USB device controller, and the
# Pi 4's USB-C port becomes one only with ENABLE_DWC2_PERIPHERAL = "1" (local.conf).
# kiosk-update.service is the update agent; it waits for /etc/kiosk/update.toml.
SYSTEMD_SERVICE:${PN} = "kiosk.service kiosk-health.service kiosk-update.service kiosk-usb-gadget.service var-lib-kiosk.mount"

do_install:append() {
    # The units exactly as in systemd/ (checked there by deploy/agent/tests/systemd_units.rs).
    install -d ${D}${systemd_system_unitdir}
    install -m 0644 ${S}/systemd/kiosk.service ${D}${systemd_system_unitdir}/
    install -m 0644 ${S}/systemd/kiosk-health.service ${D}${systemd_system_unitdir}/
    install -m 0644 ${S}/systemd/kiosk-update.service ${D}${systemd_system_unitdir}/
    install -m 0644 ${S}/systemd/kiosk-usb-gadget.service ${D}${systemd_system_unitdir}/
    install -d ${D}${nonarch_libdir}/kiosk
    install -m 0755 ${S}/deploy/usb-gadget/kiosk-usb-gadget.sh ${D}${nonarch_libdir}/kiosk/
    # libcomposite at boot, so the gadget's unit loads no module; /dev/hidg0 for the kiosk.
    install -d ${D}${nonarch_libdir}/modules-load.d
    install -m 0644 ${S}/deploy/usb-gadget/kiosk-usb-gadget.conf ${D}${nonarch_libdir}/modules-load.d/
    install -d ${D}${docdir}/kiosk
    install -m 0644 ${S}/docs/counter.md ${D}${docdir}/kiosk/
    install -m 0644 ${S}/docs/voice.md ${D}${docdir}/kiosk/
    # Neither runs before the kiosk is provisioned (/etc/kiosk/kiosk.toml written on the
    # data partition): a fresh image would otherwise fail its health gate and reboot.
    for unit in kiosk.service kiosk-health.service; do
        install -d ${D}${systemd_system_unitdir}/$unit.d
        install -m 0644 ${UNPACKDIR}/kiosk-provisioned.conf ${D}${systemd_system_unitdir}/$unit.d/
    done
    # /var/lib/kiosk (StateDirectory=, the loan journal) lives on the data partition.
    install -m 0644 ${UNPACKDIR}/var-lib-kiosk.mount ${D}${systemd_system_unitdir}/
    install -m 0644 ${UNPACKDIR}/kiosk-state-dir.service ${D}${systemd_system_unitdir}/
    install -d ${D}${localstatedir}/lib/kiosk

    # /dev/gpiomem and the GPIO chips for the gpio group.
    install -d ${D}${nonarch_base_libdir}/udev/rules.d
    install -m 0644 ${UNPACKDIR}/99-kiosk-gpio.rules ${D}${nonarch_base_libdir}/udev/rules.d/
    install -m 0644 ${S}/deploy/usb-gadget/99-kiosk-hidg.rules ${D}${nonarch_base_libdir}/udev/rules.d/

    # The back panel (deploy/lockdown/): no SysRq, no USB storage, no console login.
    install -d ${D}${nonarch_libdir}/sysctl.d ${D}${nonarch_libdir}/modprobe.d ${D}${systemd_unitdir}/logind.conf.d
    install -m 0644 ${S}/deploy/lockdown/90-kiosk-lockdown.conf ${D}${nonarch_libdir}/sysctl.d/
    install -m 0644 ${S}/deploy/lockdown/kiosk-no-usb-storage.conf ${D}${nonarch_libdir}/modprobe.d/
    install -m 0644 ${S}/deploy/lockdown/kiosk-no-vt-login.conf ${D}${systemd_unitdir}/logind.conf.d/
    install -d ${D}${sysconfdir}/systemd/system
    ln -sf /dev/null ${D}${sysconfdir}/systemd/system/getty@.service
    ln -sf /dev/null ${D}${sysconfdir}/systemd/system/serial-getty@.service

    # The annotated example; the kiosk's own kiosk.toml is written at provisioning.
    install -d -m 0750 ${D}${sysconfdir}/kiosk
    install -m 0640 ${S}/deploy/kiosk.example.toml ${D}${sysconfdir}/kiosk/kiosk.example.toml
    chown -R root:kiosk ${D}${sysconfdir}/kiosk

    install -d ${D}${datadir}/kiosk
    install -m 0644 ${KIOSK_PROMPTS} ${D}${datadir}/kiosk/kiosk-voice.pack
}

FILES:${PN} += "${nonarch_libdir}/kiosk \
                ${nonarch_libdir}/modules-load.d \
                ${nonarch_libdir}/sysctl.d \
                ${nonarch_libdir}/modprobe.d \
                ${systemd_unitdir}/logind.conf.d \
                ${sysconfdir}/systemd/system \
                ${systemd_system_unitdir}/kiosk.service.d \
                ${systemd_system_unitdir}/kiosk-health.service.d \
                ${systemd_system_unitdir}/kiosk-state-dir.service \
                ${nonarch_base_libdir}/udev/rules.d \
                "

# pcscd (kiosk.service wants pcscd.socket); xkbcommon needs the keymap data at run time.
# rauc: kiosk-update talks to its D-Bus service. The reader driver (ccid) is the image's.
# libtss2-tcti-device: the TPM software stack loads it at run time (security.tpm);
# tpm2-tss: its udev rules give the tss group the TPM's resource manager (/dev/tpmrm0).
RDEPENDS:${PN} += "libtss2-tcti-device pcsc-lite rauc tpm2-tss xkeyboard-config"
