#!/usr/bin/python3
"""The grpcio interop client: a peer our server is tested against. It follows the gRPC
repository's doc/interop-test-descriptions.md, one --test_case per run, with grpcio's
synchronous API and hand-built multi-callables (channel.unary_unary(...) etc).

The cases made of many large_unary calls (rpc_soak, channel_soak, long_lived_channel,
concurrent_large_unary) are in interop_soak.py.

Exit codes: 0 pass, 1 fail (reason on stderr), 2 usage error (an unknown --test_case
lists the supported ones), 3 skip (a stdout line starting with "SKIP:" says why). Run
with Debian's /usr/bin/python3 (python3-grpcio)."""

import argparse
import faulthandler
import json
import math
import os
import queue
import sys
import threading

import grpc

from interop_common import (
    CANCEL_AFTER_FIRST_RESPONSE_SIZES,
    CASES,
    CheckFailed,
    CLIENT_STREAMING_SIZES,
    CLIENT_STREAMING_TOTAL,
    ECHO_INITIAL_KEY,
    ECHO_INITIAL_VALUE,
    ECHO_TRAILING_KEY,
    ECHO_TRAILING_VALUE,
    LARGE_REQUEST_SIZE,
    LARGE_RESPONSE_SIZE,
    PING_PONG_SIZES,
    SERVER_COMPRESSED_STREAMING,
    SERVER_STREAMING_SIZES,
    SPECIAL_STATUS_MESSAGE,
    STATUS_BY_NUMBER,
    STATUS_CODE,
    STATUS_MESSAGE,
    TEST_CLIENT_COMMON_NAME,
    TEST_SERVICE,
    TIMEOUT_ON_SLEEPING_SERVER_PAYLOAD,
    TIMEOUT_ON_SLEEPING_SERVER_TIMEOUT_S,
    UNIMPLEMENTED_SERVICE,
    boolean_flag,
    check,
    check_equal,
    check_payload,
    client_cert_file,
    client_key_file,
    empty_pb2,
    host_port,
    messages_pb2,
    payload,
    read_file,
    test_ca_file,
)
from interop_soak import LargeUnaryChannel, run_concurrent_large_unary, run_long_lived_channel, run_soak


class SkipCase(Exception):
    pass


def check_status(error, code, what, message=None):
    """`error` is the grpc.RpcError (or call) the call ended with."""
    actual = error.code() if error is not None else grpc.StatusCode.OK
    if actual != code:
        details = error.details() if error is not None else None
        raise CheckFailed("%s: expected status %s, got %s: %r" % (what, code.name, actual.name, details))
    if message is not None:
        check_equal(error.details(), message, "%s: status message" % what)


def call_error(fn, *args, **kwargs):
    """Runs a call that must fail; returns its grpc.RpcError (None if it succeeded)."""
    try:
        fn(*args, **kwargs)
    except grpc.RpcError as e:
        return e
    return None


def ok(fn, what, *args, **kwargs):
    """Runs a call that must succeed, turning an RpcError into a clear failure."""
    try:
        return fn(*args, **kwargs)
    except grpc.RpcError as e:
        raise CheckFailed("%s: call failed with %s: %r" % (what, e.code().name, e.details()))


def metadata_value(metadata, key):
    for k, v in metadata or ():
        if k == key:
            return v
    return None


class Pipe:
    """A request iterator fed one message at a time (for ping_pong and the cancel cases)."""

    _END = object()

    def __init__(self):
        self._queue = queue.Queue()

    def add(self, message):
        self._queue.put(message)

    def close(self):
        self._queue.put(self._END)

    def __iter__(self):
        return self

    def __next__(self):
        message = self._queue.get()
        if message is self._END:
            raise StopIteration()
        return message


