# SPDX-License-Identifier: GPL-3.0-or-later
# What RAUC verity bundles and the read-only root with an /etc overlay need from the kernel.
# Only for DISTRO = "kiosk" (the :kiosk override), so adding the layer changes no other build.
FILESEXTRAPATHS:prepend:kiosk := "${THISDIR}/files:"

SRC_URI:append:kiosk = " file://kiosk-rauc.cfg"
