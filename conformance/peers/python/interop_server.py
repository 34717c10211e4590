#!/usr/bin/python3
"""The grpcio interop server: a peer our client is tested against. It implements the
server features of the gRPC repository's doc/interop-test-descriptions.md for
grpc.testing.TestService with grpcio's synchronous server and
grpc.method_handlers_generic_handler, except CompressedRequest: grpcio's servicer
context does not say whether a request message arrived compressed (see
conformance/README.md, "What the peers cannot do").

Run with Debian's /usr/bin/python3 (python3-grpcio)."""

import argparse
import signal
import sys
import threading
import time
from concurrent import futures

import grpc

from interop_common import (
    ECHO_INITIAL_KEY,
    ECHO_TRAILING_KEY,
    STATUS_BY_NUMBER,
    TEST_SERVICE,
    boolean_flag,
    empty_pb2,
    host_port,
    messages_pb2,
    payload,
    read_file,
    test_ca_file,
    server_cert_file,
    server_key_file,
)

M = messages_pb2


def echo_metadata(context):
    """Echo Metadata; returns whether initial metadata has been sent."""
    metadata = context.invocation_metadata()
    initial = [(k, v) for k, v in metadata if k == ECHO_INITIAL_KEY]
    trailing = [(k, v) for k, v in metadata if k == ECHO_TRAILING_KEY]
    if trailing:
        context.set_trailing_metadata(trailing)
    if initial:
        context.send_initial_metadata(initial)
        return True
    return False


def maybe_echo_status(request, context):
    """Echo Status: ends the call with the status the request asks for, if any."""
    if request.HasField("response_status") and request.response_status.code != 0:
        status = request.response_status
        context.abort(STATUS_BY_NUMBER.get(status.code, grpc.StatusCode.UNKNOWN), status.message)


def check_response_type(request, context):
    if request.response_type != M.COMPRESSABLE:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "response_type %d is not supported" % request.response_type)


def wants_compression(field_owner, field):
    return field_owner.HasField(field) and getattr(field_owner, field).value


class Responder:
    """Sends the responses a list of ResponseParameters asks for (sizes, interval_us,
    and per-message compression where the call's compression can still be chosen)."""

    def __init__(self, context, initial_metadata_sent):
        self._context = context
        self._headers_sent = initial_metadata_sent
        self._gzip = False

    def prepare(self, params):
        """Turns call compression on if any response asks for it, while still possible."""
        if not self._headers_sent and not self._gzip and any(wants_compression(p, "compressed") for p in params):
            self._context.set_compression(grpc.Compression.Gzip)
            self._gzip = True

    def responses(self, params):
        self.prepare(params)
        for p in params:
            if p.interval_us > 0:
                time.sleep(p.interval_us / 1e6)
            if self._gzip and not wants_compression(p, "compressed"):
                self._context.disable_next_message_compression()
            yield M.StreamingOutputCallResponse(payload=payload(p.size))
            self._headers_sent = True

    def headers_sent(self):
        self._headers_sent = True


def empty_call(request, context):
    echo_metadata(context)
    return empty_pb2.Empty()


def unary_call(request, context):
    # Compression must be chosen before initial metadata goes out (echo_metadata).
    if request.HasField("response_compressed"):
        context.set_compression(
            grpc.Compression.Gzip if request.response_compressed.value else grpc.Compression.NoCompression
        )
    echo_metadata(context)
    maybe_echo_status(request, context)
    check_response_type(request, context)
    # expect_compressed (CompressedRequest) cannot be checked: see the module docstring.
    # mtls_token (not from the descriptions): the verified client certificate's common name.
    username = ""
    if request.fill_username:
        names = context.auth_context().get("x509_common_name") or [b""]
        username = names[0].decode()
    return M.SimpleResponse(payload=payload(request.response_size), username=username)


def cacheable_unary_call(request, context):
    context.send_initial_metadata((("cache-control", "max-age=60, public"),))
    body = str(time.time_ns()).encode()
    return M.SimpleResponse(payload=M.Payload(type=M.COMPRESSABLE, body=body))


def streaming_output_call(request, context):
    responder = Responder(context, False)
    # Compression must be chosen before initial metadata goes out (echo_metadata).
    responder.prepare(request.response_parameters)
    if echo_metadata(context):
        responder.headers_sent()
    check_response_type(request, context)
    yield from responder.responses(request.response_parameters)
    maybe_echo_status(request, context)


def streaming_input_call(request_iterator, context):
    echo_metadata(context)
    total = 0
    try:
        for request in request_iterator:
            total += len(request.payload.body)
    except grpc.RpcError:
        return None  # cancelled or timed out: there is no one left to answer
    return M.StreamingInputCallResponse(aggregated_payload_size=total)


