"""The grpcio client's cases made of many large_unary calls: rpc_soak, channel_soak,
long_lived_channel and concurrent_large_unary. The rules, the log lines and the summary
are those of conformance/lib/soak.ts (the TypeScript clients'); see its header for the
interop descriptions' soak rules. Here soak_num_threads workers are real threads
sharing grpcio's synchronous API (a channel is safe to use from several threads)."""

import json
import math
import sys
import threading
import time

import grpc

from interop_common import (
    LARGE_REQUEST_SIZE,
    LARGE_RESPONSE_SIZE,
    TEST_SERVICE,
    CheckFailed,
    check_payload,
    messages_pb2,
    payload,
)

# grpcio's client API does not tell a call's peer address.
UNKNOWN_PEER = "unknown"


def log(line):
    print(line, file=sys.stderr, flush=True)


def _ms(seconds):
    """Whole milliseconds, rounded half up like the TypeScript clients' Math.round."""
    return int(seconds * 1000 + 0.5)


def describe_failure(error):
    if isinstance(error, grpc.RpcError):
        code = error.code()
        return "%s (%d): %s" % (code.name, code.value[0], json.dumps(error.details()))
    if isinstance(error, CheckFailed):
        return str(error)
    return "%s: %s" % (type(error).__name__, error)


class LargeUnaryChannel:
    """One channel as these cases use it: UnaryCall with payloads of given sizes.
    Requests are kept by size, so concurrent_large_unary builds one request only."""

    def __init__(self, channel, owned):
        self._channel = channel
        self._owned = owned
        self._requests = {}
        self._unary_call = channel.unary_unary(
            "/%s/UnaryCall" % TEST_SERVICE,
            request_serializer=messages_pb2.SimpleRequest.SerializeToString,
            response_deserializer=messages_pb2.SimpleResponse.FromString,
        )

    def _request(self, request_size, response_size):
        key = (request_size, response_size)
        if key not in self._requests:
            self._requests[key] = messages_pb2.SimpleRequest(
                response_type=messages_pb2.COMPRESSABLE,
                response_size=response_size,
                payload=payload(request_size),
            )
        return self._requests[key]

    def unary_call(self, request_size, response_size, timeout=None):
        """One call; returns the peer once the response is in and checked, raises
        grpc.RpcError or CheckFailed otherwise."""
        response = self._unary_call(self._request(request_size, response_size), timeout=timeout)
        check_payload(response.payload, response_size, "UnaryCall response")
        return UNKNOWN_PEER

    def start(self, request_size, response_size):
        """Starts a call; its future's result() is the response."""
        return self._unary_call.future(self._request(request_size, response_size))

    def close(self):
        if self._owned:
            self._channel.close()


def _close_quietly(channel):
    try:
        channel.close()
    except Exception as e:  # noqa: BLE001 - a failed close is logged, not judged
        log("closing a channel failed: %s" % describe_failure(e))


def _percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    return sorted_values[max(0, math.ceil(p / 100.0 * len(sorted_values)) - 1)]


