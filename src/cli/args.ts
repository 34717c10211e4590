// The command line, parsed with node:util's parseArgs: the command, its positional
// arguments and the flags, checked before anything connects, so that a mistake is one
// clear line and exit code 2 (UsageError), never a stack trace.
import { parseArgs } from "node:util";

/** A mistake in the command line or in an input file: one line on stderr, exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export type Command = "list" | "describe" | "call" | "health";
export const COMMANDS: readonly Command[] = ["list", "describe", "call", "health"];

export type Format = "json" | "text";

/** Everything the command line says, typed and checked. */
export interface CliArgs {
  command: Command;
  target: string;
  /** list: the service; describe: the symbol; call: the method; health: the service. */
  name: string | undefined;
  plaintext: boolean;
  insecure: boolean;
  cacert: string | undefined;
  cert: string | undefined;
  key: string | undefined;
  authority: string | undefined;
  servername: string | undefined;
  headers: string[];
  maxTimeMs: number | undefined;
  connectTimeoutMs: number;
  maxMsgSz: number | undefined;
  compression: string | undefined;
  protos: string[];
  importPaths: string[];
  protosets: string[];
  /** `-d`: the request text, "@" for stdin, undefined for one empty request. */
  data: string | undefined;
  verbose: boolean;
  emitDefaults: boolean;
  format: Format;
  watch: boolean;
}

const OPTIONS = {
  plaintext: { type: "boolean" },
  insecure: { type: "boolean" },
  cacert: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  authority: { type: "string" },
  servername: { type: "string" },
  header: { type: "string", short: "H", multiple: true },
  "max-time": { type: "string" },
  "connect-timeout": { type: "string" },
  "max-msg-sz": { type: "string" },
  compression: { type: "string" },
  proto: { type: "string", multiple: true },
  "import-path": { type: "string", multiple: true },
  protoset: { type: "string", multiple: true },
  data: { type: "string", short: "d" },
  verbose: { type: "boolean", short: "v" },
  "emit-defaults": { type: "boolean" },
  format: { type: "string" },
  watch: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

export const USAGE = `Usage: async-grpc <command> <target> [args] [flags]

Commands:
  list <target> [service]             the services, or the methods of one service
  describe <target> [symbol]          a service, method, message or enum as .proto source
  call <target> <pkg.Service/Method>  call a method; requests from -d, responses as JSON lines
  health <target> [service]           the health check (exit codes as grpc_health_probe)

Schema (default: server reflection, v1 then v1alpha):
  --proto FILE          .proto file to load (repeatable); --import-path DIR (repeatable)
  --protoset FILE       a FileDescriptorSet (protoc --include_imports -o FILE)

Connection:
  --plaintext           no TLS (the default is TLS)
  --insecure            TLS without verifying the server's certificate
  --cacert FILE         trust this CA;  --cert FILE --key FILE: client certificate (mTLS)
  --authority NAME      the :authority of each call
  --servername NAME     the name the server's certificate must match
  -H 'key: value'       request metadata (repeatable; values of -bin keys in base64)
  --max-time SECONDS    deadline of the whole operation
  --connect-timeout SECONDS   time to connect (default 10)
  --max-msg-sz BYTES    largest response message accepted
  --compression gzip    compress requests

Call:
  -d JSON | -d @        request(s); @ reads stdin, several messages one after another
  -v                    print response headers and trailers (on stderr)
  --emit-defaults       print fields at their default value
  --format json|text    protobuf JSON (default) or text format, in and out
Health:
  --watch               stream status changes (Watch) until the server ends it
`;

function seconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} takes a positive number of seconds, not "${value}"`);
  return Math.round(n * 1000);
}

/** Parses `argv` (without node and the script); throws UsageError, or returns "help" / "version". */
export function parseCliArgs(argv: readonly string[]): CliArgs | "help" | "version" {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs's messages are one line and name the flag; its hint about "--" is noise here.
    const message = err instanceof Error ? err.message.split(/\. To specify|\n/)[0]! : String(err);
    throw new UsageError(message);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return "help";
  if (v.version) return "version";
  const [command, target, name, ...extra] = positionals;
  if (command === undefined) throw new UsageError("no command: async-grpc list|describe|call|health <target> ... (--help for more)");
  if (!(COMMANDS as readonly string[]).includes(command)) throw new UsageError(`unknown command "${command}" (one of ${COMMANDS.join(", ")})`);
  if (target === undefined) throw new UsageError(`${command}: no target (host:port)`);
  if (extra.length > 0) throw new UsageError(`${command}: unexpected argument "${extra[0]}"`);
  if (command === "call" && name === undefined) throw new UsageError("call: no method (package.Service/Method)");
  if (v.plaintext && (v.insecure || v.cacert !== undefined || v.cert !== undefined || v.key !== undefined || v.servername !== undefined)) {
    throw new UsageError("--plaintext cannot go with --insecure, --cacert, --cert, --key or --servername");
  }
  if ((v.cert === undefined) !== (v.key === undefined)) throw new UsageError("--cert and --key go together");
  const format = v.format ?? "json";
  if (format !== "json" && format !== "text") throw new UsageError(`--format is json or text, not "${format}"`);
  let maxMsgSz: number | undefined;
  if (v["max-msg-sz"] !== undefined) {
    maxMsgSz = Number(v["max-msg-sz"]);
    if (!Number.isSafeInteger(maxMsgSz) || maxMsgSz <= 0) throw new UsageError(`--max-msg-sz takes a positive number of bytes, not "${v["max-msg-sz"]}"`);
  }
  if (v.compression !== undefined && !["gzip", "deflate", "identity"].includes(v.compression)) {
    throw new UsageError(`--compression is gzip, deflate or identity, not "${v.compression}"`);
  }
  if (v.proto !== undefined && v.protoset !== undefined) throw new UsageError("--proto and --protoset cannot go together");
  if (v.data !== undefined && command !== "call") throw new UsageError(`-d is for call, not ${command}`);
  if (v.watch && command !== "health") throw new UsageError(`--watch is for health, not ${command}`);
  return {
    command: command as Command,
    target,
    name,
    plaintext: v.plaintext ?? false,
    insecure: v.insecure ?? false,
    cacert: v.cacert,
    cert: v.cert,
    key: v.key,
    authority: v.authority,
    servername: v.servername,
    headers: v.header ?? [],
    maxTimeMs: seconds("max-time", v["max-time"]),
    connectTimeoutMs: seconds("connect-timeout", v["connect-timeout"]) ?? 10_000,
    maxMsgSz,
    compression: v.compression,
    protos: v.proto ?? [],
    importPaths: v["import-path"] ?? [],
    protosets: v.protoset ?? [],
    data: v.data,
    verbose: v.verbose ?? false,
    emitDefaults: v["emit-defaults"] ?? false,
    format,
    watch: v.watch ?? false,
  };
}