def full_duplex_call(request_iterator, context):
    responder = Responder(context, echo_metadata(context))
    try:
        for request in request_iterator:
            maybe_echo_status(request, context)
            check_response_type(request, context)
            yield from responder.responses(request.response_parameters)
    except grpc.RpcError:
        return  # cancelled or timed out


def half_duplex_call(request_iterator, context):
    responder = Responder(context, echo_metadata(context))
    try:
        requests = list(request_iterator)
    except grpc.RpcError:
        return
    for request in requests:
        maybe_echo_status(request, context)
        yield from responder.responses(request.response_parameters)


def handlers():
    def handler(kind, fn, request, response):
        return getattr(grpc, kind + "_rpc_method_handler")(
            fn, request_deserializer=request.FromString, response_serializer=response.SerializeToString
        )

    return grpc.method_handlers_generic_handler(
        TEST_SERVICE,
        {
            "EmptyCall": handler("unary_unary", empty_call, empty_pb2.Empty, empty_pb2.Empty),
            "UnaryCall": handler("unary_unary", unary_call, M.SimpleRequest, M.SimpleResponse),
            "CacheableUnaryCall": handler("unary_unary", cacheable_unary_call, M.SimpleRequest, M.SimpleResponse),
            "StreamingOutputCall": handler(
                "unary_stream", streaming_output_call, M.StreamingOutputCallRequest, M.StreamingOutputCallResponse
            ),
            "StreamingInputCall": handler(
                "stream_unary", streaming_input_call, M.StreamingInputCallRequest, M.StreamingInputCallResponse
            ),
            "FullDuplexCall": handler(
                "stream_stream", full_duplex_call, M.StreamingOutputCallRequest, M.StreamingOutputCallResponse
            ),
            "HalfDuplexCall": handler(
                "stream_stream", half_duplex_call, M.StreamingOutputCallRequest, M.StreamingOutputCallResponse
            ),
            # UnimplementedCall is deliberately absent: grpcio answers it with UNIMPLEMENTED.
        },
    )


class TokenCheck(grpc.ServerInterceptor):
    """--bearer_token: calls without `authorization: Bearer TOKEN` end UNAUTHENTICATED."""

    def __init__(self, token):
        self._expected = "Bearer %s" % token

        def refuse(request, context):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")

        self._refusals = {
            "unary_unary": grpc.unary_unary_rpc_method_handler(refuse),
            "unary_stream": grpc.unary_stream_rpc_method_handler(refuse),
            "stream_unary": grpc.stream_unary_rpc_method_handler(refuse),
            "stream_stream": grpc.stream_stream_rpc_method_handler(refuse),
        }

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or dict(handler_call_details.invocation_metadata).get("authorization") == self._expected:
            return handler
        kind = ("stream" if handler.request_streaming else "unary") + "_" + ("stream" if handler.response_streaming else "unary")
        return self._refusals[kind]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (not a standard flag)")
    boolean_flag(parser, "--use_tls", "use TLS ($GRPC_TEST_SERVER_CERT / $GRPC_TEST_SERVER_KEY)")
    # Not standard: mutual TLS (client certificates from the test CA) and a required bearer token.
    boolean_flag(parser, "--require_client_auth", "with --use_tls: refuse clients without a certificate from the test CA")
    parser.add_argument("--bearer_token", default="", help="refuse calls without authorization: Bearer TOKEN")
    args = parser.parse_args()

    interceptors = (TokenCheck(args.bearer_token),) if args.bearer_token else ()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), handlers=(handlers(),), interceptors=interceptors)
    address = host_port(args.host, args.port)
    try:
        if args.use_tls:
            key = read_file(server_key_file(), "server key")
            chain = read_file(server_cert_file(), "server certificate")
            root = read_file(test_ca_file(), "test CA") if args.require_client_auth else None
            credentials = grpc.ssl_server_credentials([(key, chain)], root, args.require_client_auth)
            port = server.add_secure_port(address, credentials)
        else:
            port = server.add_insecure_port(address)
    except RuntimeError as e:
        port = 0
        print("grpcio interop server: %s" % e, file=sys.stderr)
    if port == 0:
        print("grpcio interop server: cannot listen on %s" % address, file=sys.stderr, flush=True)
        sys.exit(1)
    server.start()
    print(
        "grpcio interop server listening on %s (%s)" % (host_port(args.host, port), ("mtls" if args.require_client_auth else "tls") if args.use_tls else "plaintext"),
        flush=True,
    )

    stopped = threading.Event()

    def stop(signum, frame):
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopped.wait(3600):
        pass
    server.stop(0).wait()


if __name__ == "__main__":
    main()
