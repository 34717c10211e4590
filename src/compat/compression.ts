/**
 * Compression algorithms by gRPC Python's names (`grpc.Compression`), for wherever a
 * compression name is taken: `{ compression: Compression.Gzip }` in call options, a
 * channel's or a server's `compression`, `context.setCompression(Compression.Deflate)`.
 */
export const Compression = {
  NoCompression: "identity",
  Deflate: "deflate",
  Gzip: "gzip",
} as const;

/** One of the names in `Compression`. */
export type Compression = (typeof Compression)[keyof typeof Compression];