def run_soak(soak, reset_channel, server_uri, open_channel):
    """rpc_soak (reset_channel False) or channel_soak (True); raises CheckFailed when
    the test fails. `soak` holds the soak_* flags; open_channel() makes a
    LargeUnaryChannel."""
    overall_deadline = time.monotonic() + soak.soak_overall_timeout_seconds
    max_latency_ms = soak.soak_per_iteration_max_acceptable_latency_ms
    shared = None if reset_channel else open_channel()
    results = []
    lock = threading.Lock()

    def iterate(worker, i):
        began = time.monotonic()
        channel = shared
        peer = UNKNOWN_PEER
        failure = None
        try:
            if channel is None:
                channel = open_channel()
            remaining = max(0.0, overall_deadline - time.monotonic())
            peer = channel.unary_call(soak.soak_request_size, soak.soak_response_size, timeout=remaining)
        except Exception as e:  # noqa: BLE001 - every failure of an iteration is recorded
            failure = describe_failure(e)
        latency = time.monotonic() - began
        # channel_soak: the channel's teardown is not part of the latency.
        if reset_channel and channel is not None:
            _close_quietly(channel)
        if failure is None and latency * 1000 > max_latency_ms:
            failure = "%d ms exceeds max acceptable latency: %d ms" % (_ms(latency), max_latency_ms)
        with lock:
            results.append((failure is None, latency * 1000))
        head = "Worker %d: soak iteration: %d elapsed_ms: %d peer: %s" % (worker, i, _ms(latency), peer)
        log("%s succeeded" % head if failure is None else "%s failed: %s" % (head, failure))

    def work(worker, count):
        for i in range(count):
            if time.monotonic() >= overall_deadline:
                log(
                    "Worker %d: overall timeout of %d s reached after %d of %d iterations, stopping"
                    % (worker, soak.soak_overall_timeout_seconds, i, count)
                )
                return
            earliest_next_start = time.monotonic() + soak.soak_min_time_ms_between_rpcs / 1000.0
            iterate(worker, i)
            if i + 1 < count:
                time.sleep(max(0.0, min(earliest_next_start, overall_deadline) - time.monotonic()))

    total, threads = soak.soak_iterations, soak.soak_num_threads
    workers = [
        threading.Thread(target=work, args=(w, total // threads + (1 if w < total % threads else 0)), daemon=True)
        for w in range(threads)
    ]
    try:
        for t in workers:
            t.start()
        # Each RPC ends by the overall deadline (its timeout), so the workers do too.
        for t in workers:
            t.join()
    finally:
        if shared is not None:
            _close_quietly(shared)

    ran = len(results)
    failures = sum(1 for ok, _ in results if not ok)
    latencies = sorted(ms for _, ms in results)
    latency_text = (
        "median_soak_iteration_latency: %d ms. 90th_soak_iteration_latency: %d ms. "
        "worst_soak_iteration_latency: %d ms."
        % (
            _ms(_percentile(latencies, 50) / 1000),
            _ms(_percentile(latencies, 90) / 1000),
            _ms((latencies[-1] if latencies else 0) / 1000),
        )
    )
    server = "(server_uri: %s)" % server_uri
    breakdown = "See breakdown above for which iterations succeeded, failed, and why for more info."
    if ran < total:
        log(
            "%s soak test consumed all %d seconds of time and quit early, only having ran %d out of desired %d "
            "iterations. total_failures: %d. max_failures_threshold: %d. %s Some or all of the iterations that did "
            "run were unexpectedly slow. %s"
            % (server, soak.soak_overall_timeout_seconds, ran, total, failures, soak.soak_max_failures,
               latency_text, breakdown)
        )
        raise CheckFailed(
            "soak test ran %d of %d iterations within %d s (%d failed)"
            % (ran, total, soak.soak_overall_timeout_seconds, failures)
        )
    within = failures <= soak.soak_max_failures
    log(
        "%s soak test ran: %d iterations. total_failures: %d %s max_failures_threshold: %d. %s %s"
        % (server, total, failures, "is within" if within else "exceeds", soak.soak_max_failures,
           latency_text, breakdown)
    )
    if not within:
        raise CheckFailed(
            "soak test: %d of %d iterations failed, more than --soak_max_failures=%d"
            % (failures, total, soak.soak_max_failures)
        )


def run_long_lived_channel(iterations, interval_seconds, channel):
    """iterations large_unary calls on one channel, interval_seconds apart (from the
    end of one to the start of the next); fails if any failed."""
    failures = 0
    try:
        for i in range(iterations):
            if i > 0:
                time.sleep(interval_seconds)
            began = time.monotonic()
            try:
                peer = channel.unary_call(LARGE_REQUEST_SIZE, LARGE_RESPONSE_SIZE)
                outcome = "peer: %s succeeded" % peer
            except Exception as e:  # noqa: BLE001 - every failed call is counted
                failures += 1
                outcome = "failed: %s" % describe_failure(e)
            log("long_lived_channel iteration: %d elapsed_ms: %d %s" % (i, _ms(time.monotonic() - began), outcome))
    finally:
        _close_quietly(channel)
    if failures > 0:
        raise CheckFailed(
            "%d of %d large_unary calls failed on one channel (%g s apart)" % (failures, iterations, interval_seconds)
        )


def run_concurrent_large_unary(channel, count):
    """count large_unary calls started at once on one channel; every one must succeed
    with the right response."""
    began = time.monotonic()
    try:
        calls = [channel.start(LARGE_REQUEST_SIZE, LARGE_RESPONSE_SIZE) for _ in range(count)]
        failed = []
        for i, call in enumerate(calls):
            try:
                check_payload(call.result().payload, LARGE_RESPONSE_SIZE, "UnaryCall response")
            except Exception as e:  # noqa: BLE001 - every failed call is counted
                failed.append((i, describe_failure(e)))
    finally:
        _close_quietly(channel)
    log(
        "concurrent_large_unary: %d of %d calls succeeded in %d ms"
        % (count - len(failed), count, _ms(time.monotonic() - began))
    )
    for i, why in failed[:5]:
        log("concurrent_large_unary: call %d failed: %s" % (i, why))
    if failed:
        raise CheckFailed(
            "%d of %d concurrent large_unary calls failed; call %d: %s" % (len(failed), count, failed[0][0], failed[0][1])
        )
