#!/usr/bin/env bash
# A client certificate for the mutual-TLS interop runs, signed by the test CA (ca.pem):
#   client1.pem / client1.key  CN "async-grpc interop test client", with the SANs
#                              DNS:client.test.example, URI:spiffe://test.example/client
#                              and IP:127.0.0.1 (so peer identities have each kind)
# Valid for 100 years. Public test material (committed); never use it for anything else.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/C=US/O=async-grpc/CN=async-grpc interop test client" \
  -keyout client1.key -out "$tmp/client1.csr"
cat > "$tmp/client1.ext" <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
subjectAltName=DNS:client.test.example,URI:spiffe://test.example/client,IP:127.0.0.1
EXT
openssl x509 -req -sha256 -days 36500 -in "$tmp/client1.csr" -CA ca.pem -CAkey ca.key \
  -set_serial "0x$(openssl rand -hex 16)" -extfile "$tmp/client1.ext" -out client1.pem
openssl verify -CAfile ca.pem client1.pem
