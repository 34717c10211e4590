import type { SocketAddress } from "../transport/index.js";

/** A parsed channel target: where to connect and the default `:authority`. */
export interface Target {
  address: SocketAddress;
  authority: string;
}

export const DEFAULT_PORT = 443;

/**
 * Parses a gRPC target (doc/naming.md) of the built-in schemes into its first
 * address: `host:port`, `host`, `[v6]:port`, `dns:[//authority/]host[:port]`,
 * `ipv4:addr[:port][,...]`, `ipv6:[addr]:port[,...]`, `unix:path`,
 * `unix:///absolute/path`, `unix-abstract:name`. A channel resolves the whole target
 * (every address of a list, every record of a name); this is for tools that want one.
 */
export function parseTarget(target: string): Target {
  if (target.startsWith("unix:")) {
    let path = target.slice(5);
    if (path.startsWith("//")) path = path.slice(2);
    if (path === "") throw new TypeError(`Invalid target ${target}: empty unix socket path`);
    return { address: { path }, authority: "localhost" };
  }
  if (target.startsWith("unix-abstract:")) {
    return { address: { path: `\0${target.slice(14)}` }, authority: "localhost" };
  }
  let rest = target;
  let scheme = "";
  const m = /^([a-z][a-z0-9+.-]*):(.*)$/i.exec(target);
  if (m && ["dns", "ipv4", "ipv6"].includes(m[1]!.toLowerCase())) {
    scheme = m[1]!.toLowerCase();
    rest = m[2]!;
    if (scheme === "dns" && rest.startsWith("//")) {
      const slash = rest.indexOf("/", 2);
      rest = slash < 0 ? "" : rest.slice(slash + 1);
    }
    if (scheme !== "dns") rest = rest.split(",")[0]!;
  }
  const { host, port, portGiven } = splitHostPort(rest, target);
  if (host === "") throw new TypeError(`Invalid target ${target}: no host`);
  const authority = !portGiven ? hostForAuthority(host) : `${hostForAuthority(host)}:${port}`;
  return { address: { host, port }, authority };
}

/** `host[:port]` or `[v6][:port]`; the port defaults to 443. Throws naming `target`. */
export function splitHostPort(text: string, target: string): { host: string; port: number; portGiven: boolean } {
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw new TypeError(`Invalid target ${target}: unterminated [`);
    const host = text.slice(1, close);
    const after = text.slice(close + 1);
    if (after === "") return { host, port: DEFAULT_PORT, portGiven: false };
    if (!after.startsWith(":")) throw new TypeError(`Invalid target ${target}: unexpected ${after}`);
    return { host, port: parsePort(after.slice(1), target), portGiven: true };
  }
  const colons = text.split(":").length - 1;
  if (colons === 0) return { host: text, port: DEFAULT_PORT, portGiven: false };
  if (colons > 1) return { host: text, port: DEFAULT_PORT, portGiven: false }; // a bare IPv6 address
  const i = text.indexOf(":");
  return { host: text.slice(0, i), port: parsePort(text.slice(i + 1), target), portGiven: true };
}

function parsePort(text: string, target: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new TypeError(`Invalid target ${target}: bad port ${text}`);
  return port;
}

function hostForAuthority(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** One string per address (`host:port`, IPv6 bracketed; `unix:path`): subchannels are keyed by it. */
export function addressKey(address: SocketAddress): string {
  if ("path" in address) return address.path.startsWith("\0") ? `unix-abstract:${address.path.slice(1)}` : `unix:${address.path}`;
  return `${hostForAuthority(address.host)}:${address.port}`;
}
