// -H 'key: value' flags as request metadata: keys ending in -bin carry bytes, given in
// base64 (standard or URL-safe, padded or not), as grpcurl takes them.
import { UsageError } from "./args.js";

/** The `-H` flags as metadata pairs; throws UsageError for a malformed one. */
export function parseHeaders(flags: readonly string[]): [string, string | Uint8Array][] {
  return flags.map((flag) => {
    const colon = flag.indexOf(":");
    if (colon <= 0) throw new UsageError(`-H "${flag}": expected "key: value"`);
    const key = flag.slice(0, colon).trim().toLowerCase();
    const value = flag.slice(colon + 1).trim();
    if (!/^[0-9a-z_.-]+$/.test(key)) throw new UsageError(`-H "${flag}": "${key}" is not a valid metadata key`);
    if (key.startsWith("grpc-") || key.startsWith(":")) throw new UsageError(`-H "${flag}": "${key}" is reserved by gRPC`);
    if (!key.endsWith("-bin")) {
      if (!/^[\x20-\x7e]*$/.test(value)) throw new UsageError(`-H "${flag}": the value must be printable ASCII (use a -bin key for bytes)`);
      return [key, value];
    }
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) throw new UsageError(`-H "${flag}": the value of a -bin key is base64`);
    return [key, new Uint8Array(Buffer.from(value, value.includes("-") || value.includes("_") ? "base64url" : "base64"))];
  });
}