class TestServiceStub:
    def __init__(self, channel):
        def method(kind, name, request, response, service=TEST_SERVICE):
            return getattr(channel, kind)(
                "/%s/%s" % (service, name),
                request_serializer=request.SerializeToString,
                response_deserializer=response.FromString,
            )

        M = messages_pb2
        self.EmptyCall = method("unary_unary", "EmptyCall", empty_pb2.Empty, empty_pb2.Empty)
        self.UnaryCall = method("unary_unary", "UnaryCall", M.SimpleRequest, M.SimpleResponse)
        self.StreamingOutputCall = method(
            "unary_stream", "StreamingOutputCall", M.StreamingOutputCallRequest, M.StreamingOutputCallResponse
        )
        self.StreamingInputCall = method(
            "stream_unary", "StreamingInputCall", M.StreamingInputCallRequest, M.StreamingInputCallResponse
        )
        self.FullDuplexCall = method(
            "stream_stream", "FullDuplexCall", M.StreamingOutputCallRequest, M.StreamingOutputCallResponse
        )
        self.UnimplementedCall = method("unary_unary", "UnimplementedCall", empty_pb2.Empty, empty_pb2.Empty)
        self.UnimplementedServiceCall = method(
            "unary_unary", "UnimplementedCall", empty_pb2.Empty, empty_pb2.Empty, UNIMPLEMENTED_SERVICE
        )


def large_request(**fields):
    return messages_pb2.SimpleRequest(
        response_type=messages_pb2.COMPRESSABLE,
        response_size=LARGE_RESPONSE_SIZE,
        payload=payload(LARGE_REQUEST_SIZE),
        **fields
    )


def streaming_output_request(sizes, request_size=None):
    request = messages_pb2.StreamingOutputCallRequest(
        response_type=messages_pb2.COMPRESSABLE,
        response_parameters=[messages_pb2.ResponseParameters(size=s) for s in sizes],
    )
    if request_size is not None:
        request.payload.CopyFrom(payload(request_size))
    return request


# ---------------------------------------------------------------------------
# The cases


def empty_unary(stub):
    response = ok(stub.EmptyCall, "EmptyCall", empty_pb2.Empty())
    check(response is not None, "EmptyCall: response is None")


def large_unary(stub):
    response = ok(stub.UnaryCall, "UnaryCall", large_request())
    check_payload(response.payload, LARGE_RESPONSE_SIZE, "UnaryCall response")


def client_compressed_unary(stub):
    probe = call_error(stub.UnaryCall, large_request(expect_compressed=messages_pb2.BoolValue(value=True)))
    check_status(probe, grpc.StatusCode.INVALID_ARGUMENT, "probe (uncompressed, expect_compressed=true)")
    for compressed in (True, False):
        what = "UnaryCall %s" % ("compressed" if compressed else "uncompressed")
        response = ok(
            stub.UnaryCall,
            what,
            large_request(expect_compressed=messages_pb2.BoolValue(value=compressed)),
            compression=grpc.Compression.Gzip if compressed else grpc.Compression.NoCompression,
        )
        check_payload(response.payload, LARGE_RESPONSE_SIZE, "%s: response" % what)


def server_compressed_unary(stub):
    # grpcio does not expose the compressed flag of a received message: this client
    # checks what it can, that both calls succeed with the right payload.
    for compressed in (True, False):
        what = "UnaryCall with response_compressed=%s" % compressed
        response = ok(stub.UnaryCall, what, large_request(response_compressed=messages_pb2.BoolValue(value=compressed)))
        check_payload(response.payload, LARGE_RESPONSE_SIZE, "%s: response" % what)


def client_streaming(stub):
    requests = (messages_pb2.StreamingInputCallRequest(payload=payload(s)) for s in CLIENT_STREAMING_SIZES)
    response = ok(stub.StreamingInputCall, "StreamingInputCall", requests)
    check_equal(response.aggregated_payload_size, CLIENT_STREAMING_TOTAL, "aggregated_payload_size")


def client_compressed_streaming(stub):
    raise SkipCase(
        "grpcio's client API compresses a call as a whole (compression=...); it cannot "
        "leave one request message of a compressed stream uncompressed"
    )


def _check_stream(responses, sizes, what):
    count = 0
    try:
        for response in responses:
            check(count < len(sizes), "%s: more than %d responses" % (what, len(sizes)))
            check_payload(response.payload, sizes[count], "%s: response %d" % (what, count + 1))
            count += 1
    except grpc.RpcError as e:
        raise CheckFailed("%s: stream failed with %s: %r" % (what, e.code().name, e.details()))
    check_equal(count, len(sizes), "%s: number of responses" % what)
    check_status(responses, grpc.StatusCode.OK, what)


def server_streaming(stub):
    responses = stub.StreamingOutputCall(streaming_output_request(SERVER_STREAMING_SIZES))
    _check_stream(responses, SERVER_STREAMING_SIZES, "StreamingOutputCall")


