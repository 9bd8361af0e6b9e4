# SPDX-License-Identifier: GPL-3.0-or-later
# fw_printenv/fw_setenv (RAUC's uboot backend) find the U-Boot environment that
# Raspberry Pi U-Boot keeps in the FAT file uboot.env on the boot partition (/boot).
# Only for DISTRO = "kiosk" (the :kiosk override), so adding the layer changes no other build.
FILESEXTRAPATHS:prepend:kiosk := "${THISDIR}/files:"

SRC_URI:append:kiosk = " file://fw_env.config"

do_install:append:kiosk() {
    install -d ${D}${sysconfdir}
    install -m 0644 ${UNPACKDIR}/fw_env.config ${D}${sysconfdir}/fw_env.config
}

FILES:${PN}-bin:append:kiosk = " ${sysconfdir}/fw_env.config"
