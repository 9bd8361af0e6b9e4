# SPDX-License-Identifier: GPL-3.0-or-later
# The kiosk's RAUC system.conf is deploy/rauc/system.conf of this repository, used as is:
# one file for the image and for the update tests, which run it under RAUC in CI
# (KIOSK_REPO_DIR comes from conf/layer.conf). The keyring is the update root CA
# certificate, ca.cert.pem from KIOSK_KEYS_DIR (deploy/rauc/make-keys.sh ca); keys and
# certificates are never kept in the repository.
# Only for DISTRO = "kiosk" (the :kiosk override), so adding the layer changes no other build.
FILESEXTRAPATHS:prepend:kiosk := "${KIOSK_KEYS_DIR}:${KIOSK_REPO_DIR}/deploy/rauc:"

RAUC_KEYRING_FILE:kiosk = "ca.cert.pem"

# system.conf names its keyring /etc/rauc/ca.cert.pem (RAUC 1.8, which the CI tests use,
# reads only /etc/rauc). Whichever directory this meta-rauc installs rauc-conf to, the
# keyring is also there.
do_install:append:kiosk() {
    if [ -z "${KIOSK_KEYS_DIR}" ] || [ ! -s "${KIOSK_KEYS_DIR}/ca.cert.pem" ]; then
        bbfatal "KIOSK_KEYS_DIR must name a directory holding ca.cert.pem, the update root CA (docs/build-image.md)"
    fi
    if [ ! -e ${D}${sysconfdir}/rauc/ca.cert.pem ]; then
        install -d ${D}${sysconfdir}/rauc
        install -m 0644 ${UNPACKDIR}/ca.cert.pem ${D}${sysconfdir}/rauc/ca.cert.pem
    fi
}

FILES:${PN}:append:kiosk = " ${sysconfdir}/rauc"
