#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds and signs the kiosk's RAUC bundle from a root filesystem image.
#
#   make-bundle.sh --rootfs IMG.ext4 --version 2026.11.0 --compatible kiosk-rpi4 \
#                  --cert signing.cert.pem --key signing.key.pem [--keyring ca.cert.pem] \
#                  [--format verity|plain] --out kiosk-2026.11.0.raucb
#
# --format   verity (default; what the kiosk accepts: system.conf has bundle-formats=-plain).
#            plain exists only for CI machines whose kernel has no dm-verity, where RAUC
#            cannot install verity bundles (see docs/deploy.md).
# --keyring  when given, the new bundle is verified against it (with check-purpose=codesign,
#            as on the kiosk) before the script succeeds.
# --key may be a PKCS#11 URI (pkcs11:...) when the signing key lives on a token.
# The version must be SemVer-like dotted numbers (2026.11.0, no leading zeros): the agent
# refuses downgrades by comparing it, and gooseBit requires SemVer.
# Needs: rauc, mksquashfs (squashfs-tools). Runs unprivileged.
set -euo pipefail

die() { echo "make-bundle.sh: $*" >&2; exit 2; }
rootfs= version= compatible= cert= key= keyring= format=verity out=
while [ $# -gt 0 ]; do
  case $1 in
    --rootfs) rootfs=$2 ;;
    --version) version=$2 ;;
    --compatible) compatible=$2 ;;
    --cert) cert=$2 ;;
    --key) key=$2 ;;
    --keyring) keyring=$2 ;;
    --format) format=$2 ;;
    --out) out=$2 ;;
    -h|--help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  [ $# -ge 2 ] || die "$1 needs a value"
  shift 2
done
for v in rootfs version compatible cert key out; do
  [ -n "${!v}" ] || die "--$v is required (see --help)"
done
[ -r "$rootfs" ] || die "cannot read the rootfs image $rootfs"
[ -r "$cert" ] || die "cannot read the signing certificate $cert"
case $key in pkcs11:*) ;; *) [ -r "$key" ] || die "cannot read the signing key $key" ;; esac
case $format in verity|plain) ;; *) die "--format must be verity or plain, not $format" ;; esac
[[ $version =~ ^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)){2}([-+][0-9A-Za-z.-]+)?$ ]] \
  || die "--version $version is not MAJOR.MINOR.PATCH without leading zeros (e.g. 2026.11.0)"
[[ $compatible =~ ^[A-Za-z0-9._-]+$ ]] || die "--compatible $compatible: use letters, digits, . _ -"
[ -e "$out" ] && die "$out exists; refusing to overwrite"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/content"
# A hard link would do, but the image may be on another file system.
cp --reflink=auto "$rootfs" "$work/content/rootfs.ext4"
cat > "$work/content/manifest.raucm" <<MANIFEST
[update]
compatible=$compatible
version=$version
description=Kiosk $version for $compatible

[bundle]
format=$format

[image.rootfs]
filename=rootfs.ext4
MANIFEST

args=(--cert "$cert" --key "$key")
if [ -n "$keyring" ]; then
  # rauc bundle verifies the signature it made when given a keyring; a system.conf with
  # check-purpose=codesign makes it accept an EKU=codeSigning-only leaf, as the kiosk does.
  printf '[system]\ncompatible=%s\nbootloader=noop\n[keyring]\npath=%s\ncheck-purpose=codesign\n' \
    "$compatible" "$(realpath "$keyring")" > "$work/verify.conf"
  args=(-c "$work/verify.conf" "${args[@]}" --keyring "$keyring")
fi
# RAUC's chatter goes to a log that is shown only when a step fails.
quiet() { "$@" > "$work/rauc.log" 2>&1 || { cat "$work/rauc.log" >&2; die "failed: $*"; }; }
quiet rauc "${args[@]}" bundle "$work/content" "$out"
if [ -n "$keyring" ]; then
  quiet rauc -c "$work/verify.conf" --keyring "$keyring" info "$out"
fi
echo "$out: $compatible $version ($format, $(stat -c %s "$out") bytes)"
