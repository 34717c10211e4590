#!/usr/bin/env bash
# A client certificate for the mutual-TLS tests, signed by the conformance test CA
# (../../conformance/certs). Public test material, valid 100 years; output committed.
set -euo pipefail
cd "$(dirname "$0")"
ca=../../conformance/certs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/C=US/O=async-grpc/CN=test client" \
  -keyout client.key -out "$tmp/client.csr"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >"$tmp/client.ext"
openssl x509 -req -sha256 -days 36500 -in "$tmp/client.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" \
  -set_serial "0x$(openssl rand -hex 16)" -extfile "$tmp/client.ext" -out client.pem
openssl verify -CAfile "$ca/ca.pem" client.pem
