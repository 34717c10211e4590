/**
 * The interop test cases this suite runs, in the order of the gRPC repository's
 * doc/interop-test-descriptions.md. Every client (ours and the peers) accepts exactly
 * these names for --test_case; every server implements the server features they need.
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
] as const;

export type CaseName = (typeof CASES)[number];

export function isCaseName(name: string): name is CaseName {
  return (CASES as readonly string[]).includes(name);
}
