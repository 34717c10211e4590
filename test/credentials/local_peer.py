#!/usr/bin/python3
"""grpcio's side of test/credentials/interop-python.test.ts: local credentials (UDS or
LOCAL_TCP) with an access token, as a server or as a client, on raw bytes: its server's
/t.S/Report answers JSON of what it saw of the caller.

  local_peer.py server ADDRESS uds|local_tcp   prints "LISTENING <port>", serves until stdin closes
  local_peer.py client TARGET uds|local_tcp TOKEN   calls /testing.Echo/Unary (empty request) and
                                                   prints the response's message field
"""
import json
import sys
from concurrent import futures

import grpc


def kind(name):
    return grpc.LocalConnectionType.UDS if name == "uds" else grpc.LocalConnectionType.LOCAL_TCP


def report(request, context):
    metadata = dict(context.invocation_metadata())
    return json.dumps(
        {
            "authorization": metadata.get("authorization"),
            "auth_context": {k: [v.decode() for v in vs] for k, vs in context.auth_context().items()},
            "peer_identities": [v.decode() for v in (context.peer_identities() or [])] or None,
            "peer_identity_key": context.peer_identity_key(),
        }
    ).encode()


def main():
    role, where, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    if role == "server":
        handler = grpc.method_handlers_generic_handler("t.S", {"Report": grpc.unary_unary_rpc_method_handler(report)})
        server = grpc.server(futures.ThreadPoolExecutor(4), handlers=(handler,))
        port = server.add_secure_port(where, grpc.local_server_credentials(kind(mode)))
        server.start()
        print("LISTENING %d" % port, flush=True)
        sys.stdin.read()
        server.stop(None)
        return
    credentials = grpc.composite_channel_credentials(
        grpc.local_channel_credentials(kind(mode)), grpc.access_token_call_credentials(sys.argv[4])
    )
    with grpc.secure_channel(where, credentials) as channel:
        raw = channel.unary_unary("/testing.Echo/Unary")(b"", timeout=10)
    # EchoResponse.message is field 1 (tag 0x0a), a varint length, then UTF-8.
    i, n, shift = 1, 0, 0
    while True:
        b = raw[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            break
    print(raw[i : i + n].decode(), flush=True)


if __name__ == "__main__":
    main()
