/**
 * Whether a `content-type` names gRPC over HTTP/2: "application/grpc",
 * "application/grpc+proto", "application/grpc;..." (PROTOCOL-HTTP2.md), but not
 * "application/grpc-web" and its variants, which are another protocol.
 */
export function isGrpcContentType(value: string | string[] | undefined): boolean {
  if (typeof value !== "string" || !value.startsWith("application/grpc")) return false;
  const next = value.charCodeAt(16);
  return Number.isNaN(next) || next === 0x2b || next === 0x3b;
}
