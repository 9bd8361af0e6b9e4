# SPDX-License-Identifier: GPL-3.0-or-later
# boot.scr with RAUC A/B boot counting from this repository's deploy/rauc/boot.cmd.in (the
# same file the update tests run; it says how the counting works), whatever boot script
# layout this meta-raspberrypi release defaults to. The recipe's own SRC_URI names
# boot.cmd.in; FILESEXTRAPATHS makes it ours (KIOSK_REPO_DIR comes from conf/layer.conf).
# Only for DISTRO = "kiosk" (the :kiosk override), so adding the layer changes no other build.
FILESEXTRAPATHS:prepend:kiosk := "${KIOSK_REPO_DIR}/deploy/rauc:"

# UBOOT_ARCH for mkimage (arm64 on raspberrypi4-64).
inherit kernel-arch

do_compile:kiosk() {
    sed -e 's/@@KERNEL_IMAGETYPE@@/${KERNEL_IMAGETYPE}/g' \
        -e 's/@@KERNEL_BOOTCMD@@/${KERNEL_BOOTCMD}/g' \
        "${UNPACKDIR}/boot.cmd.in" > "${WORKDIR}/boot.cmd"
    if grep -q '@@' "${WORKDIR}/boot.cmd"; then
        bbfatal "deploy/rauc/boot.cmd.in has a placeholder this recipe does not fill in"
    fi
    mkimage -A ${UBOOT_ARCH} -T script -C none -n "kiosk boot" -d "${WORKDIR}/boot.cmd" boot.scr
}
