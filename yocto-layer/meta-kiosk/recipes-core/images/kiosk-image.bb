# SPDX-License-Identifier: GPL-3.0-or-later
SUMMARY = "Library self-checkout kiosk image for the Raspberry Pi 4 / CM4"
DESCRIPTION = "Read-only root file system for one RAUC A/B slot: the kiosk and its \
               update agent, pcscd with the CCID reader driver, RAUC, systemd. Writable \
               state lives on the data partition (/data): RAUC's status, the kiosk's loan \
               journal and an overlay over /etc."
HOMEPAGE = "https://example.invalid/kiosk"
BUGTRACKER = "https://example.invalid/kiosk/issues"
SECTION = "image"
LICENSE = "MIT"

inherit core-image

# No ssh server, no debug tweaks, no package manager: the kiosk stands in a public library
# and is serviced through the admin menu and the fleet server. A service technician's
# build adds ssh-server-dropbear to EXTRA_IMAGE_FEATURES in local.conf (docs/build-image.md).
IMAGE_FEATURES += "read-only-rootfs overlayfs-etc"

# The /etc overlay (OE-core overlayfs-etc): lower = this slot's /etc, upper on the data
# partition, mounted by a small preinit before systemd starts, so the kiosk's own
# /etc/kiosk/*.toml, keys and machine-id persist across reboots and updates.
OVERLAYFS_ETC_MOUNT_POINT = "/data"
OVERLAYFS_ETC_DEVICE = "/dev/mmcblk0p4"
OVERLAYFS_ETC_FSTYPE = "ext4"

# volatile-binds: /var/lib, /var/cache, /var/spool on tmpfs over the read-only root (the
# kiosk's /var/lib/kiosk is bound from /data after it, see var-lib-kiosk.mount).
# kernel-image: the kernel lives in each root file system (/boot/Image) and U-Boot loads
# it from the slot it boots, so an update replaces kernel and modules together with the
# slot. The boot partition keeps firmware, U-Boot, boot.scr, uboot.env and the DTBs.
IMAGE_INSTALL = "\
    packagegroup-core-boot \
    kiosk \
    ccid \
    pcsc-lite \
    rauc \
    libubootenv-bin \
    kernel-image \
    kernel-modules \
    tzdata \
    tzdata-asia \
    volatile-binds \
    ${CORE_IMAGE_EXTRA_INSTALL} \
    "

# kiosk-health.service (kiosk-update gate) marks the booted slot good only when the kiosk
# works; meta-rauc's unconditional rauc-mark-good would bless a broken slot too.
BAD_RECOMMENDATIONS += "rauc-mark-good"

# ext4: the slot image the bundle carries; wic: the whole card for the first flash.
IMAGE_FSTYPES = "ext4 wic.bz2 wic.bmap"
WKS_FILE = "kiosk-dual-rpi.wks"
# Each slot partition is 1536 MiB (wic/kiosk-dual-rpi.wks); leave room for growth.
IMAGE_ROOTFS_MAXSIZE = "1400000"

# The same fstab in the wic image and in the ext4 a bundle installs (wic's own fstab edits
# only reach the wic image, so every partition is marked --no-fstab-update there).
kiosk_fstab() {
    printf '%s\n' \
        '/dev/mmcblk0p1  /boot  vfat  defaults,noatime,nodev,nosuid,noexec,umask=0077  0  2' \
        '/dev/mmcblk0p4  /data  ext4  defaults,noatime,nodev,nosuid,noexec  0  2' \
        >> ${IMAGE_ROOTFS}${sysconfdir}/fstab
    install -d ${IMAGE_ROOTFS}/data
}
kiosk_fstab[doc] = "Appends /boot and /data to the root file system's fstab"
ROOTFS_POSTPROCESS_COMMAND += "kiosk_fstab"
