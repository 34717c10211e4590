/**
 * The interop test cases this suite runs: every client case of the gRPC repository's
 * doc/interop-test-descriptions.md that needs neither cloud credentials nor ORCA. Every
 * client (ours and the peers) accepts exactly these names for --test_case, and answers
 * any other name with the list below and exit code 2; every server implements the
 * server features they need. The last four are the descriptions' soak and
 * experimental cases (lib/soak.ts, conformance/README.md); `mtls_token` is ours
 * (MTLS_ONLY_CASES).
 */
export const CASES = [
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
] as const;

/**
 * Not from the descriptions: cases for the mutual-TLS + bearer-token runs only (the
 * runner's "mtls" mode, where servers require a client certificate and the token).
 * `mtls_token`: UnaryCall with fill_username on a channel with the client certificate
 * and the token must answer the certificate's common name as username; the same call
 * without the token must fail with UNAUTHENTICATED.
 */
export const MTLS_ONLY_CASES: readonly CaseName[] = ["mtls_token"];

export type CaseName = (typeof CASES)[number];

export function isCaseName(name: string): name is CaseName {
  return (CASES as readonly string[]).includes(name);
}

/** The usage error for a --test_case that is not in CASES, listing the supported ones. */
export function unknownCaseMessage(name: string): string {
  return [`unknown --test_case ${JSON.stringify(name)}; supported test cases:`, ...CASES.map((c) => `  ${c}`)].join("\n");
}