def server_compressed_streaming(stub):
    # As in server_compressed_unary, the compressed flag is not observable in grpcio.
    request = messages_pb2.StreamingOutputCallRequest(
        response_type=messages_pb2.COMPRESSABLE,
        response_parameters=[
            messages_pb2.ResponseParameters(size=size, compressed=messages_pb2.BoolValue(value=compressed))
            for size, compressed in SERVER_COMPRESSED_STREAMING
        ],
    )
    responses = stub.StreamingOutputCall(request)
    _check_stream(responses, [size for size, _ in SERVER_COMPRESSED_STREAMING], "StreamingOutputCall")


def ping_pong(stub):
    pipe = Pipe()
    responses = stub.FullDuplexCall(pipe)
    try:
        for i, (request_size, response_size) in enumerate(PING_PONG_SIZES):
            pipe.add(streaming_output_request([response_size], request_size))
            response = ok(next, "FullDuplexCall", responses, None)
            check(response is not None, "FullDuplexCall: stream ended before response %d" % (i + 1))
            check_payload(response.payload, response_size, "response %d" % (i + 1))
        pipe.close()
        check(ok(next, "FullDuplexCall", responses, None) is None, "FullDuplexCall: more than 4 responses")
        check_status(responses, grpc.StatusCode.OK, "FullDuplexCall")
    finally:
        pipe.close()


def empty_stream(stub):
    responses = stub.FullDuplexCall(iter(()))
    check_equal(len(ok(list, "FullDuplexCall", responses)), 0, "FullDuplexCall: number of responses")
    check_status(responses, grpc.StatusCode.OK, "FullDuplexCall")


def timeout_on_sleeping_server(stub):
    pipe = Pipe()
    try:
        responses = stub.FullDuplexCall(pipe, timeout=TIMEOUT_ON_SLEEPING_SERVER_TIMEOUT_S)
        pipe.add(messages_pb2.StreamingOutputCallRequest(payload=payload(TIMEOUT_ON_SLEEPING_SERVER_PAYLOAD)))
        error = call_error(next, responses)
        check_status(error, grpc.StatusCode.DEADLINE_EXCEEDED, "FullDuplexCall with a 1 ms timeout")
    finally:
        pipe.close()


def cancel_after_begin(stub):
    pipe = Pipe()
    try:
        future = stub.StreamingInputCall.future(pipe)
        future.cancel()
        check(future.cancelled(), "StreamingInputCall: future not cancelled")
        check_status(future, grpc.StatusCode.CANCELLED, "StreamingInputCall cancelled after begin")
    finally:
        pipe.close()


def cancel_after_first_response(stub):
    request_size, response_size = CANCEL_AFTER_FIRST_RESPONSE_SIZES
    pipe = Pipe()
    try:
        responses = stub.FullDuplexCall(pipe)
        pipe.add(streaming_output_request([response_size], request_size))
        response = ok(next, "FullDuplexCall", responses, None)
        check(response is not None, "FullDuplexCall: stream ended before the first response")
        check_payload(response.payload, response_size, "first response")
        responses.cancel()
        error = call_error(next, responses)
        check_status(error, grpc.StatusCode.CANCELLED, "FullDuplexCall cancelled after the first response")
    finally:
        pipe.close()


def status_code_and_message(stub):
    code = STATUS_BY_NUMBER[STATUS_CODE]
    response_status = messages_pb2.EchoStatus(code=STATUS_CODE, message=STATUS_MESSAGE)
    error = call_error(stub.UnaryCall, messages_pb2.SimpleRequest(response_status=response_status))
    check_status(error, code, "UnaryCall", STATUS_MESSAGE)
    responses = stub.FullDuplexCall(iter([messages_pb2.StreamingOutputCallRequest(response_status=response_status)]))
    error = call_error(list, responses)
    check_status(error, code, "FullDuplexCall", STATUS_MESSAGE)


def special_status_message(stub):
    code = STATUS_BY_NUMBER[STATUS_CODE]
    response_status = messages_pb2.EchoStatus(code=STATUS_CODE, message=SPECIAL_STATUS_MESSAGE)
    error = call_error(stub.UnaryCall, messages_pb2.SimpleRequest(response_status=response_status))
    check_status(error, code, "UnaryCall", SPECIAL_STATUS_MESSAGE)


