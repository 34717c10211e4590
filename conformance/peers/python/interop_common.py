"""What the Python interop client and server share: paths, flags, the generated
messages and the values fixed by the gRPC repository's doc/interop-test-descriptions.md
(the same values as conformance/lib/interop.ts)."""

import argparse
import os
import sys

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
CONFORMANCE_DIR = os.path.dirname(os.path.dirname(HERE))
CERTS_DIR = os.path.join(CONFORMANCE_DIR, "certs")

# protoc --python_out output (scripts/generate.sh). Imported by file name rather than
# as grpc.testing.*, which would collide with grpcio's own `grpc` package.
sys.path.insert(0, os.path.join(HERE, "gen", "grpc", "testing"))
import empty_pb2  # noqa: E402
import messages_pb2  # noqa: E402

TEST_SERVICE = "grpc.testing.TestService"
UNIMPLEMENTED_SERVICE = "grpc.testing.UnimplementedService"

LARGE_REQUEST_SIZE = 271828
LARGE_RESPONSE_SIZE = 314159
CLIENT_STREAMING_SIZES = (27182, 8, 1828, 45904)
CLIENT_STREAMING_TOTAL = 74922
SERVER_STREAMING_SIZES = (31415, 9, 2653, 58979)
SERVER_COMPRESSED_STREAMING = ((31415, True), (92653, False))
PING_PONG_SIZES = ((27182, 31415), (8, 9), (1828, 2653), (45904, 58979))
CANCEL_AFTER_FIRST_RESPONSE_SIZES = (27182, 31415)
TIMEOUT_ON_SLEEPING_SERVER_PAYLOAD = 27182
TIMEOUT_ON_SLEEPING_SERVER_TIMEOUT_S = 0.001

ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
ECHO_INITIAL_VALUE = "test_initial_metadata_value"
ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"
ECHO_TRAILING_VALUE = b"\xab\xab\xab"

STATUS_CODE = 2  # UNKNOWN
STATUS_MESSAGE = "test status message"
SPECIAL_STATUS_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"

CASES = (
    "empty_unary",
    "large_unary",
    "client_compressed_unary",
    "server_compressed_unary",
    "client_streaming",
    "client_compressed_streaming",
    "server_streaming",
    "server_compressed_streaming",
    "ping_pong",
    "empty_stream",
    "timeout_on_sleeping_server",
    "cancel_after_begin",
    "cancel_after_first_response",
    "status_code_and_message",
    "special_status_message",
    "custom_metadata",
    "unimplemented_method",
    "unimplemented_service",
    "rpc_soak",
    "channel_soak",
    "long_lived_channel",
    "concurrent_large_unary",
    "mtls_token",
)

# The common name of conformance/certs/client1.pem: mtls_token's expected username.
TEST_CLIENT_COMMON_NAME = "async-grpc interop test client"

STATUS_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


class CheckFailed(Exception):
    """A client assertion that does not hold: the case fails with this message."""


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def check_equal(actual, expected, what):
    if actual != expected:
        raise CheckFailed("%s: expected %r, got %r" % (what, expected, actual))


def check_payload(p, size, what):
    body = p.body if p is not None else b""
    check_equal(len(body), size, "%s: payload body size" % what)
    check(body.count(0) == len(body), "%s: payload body is not all zeros" % what)
    check_equal(p.type, messages_pb2.COMPRESSABLE, "%s: payload type" % what)


def payload(size):
    """A COMPRESSABLE payload of `size` zero bytes."""
    return messages_pb2.Payload(type=messages_pb2.COMPRESSABLE, body=b"\x00" * size)


def boolean(value):
    """argparse type for the interop flags' BOOLEAN values; a bare flag means true."""
    lowered = str(value).lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError("must be true or false, got %r" % value)


def boolean_flag(parser, name, help_text):
    parser.add_argument(name, nargs="?", const=True, default=False, type=boolean, help=help_text)


def test_ca_file():
    return os.environ.get("GRPC_TEST_CA") or os.path.join(CERTS_DIR, "ca.pem")


def server_cert_file():
    return os.environ.get("GRPC_TEST_SERVER_CERT") or os.path.join(CERTS_DIR, "server1.pem")


def server_key_file():
    return os.environ.get("GRPC_TEST_SERVER_KEY") or os.path.join(CERTS_DIR, "server1.key")


def client_cert_file():
    return os.environ.get("GRPC_TEST_CLIENT_CERT") or os.path.join(CERTS_DIR, "client1.pem")


def client_key_file():
    return os.environ.get("GRPC_TEST_CLIENT_KEY") or os.path.join(CERTS_DIR, "client1.key")


def read_file(path, what):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise SystemExit("%s not readable: %s: %s" % (what, path, e.strerror))


def host_port(host, port):
    return "[%s]:%d" % (host, port) if ":" in host and not host.startswith("[") else "%s:%d" % (host, port)
