# nooelint: oelint.file.underscores,oelint.var.mandatoryvar.SRC_URI
# SPDX-License-Identifier: GPL-3.0-or-later
# The suppressions above: a bundle has no upstream version to put in its file name (its
# version is DISTRO_VERSION; meta-rauc names its own bundle recipes the same way), and it
# fetches nothing (its input is kiosk-image's ext4 in the deploy directory).
SUMMARY = "Signed RAUC update bundle of the kiosk image"
DESCRIPTION = "A verity-format RAUC bundle with kiosk-image's ext4 root file system, \
               for the slot the kiosk is not running from; what the fleet server (hawkBit \
               or gooseBit) serves."
HOMEPAGE = "https://example.invalid/kiosk"
BUGTRACKER = "https://example.invalid/kiosk/issues"
SECTION = "image"
LICENSE = "MIT"

inherit bundle

# Must equal deploy/rauc/system.conf's compatible (checked by
# deploy/agent/tests/yocto_layer.rs): RAUC and the update agent refuse anything else.
RAUC_BUNDLE_COMPATIBLE = "kiosk-rpi4"
# The release version (conf/distro/kiosk.conf), which is also the image's
# /etc/os-release VERSION_ID: the agent refuses a bundle older than the running one.
RAUC_BUNDLE_VERSION = "${DISTRO_VERSION}"
RAUC_BUNDLE_DESCRIPTION = "Kiosk ${DISTRO_VERSION} for kiosk-rpi4"
# verity: the only format the kiosk accepts (system.conf bundle-formats=-plain).
RAUC_BUNDLE_FORMAT = "verity"

RAUC_BUNDLE_SLOTS = "rootfs"
RAUC_SLOT_rootfs = "kiosk-image"
RAUC_SLOT_rootfs[fstype] = "ext4"

# The signing leaf (deploy/rauc/make-keys.sh: extendedKeyUsage=codeSigning, signed by the
# offline root CA). Never in the repository: KIOSK_KEYS_DIR comes from the environment
# through the kas file. KIOSK_SIGNING_KEY may instead be a PKCS#11 URI (pkcs11:...).
KIOSK_SIGNING_KEY ?= "${KIOSK_KEYS_DIR}/signing.key.pem"
KIOSK_SIGNING_CERT ?= "${KIOSK_KEYS_DIR}/signing.cert.pem"
RAUC_KEY_FILE = "${KIOSK_SIGNING_KEY}"
RAUC_CERT_FILE = "${KIOSK_SIGNING_CERT}"

# tmp/deploy/images/<machine>/kiosk-bundle-2026.11.0.raucb (+ kiosk-bundle-<machine>.raucb).
BUNDLE_NAME = "${BUNDLE_BASENAME}-${RAUC_BUNDLE_VERSION}"

python kiosk_check_signing_keys() {
    if not d.getVar("KIOSK_KEYS_DIR") and not d.getVar("KIOSK_SIGNING_KEY").startswith("pkcs11:"):
        bb.fatal("KIOSK_KEYS_DIR is not set: point it at the directory with signing.key.pem, signing.cert.pem and ca.cert.pem (docs/build-image.md)")
}
kiosk_check_signing_keys[doc] = "Stops the bundle build when no signing key is configured"
do_bundle[prefuncs] += "kiosk_check_signing_keys"