def custom_metadata(stub):
    metadata = ((ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE), (ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE))

    def check_echoed(call, what):
        check_equal(
            metadata_value(call.initial_metadata(), ECHO_INITIAL_KEY),
            ECHO_INITIAL_VALUE,
            "%s: initial metadata %s" % (what, ECHO_INITIAL_KEY),
        )
        check_equal(
            metadata_value(call.trailing_metadata(), ECHO_TRAILING_KEY),
            ECHO_TRAILING_VALUE,
            "%s: trailing metadata %s" % (what, ECHO_TRAILING_KEY),
        )

    response, call = ok(stub.UnaryCall.with_call, "UnaryCall", large_request(), metadata=metadata)
    check_payload(response.payload, LARGE_RESPONSE_SIZE, "UnaryCall response")
    check_echoed(call, "UnaryCall")

    request = streaming_output_request([LARGE_RESPONSE_SIZE], LARGE_REQUEST_SIZE)
    responses = stub.FullDuplexCall(iter([request]), metadata=metadata)
    _check_stream(responses, [LARGE_RESPONSE_SIZE], "FullDuplexCall")
    check_echoed(responses, "FullDuplexCall")


def unimplemented_method(stub):
    error = call_error(stub.UnimplementedCall, empty_pb2.Empty())
    check_status(error, grpc.StatusCode.UNIMPLEMENTED, "TestService/UnimplementedCall")


def unimplemented_service(stub):
    error = call_error(stub.UnimplementedServiceCall, empty_pb2.Empty())
    check_status(error, grpc.StatusCode.UNIMPLEMENTED, "UnimplementedService/UnimplementedCall")


# The cases made of many large_unary calls (interop_soak.py): they take the channel
# and the flags rather than a stub; channel_soak opens channels of its own.


def mtls_token(channel, args):
    """Not from the descriptions: a server requiring a client certificate and the bearer
    token answers the certificate's common name; without the token it refuses the call."""
    check(args.use_client_cert and args.bearer_token, "mtls_token needs --use_tls --use_client_cert --bearer_token")
    response = ok(TestServiceStub(channel).UnaryCall, "UnaryCall with client certificate and token", messages_pb2.SimpleRequest(fill_username=True))
    check_equal(response.username, TEST_CLIENT_COMMON_NAME, "UnaryCall: username")
    no_token = argparse.Namespace(**{**vars(args), "bearer_token": ""})
    with make_channel(no_token) as other:
        error = call_error(TestServiceStub(other).UnaryCall, messages_pb2.SimpleRequest(fill_username=True))
    check_status(error, grpc.StatusCode.UNAUTHENTICATED, "UnaryCall without the token")


def _server_uri(args):
    return host_port(args.server_host, args.server_port)


SOAK_CASES = {
    "rpc_soak": lambda channel, args: run_soak(
        args, False, _server_uri(args), lambda: LargeUnaryChannel(channel, owned=False)
    ),
    "channel_soak": lambda channel, args: run_soak(
        args, True, _server_uri(args), lambda: LargeUnaryChannel(make_channel(args), owned=True)
    ),
    "long_lived_channel": lambda channel, args: run_long_lived_channel(
        args.soak_iterations, args.iteration_interval, LargeUnaryChannel(channel, owned=False)
    ),
    "concurrent_large_unary": lambda channel, args: run_concurrent_large_unary(
        LargeUnaryChannel(channel, owned=False), args.concurrent_large_unary_calls
    ),
}


# ---------------------------------------------------------------------------


def make_channel(args):
    target = host_port(args.server_host, args.server_port)
    options = []
    if args.server_host_override:
        options.append(("grpc.default_authority", args.server_host_override))
        if args.use_tls:
            options.append(("grpc.ssl_target_name_override", args.server_host_override))
    if not args.use_tls:
        return grpc.insecure_channel(target, options=options)
    root = read_file(test_ca_file(), "test CA") if args.use_test_ca else None
    if args.use_client_cert:
        key = read_file(client_key_file(), "client key")
        chain = read_file(client_cert_file(), "client certificate")
        credentials = grpc.ssl_channel_credentials(root_certificates=root, private_key=key, certificate_chain=chain)
    else:
        credentials = grpc.ssl_channel_credentials(root_certificates=root)
    if args.bearer_token:
        credentials = grpc.composite_channel_credentials(credentials, grpc.access_token_call_credentials(args.bearer_token))
    return grpc.secure_channel(target, credentials, options=options)


