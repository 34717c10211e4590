#!/usr/bin/env bash
# Regenerates the TLS material the interop peers use with --use_tls:
#   ca.pem / ca.key           a self-signed test CA (clients trust it with --use_test_ca)
#   server1.pem / server1.key a server certificate signed by that CA, for
#                             *.test.google.fr, localhost, 127.0.0.1 and ::1
# Both are valid for 100 years. The output is committed; run this only to replace it.
# These keys are public test material: never use them for anything else.
set -euo pipefail
cd "$(dirname "$0")"
days=36500
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days "$days" \
  -subj "/C=US/O=async-grpc/CN=async-grpc interop test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectKeyIdentifier=hash" \
  -keyout ca.key -out ca.pem

openssl req -new -newkey rsa:2048 -nodes -sha256 \
  -subj "/C=US/O=async-grpc/CN=*.test.google.fr" \
  -keyout server1.key -out "$tmp/server1.csr"

cat > "$tmp/server1.ext" <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:*.test.google.fr,DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT

openssl x509 -req -sha256 -days "$days" -in "$tmp/server1.csr" \
  -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" \
  -extfile "$tmp/server1.ext" -out server1.pem

openssl verify -CAfile ca.pem server1.pem
