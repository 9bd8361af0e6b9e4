#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The kiosk's update-signing PKI: an offline root CA and a code-signing leaf.
#
#   make-keys.sh ca   DIR               root CA: DIR/ca.key.pem (keep offline), DIR/ca.cert.pem
#   make-keys.sh csr  DIR [NAME]        leaf key + request on the build host:
#                                       DIR/NAME.key.pem (stays there), DIR/NAME.csr.pem
#   make-keys.sh sign CA_DIR CSR OUT    on the offline machine: OUT = leaf certificate
#                                       (digitalSignature, extendedKeyUsage=codeSigning)
#   make-keys.sh all  DIR               all of the above in one directory (tests, dev kits)
#
# Environment: KIOSK_PKI_ORG (subject O=, default "Kiosk"), KIOSK_PKI_CA_DAYS (7300),
# KIOSK_PKI_LEAF_DAYS (730), KIOSK_PKI_BITS (RSA size, 3072).
#
# Why these extensions: RAUC checks the signer with check-purpose=codesign (system.conf), so
# the leaf must carry EKU codeSigning; the root must be CA:TRUE with keyCertSign or OpenSSL
# refuses the chain. See deploy/rauc/README.md for who keeps which file.
set -euo pipefail

ORG=${KIOSK_PKI_ORG:-Kiosk}
CA_DAYS=${KIOSK_PKI_CA_DAYS:-7300}
LEAF_DAYS=${KIOSK_PKI_LEAF_DAYS:-730}
BITS=${KIOSK_PKI_BITS:-3072}

die() { echo "make-keys.sh: $*" >&2; exit 2; }
usage() { sed -n '3,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

make_ca() {
  local dir=$1
  mkdir -p "$dir"
  [ -e "$dir/ca.key.pem" ] && die "$dir/ca.key.pem exists; refusing to overwrite a root key"
  (umask 077; openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$BITS" -out "$dir/ca.key.pem" 2>/dev/null)
  openssl req -x509 -new -key "$dir/ca.key.pem" -days "$CA_DAYS" -sha256 \
    -subj "/O=$ORG/CN=$ORG update root CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$dir/ca.cert.pem"
  echo "root CA: $dir/ca.cert.pem (key $dir/ca.key.pem: move it offline)"
}

make_csr() {
  local dir=$1 name=${2:-signing}
  mkdir -p "$dir"
  [ -e "$dir/$name.key.pem" ] && die "$dir/$name.key.pem exists; refusing to overwrite a signing key"
  (umask 077; openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$BITS" -out "$dir/$name.key.pem" 2>/dev/null)
  openssl req -new -key "$dir/$name.key.pem" -subj "/O=$ORG/CN=$ORG update signing ($name)" \
    -out "$dir/$name.csr.pem"
  echo "signing key: $dir/$name.key.pem; request: $dir/$name.csr.pem (take it to the root CA)"
}

sign_csr() {
  local ca=$1 csr=$2 out=$3 ext
  [ -r "$ca/ca.key.pem" ] && [ -r "$ca/ca.cert.pem" ] || die "no ca.key.pem/ca.cert.pem in $ca"
  ext=$(mktemp)
  trap 'rm -f "$ext"' RETURN
  printf '%s\n' \
    'basicConstraints=critical,CA:FALSE' \
    'keyUsage=critical,digitalSignature' \
    'extendedKeyUsage=critical,codeSigning' \
    'subjectKeyIdentifier=hash' \
    'authorityKeyIdentifier=keyid' > "$ext"
  openssl x509 -req -in "$csr" -CA "$ca/ca.cert.pem" -CAkey "$ca/ca.key.pem" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$LEAF_DAYS" -sha256 -extfile "$ext" -out "$out" 2>/dev/null
  openssl verify -CAfile "$ca/ca.cert.pem" -purpose any "$out" >/dev/null
  echo "signing certificate: $out"
}

case ${1:-} in
  ca) [ $# -eq 2 ] || usage; make_ca "$2" ;;
  csr) [ $# -ge 2 ] && [ $# -le 3 ] || usage; make_csr "$2" "${3:-signing}" ;;
  sign) [ $# -eq 4 ] || usage; sign_csr "$2" "$3" "$4" ;;
  all)
    [ $# -eq 2 ] || usage
    make_ca "$2"
    make_csr "$2" signing
    sign_csr "$2" "$2/signing.csr.pem" "$2/signing.cert.pem"
    ;;
  *) usage ;;
esac