def arm_watchdog(test_case):
    """The runner passes its per-case timeout in INTEROP_CLIENT_TIMEOUT_S. Shortly
    before it, a client that is still waiting says so and dumps every thread's stack,
    instead of being killed without a word."""
    try:
        timeout = float(os.environ.get("INTEROP_CLIENT_TIMEOUT_S", "0"))
    except ValueError:
        return
    if timeout <= 0:
        return

    def fire():
        print("FAIL: %s: no result after %.1f s; thread stacks:" % (test_case, timeout * 0.9), file=sys.stderr, flush=True)
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        os._exit(1)

    timer = threading.Timer(timeout * 0.9, fire)
    timer.daemon = True
    timer.start()


def whole_number(minimum):
    """argparse type: a whole number (digits only) >= minimum."""

    def parse(value):
        if not value.isdigit() or int(value) < minimum:
            raise argparse.ArgumentTypeError("must be a whole number >= %d, got %r" % (minimum, value))
        return int(value)

    return parse


def seconds(value):
    """argparse type: a non-negative number of seconds, fractions allowed."""
    whole, _, fraction = value.partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        raise argparse.ArgumentTypeError("must be a number of seconds >= 0, got %r" % value)
    return float(value)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--server_host", default="localhost")
    parser.add_argument("--server_host_override", default="")
    parser.add_argument("--server_port", type=int, default=8080)
    parser.add_argument("--test_case", required=True)
    boolean_flag(parser, "--use_tls", "use TLS")
    boolean_flag(parser, "--use_test_ca", "trust the test CA ($GRPC_TEST_CA, else conformance/certs/ca.pem)")
    # Not standard: mutual TLS and call credentials (mtls_token and the runner's mtls runs).
    boolean_flag(parser, "--use_client_cert", "present the test client certificate ($GRPC_TEST_CLIENT_CERT / _KEY)")
    parser.add_argument("--bearer_token", default="", help="send authorization: Bearer TOKEN with every call")
    # rpc_soak and channel_soak, with the interop descriptions' defaults (see interop_soak.py).
    parser.add_argument("--soak_iterations", type=whole_number(1), default=10)
    parser.add_argument("--soak_max_failures", type=whole_number(0), default=0)
    parser.add_argument("--soak_per_iteration_max_acceptable_latency_ms", type=whole_number(0), default=1000)
    parser.add_argument(
        "--soak_overall_timeout_seconds", type=whole_number(1), default=None, help="default: max latency x iterations"
    )
    parser.add_argument("--soak_min_time_ms_between_rpcs", type=whole_number(0), default=0)
    parser.add_argument("--soak_num_threads", type=whole_number(1), default=1)
    parser.add_argument("--soak_request_size", type=whole_number(0), default=LARGE_REQUEST_SIZE)
    parser.add_argument("--soak_response_size", type=whole_number(0), default=LARGE_RESPONSE_SIZE)
    # long_lived_channel (seconds between calls) and concurrent_large_unary (calls at once).
    parser.add_argument("--iteration_interval", type=seconds, default=10.0)
    parser.add_argument("--concurrent_large_unary_calls", type=whole_number(1), default=1000)
    args = parser.parse_args()
    if args.test_case not in CASES:
        lines = ["unknown --test_case %s; supported test cases:" % json.dumps(args.test_case)]
        lines += ["  %s" % c for c in CASES]
        print("usage error: %s" % "\n".join(lines), file=sys.stderr, flush=True)
        sys.exit(2)
    if args.soak_overall_timeout_seconds is None:
        args.soak_overall_timeout_seconds = max(
            1, math.ceil(args.soak_per_iteration_max_acceptable_latency_ms * args.soak_iterations / 1000)
        )
    return args


def main():
    args = parse_args()
    arm_watchdog(args.test_case)
    try:
        with make_channel(args) as channel:
            if args.test_case in SOAK_CASES:
                SOAK_CASES[args.test_case](channel, args)
            elif args.test_case == "mtls_token":
                mtls_token(channel, args)
            else:
                globals()[args.test_case](TestServiceStub(channel))
    except SkipCase as e:
        print("SKIP: %s" % e, flush=True)
        sys.exit(3)
    except CheckFailed as e:
        print("FAIL: %s: %s" % (args.test_case, e), file=sys.stderr, flush=True)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - any other error fails the case, with its type
        print("FAIL: %s: %s: %s" % (args.test_case, type(e).__name__, e), file=sys.stderr, flush=True)
        sys.exit(1)
    print("PASS: %s" % args.test_case, flush=True)


if __name__ == "__main__":
    main()
