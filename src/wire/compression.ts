import { constants as bufferConstants } from "node:buffer";
import * as zlib from "node:zlib";
import { RpcError } from "./rpc-error.js";
import { StatusCode } from "./status.js";

/**
 * A message compression algorithm named by `grpc-encoding` (gRPC doc/compression.md;
 * gRPC Python `grpc.Compression`). Each message is compressed on its own: the spec
 * keeps no compression context across messages.
 */
export interface Compressor {
  /** The `grpc-encoding` token, e.g. "gzip". */
  readonly name: string;
  compress(data: Uint8Array): Promise<Uint8Array>;
  /**
   * Decompresses one message, rejecting with RESOURCE_EXHAUSTED as soon as the output
   * would exceed `maxLength` bytes (negative or Infinity: no limit), and with INTERNAL
   * for corrupt input.
   */
  decompress(data: Uint8Array, maxLength: number): Promise<Uint8Array>;
}

const MAX_LENGTH = bufferConstants.MAX_LENGTH;

function tooLarge(maxLength: number, cause?: unknown): RpcError {
  return new RpcError(
    StatusCode.RESOURCE_EXHAUSTED,
    `Received message larger than max (decompressed size exceeds ${maxLength})`,
    cause === undefined ? undefined : { cause },
  );
}

// gRPC's -1 means no limit; so does anything at or above the largest possible Buffer.
function isUnlimited(maxLength: number): boolean {
  return maxLength < 0 || maxLength >= MAX_LENGTH;
}

/** The no-op encoding (gRPC Python `grpc.Compression.NoCompression`). */
export const identity: Compressor = {
  name: "identity",
  compress(data) {
    return Promise.resolve(data);
  },
  decompress(data, maxLength) {
    if (!isUnlimited(maxLength) && data.byteLength > maxLength) return Promise.reject(tooLarge(maxLength));
    return Promise.resolve(data);
  },
};

type ZlibFn = (buf: zlib.InputType, options: zlib.ZlibOptions, callback: zlib.CompressCallback) => void;

function zlibCompressor(name: string, compressFn: ZlibFn, decompressFn: ZlibFn): Compressor {
  return {
    name,
    compress(data) {
      return new Promise((resolve, reject) => {
        compressFn(data, {}, (err, result) => {
          if (err) reject(new RpcError(StatusCode.INTERNAL, `Failed to compress message with ${name}: ${err.message}`, { cause: err }));
          else resolve(result);
        });
      });
    },
    decompress(data, maxLength) {
      const unlimited = isUnlimited(maxLength);
      // zlib stops and fails as soon as its output passes maxOutputLength, so a small
      // compression bomb never inflates past the limit (plus one zlib chunk) in memory.
      // maxOutputLength must be >= 1, hence the check of the result below for a limit of 0.
      const options: zlib.ZlibOptions = unlimited ? {} : { maxOutputLength: Math.max(1, maxLength) };
      return new Promise((resolve, reject) => {
        decompressFn(data, options, (err, result) => {
          if (err) {
            if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") reject(tooLarge(maxLength, err));
            else reject(new RpcError(StatusCode.INTERNAL, `Failed to decompress message with ${name}: ${err.message}`, { cause: err }));
          } else if (!unlimited && result.byteLength > maxLength) {
            reject(tooLarge(maxLength));
          } else {
            resolve(result);
          }
        });
      });
    },
  };
}

/** gzip (RFC 1952) message compression (gRPC Python `grpc.Compression.Gzip`). */
export const gzip: Compressor = zlibCompressor("gzip", zlib.gzip, zlib.gunzip);

/** "deflate" as gRPC means it: the zlib format (RFC 1950), not raw deflate (gRPC Python `grpc.Compression.Deflate`). */
export const deflate: Compressor = zlibCompressor("deflate", zlib.deflate, zlib.inflate);

/** The encodings this library implements, in the order advertised. */
export const SUPPORTED_ENCODINGS: readonly string[] = Object.freeze(["identity", "deflate", "gzip"]);

/** The `grpc-accept-encoding` value advertising `SUPPORTED_ENCODINGS`. */
export const ACCEPT_ENCODING_HEADER = "identity,deflate,gzip";

/** The compressor for a `grpc-encoding` token (case-insensitive), or undefined when unsupported. */
export function getCompressor(name: string): Compressor | undefined {
  switch (name) {
    case "identity": return identity;
    case "gzip": return gzip;
    case "deflate": return deflate;
  }
  const lower = name.toLowerCase();
  return lower === name ? undefined : getCompressor(lower);
}

/** Splits a `grpc-accept-encoding` style list: comma-separated, trimmed, lower-cased, empty entries dropped. */
export function parseEncodingList(header: string | undefined): string[] {
  if (header === undefined) return [];
  const out: string[] = [];
  for (const part of header.split(",")) {
    const token = part.trim().toLowerCase();
    if (token !== "") out.push(token);
  }
  return out;
}
