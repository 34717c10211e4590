#!/usr/bin/python3
"""grpcio side of the rich-status interop test (test/status/interop.test.ts).

  rich_status_peer.py server   serves /testing.Echo/Unary, which always fails with a
                               rich status (as grpc_status.rpc_status.to_status and
                               context.abort_with_status do); prints "PORT <n>", then
                               runs until stdin closes.
  rich_status_peer.py client T calls /testing.Echo/Unary on T and prints, as JSON, the
                               status code and details and the google.rpc.Status read
                               from grpc-status-details-bin (as rpc_status.from_call
                               does), with its details unpacked.

grpc_status is not packaged for Debian; what it does is a few lines, repeated here."""

import collections
import json
import sys
from concurrent import futures

import grpc

from peer_protos import error_details_pb2, status_pb2

DETAILS_KEY = "grpc-status-details-bin"
METHOD = "/testing.Echo/Unary"


class _Status(collections.namedtuple("_Status", ("code", "details", "trailing_metadata")), grpc.Status):
    pass


def code_of(number):
    for code in grpc.StatusCode:
        if code.value[0] == number:
            return code
    raise ValueError("Invalid status code %s" % number)


def to_status(rich):
    return _Status(code_of(rich.code), rich.message, ((DETAILS_KEY, rich.SerializeToString()),))


def rich_error():
    rich = status_pb2.Status(code=grpc.StatusCode.FAILED_PRECONDITION.value[0], message="from grpcio: précondition ✓")
    info = error_details_pb2.ErrorInfo(reason="PY_REASON", domain="grpcio.example", metadata={"k": "v"})
    violations = error_details_pb2.PreconditionFailure(
        violations=[error_details_pb2.PreconditionFailure.Violation(type="TOS", subject="python", description="not accepted")]
    )
    retry = error_details_pb2.RetryInfo()
    retry.retry_delay.seconds = 3
    retry.retry_delay.nanos = 500
    for detail in (info, violations, retry):
        rich.details.add().Pack(detail)
    return rich


def serve():
    def unary(request, context):
        context.abort_with_status(to_status(rich_error()))

    handler = grpc.method_handlers_generic_handler(
        "testing.Echo", {"Unary": grpc.unary_unary_rpc_method_handler(unary)}
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print("PORT %d" % port, flush=True)
    sys.stdin.read()
    server.stop(None)


def call(target):
    with grpc.insecure_channel(target) as channel:
        unary = channel.unary_unary(METHOD)
        try:
            unary(b"", timeout=10)
            print(json.dumps({"ok": True}))
            return
        except grpc.RpcError as err:
            out = {"code": err.code().name, "details": err.details()}
            for key, value in err.trailing_metadata() or ():
                if key != DETAILS_KEY:
                    continue
                rich = status_pb2.Status.FromString(value)
                out["status"] = {"code": rich.code, "message": rich.message, "details": []}
                for any_detail in rich.details:
                    for cls in (error_details_pb2.ErrorInfo, error_details_pb2.BadRequest, error_details_pb2.RetryInfo, error_details_pb2.DebugInfo):
                        if any_detail.Is(cls.DESCRIPTOR):
                            message = cls()
                            any_detail.Unpack(message)
                            out["status"]["details"].append({"type": cls.DESCRIPTOR.full_name, "text": str(message)})
            print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve()
    else:
        call(sys.argv[2])
