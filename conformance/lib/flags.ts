/**
 * Command-line flags in the style the interop descriptions use: `--name=value`,
 * `--name value`, and for booleans a bare `--name` (true) or `--name=false`.
 * Unknown flags are an error, so a typo never silently changes a test.
 */
export type FlagSpec = Record<string, "string" | "boolean">;

export type Flags<S extends FlagSpec> = {
  [K in keyof S]?: S[K] extends "boolean" ? boolean : string;
};

export class FlagError extends Error {
  override name = "FlagError";
}

export function parseFlags<S extends FlagSpec>(argv: readonly string[], spec: S): Flags<S> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new FlagError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const kind = spec[name];
    if (kind === undefined) {
      throw new FlagError(`unknown flag --${name} (known: ${Object.keys(spec).map((k) => `--${k}`).join(" ")})`);
    }
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (kind === "boolean") {
      if (value === undefined && (argv[i + 1] === "true" || argv[i + 1] === "false")) value = argv[++i];
      out[name] = parseBoolean(name, value ?? "true");
    } else {
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) throw new FlagError(`--${name} needs a value`);
      }
      out[name] = value;
    }
  }
  return out as Flags<S>;
}

function parseBoolean(name: string, value: string): boolean {
  switch (value.toLowerCase()) {
    case "true":
    case "1":
    case "yes":
      return true;
    case "false":
    case "0":
    case "no":
      return false;
    default:
      throw new FlagError(`--${name} must be true or false, got ${JSON.stringify(value)}`);
  }
}

export function parsePort(name: string, value: string | undefined): number {
  const port = Number(value);
  if (value === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new FlagError(`--${name} must be a port number, got ${JSON.stringify(value)}`);
  }
  return port;
}

/** The client flags of the interop descriptions (the cloud-to-prod auth flags are not supported). */
export const CLIENT_FLAGS = {
  server_host: "string",
  server_host_override: "string",
  server_port: "string",
  test_case: "string",
  use_tls: "boolean",
  use_test_ca: "boolean",
} as const satisfies FlagSpec;

/**
 * The server flags of the interop descriptions, plus `--host` (not standard): the
 * address to bind, default 127.0.0.1, so the suite listens on loopback only.
 */
export const SERVER_FLAGS = {
  port: "string",
  use_tls: "boolean",
  host: "string",
} as const satisfies FlagSpec;

export interface ClientConfig {
  serverHost: string;
  serverPort: number;
  /** --server_host_override: the TLS name to verify and the :authority to send. */
  serverHostOverride: string | undefined;
  testCase: string;
  useTls: boolean;
  useTestCa: boolean;
}

export function parseClientFlags(argv: readonly string[]): ClientConfig {
  const f = parseFlags(argv, CLIENT_FLAGS);
  if (f.test_case === undefined) throw new FlagError("--test_case is required");
  return {
    serverHost: f.server_host ?? "localhost",
    serverPort: parsePort("server_port", f.server_port ?? "8080"),
    serverHostOverride: f.server_host_override || undefined,
    testCase: f.test_case,
    useTls: f.use_tls ?? false,
    useTestCa: f.use_test_ca ?? false,
  };
}

export interface ServerConfig {
  host: string;
  port: number;
  useTls: boolean;
}

export function parseServerFlags(argv: readonly string[]): ServerConfig {
  const f = parseFlags(argv, SERVER_FLAGS);
  return {
    host: f.host ?? "127.0.0.1",
    port: parsePort("port", f.port ?? "8080"),
    useTls: f.use_tls ?? false,
  };
}

/** `host:port`, with brackets around an IPv6 literal. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}
