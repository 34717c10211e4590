#!/usr/bin/env bash
# A second, unrelated test CA and what it signs, for the certificate-rotation and
# unknown-CA tests (test/credentials/):
#   other-ca.pem / other-ca.key         the CA
#   other-server.pem / other-server.key a server certificate for localhost, 127.0.0.1, ::1
#   other-client.pem / other-client.key a client certificate (CN "other client")
# Valid for 100 years. Public test material (committed); never use it for anything else.
set -euo pipefail
cd "$(dirname "$0")"
days=36500
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days "$days" \
  -subj "/C=US/O=async-grpc/CN=async-grpc other test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout other-ca.key -out other-ca.pem
sign() { # name subject extensions
  openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "$2" -keyout "$1.key" -out "$tmp/$1.csr"
  printf '%b' "$3" >"$tmp/$1.ext"
  openssl x509 -req -sha256 -days "$days" -in "$tmp/$1.csr" -CA other-ca.pem -CAkey other-ca.key \
    -set_serial "0x$(openssl rand -hex 16)" -extfile "$tmp/$1.ext" -out "$1.pem"
  openssl verify -CAfile other-ca.pem "$1.pem"
}
sign other-server "/C=US/O=async-grpc/CN=other server" \
  'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n'
sign other-client "/C=US/O=async-grpc/CN=other client" \
  'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n'
