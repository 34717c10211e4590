// Named tracers switched on by gRPC's environment variables:
// GRPC_TRACE=connectivity,call (or "all") and GRPC_VERBOSITY=DEBUG|INFO|ERROR.

const enabled = new Set(
  (process.env["GRPC_TRACE"] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);
const all = enabled.has("all");

/** Logs `message()` under `tracer` when GRPC_TRACE names it; the message is built only then. */
export function trace(tracer: string, message: () => string): void {
  if (!all && !enabled.has(tracer)) return;
  process.stderr.write(`${new Date().toISOString()} | async-grpc ${tracer} | ${message()}\n`);
}

const verbosity = (process.env["GRPC_VERBOSITY"] ?? "ERROR").toUpperCase();

/** Logs a detail useful when debugging (only under GRPC_VERBOSITY=DEBUG). */
export function logDebug(message: string): void {
  if (verbosity !== "DEBUG") return;
  process.stderr.write(`${new Date().toISOString()} | async-grpc DEBUG | ${message}\n`);
}

/** Reports an error the library handled but the developer should see (GRPC_VERBOSITY=NONE silences it). */
export function logError(message: string, err?: unknown): void {
  if (verbosity === "NONE") return;
  const detail = err instanceof Error ? (err.stack ?? err.message) : err === undefined ? "" : String(err);
  process.stderr.write(`${new Date().toISOString()} | async-grpc ERROR | ${message}${detail ? `: ${detail}` : ""}\n`);
}
