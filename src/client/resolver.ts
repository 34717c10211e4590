import { isIP } from "node:net";
import type { ChannelOptions, SocketAddress } from "../transport/index.js";
import { dnsResolver } from "./dns-resolver.js";
import { splitHostPort } from "./target.js";

/** A channel target split as gRPC's naming doc does: `scheme:[//authority/]path`. */
export interface TargetUri {
  readonly scheme: string;
  /** The part between `//` and the next `/`, "" when absent (e.g. the DNS server of `dns://8.8.8.8/host`). */
  readonly authority: string;
  /** Everything after the scheme (and authority): `host:port`, a socket path, an address list... */
  readonly path: string;
  /** The target as the user wrote it, for error messages. */
  readonly original: string;
}

/** One resolution: the addresses to balance over and, optionally, a service config. */
export interface ResolverResult {
  readonly addresses: readonly SocketAddress[];
  /** A service config as JSON text or as the parsed object; undefined keeps the channel's default. */
  readonly serviceConfig?: string | object;
}

/** Where a resolver reports: a new result each time the addresses (or config) change, or an error. */
export interface ResolverListener {
  update(result: ResolverResult): void;
  error(error: Error): void;
}

/**
 * A name resolver for one channel (grpc-js `Resolver`; gRPC Python has no public
 * resolver API). The channel makes it when it is made (a factory that throws refuses
 * the target) and calls `resolveNow()` when it first needs addresses, and again as a
 * hint when a connection dropped (a resolver may rate-limit those). It reports
 * through its listener whenever it likes; `close()` stops it for good.
 */
export interface Resolver {
  resolveNow(): void;
  close(): void;
}

/** Makes the resolver of one channel; throwing refuses the target (the channel constructor rethrows). */
export type ResolverFactory = (target: TargetUri, listener: ResolverListener, options: ChannelOptions) => Resolver;

interface Registration {
  factory: ResolverFactory;
  defaultAuthority: (target: TargetUri) => string;
}

let registry: Map<string, Registration> | undefined;

// Built lazily, so that importing the library registers nothing (no import-time side effects).
function resolvers(): Map<string, Registration> {
  if (registry !== undefined) return registry;
  const r = new Map<string, Registration>();
  registry = r;
  const firstOfList = (t: TargetUri) => t.path.split(",")[0]!;
  const localhost = () => "localhost";
  r.set("dns", { factory: dnsResolver, defaultAuthority: (t) => t.path });
  r.set("ipv4", { factory: (target, listener) => ipList(4, target, listener), defaultAuthority: firstOfList });
  r.set("ipv6", { factory: (target, listener) => ipList(6, target, listener), defaultAuthority: firstOfList });
  r.set("unix", {
    factory: (target, listener) => {
      if (target.authority !== "") throw new TypeError(`Invalid target ${target.original}: unix: takes no authority (use unix:///absolute/path)`);
      if (target.path === "") throw new TypeError(`Invalid target ${target.original}: empty unix socket path`);
      return new StaticResolver([{ path: target.path }], listener);
    },
    defaultAuthority: localhost,
  });
  r.set("unix-abstract", {
    factory: (target, listener) => {
      if (target.path === "") throw new TypeError(`Invalid target ${target.original}: empty abstract socket name`);
      return new StaticResolver([{ path: `\0${target.path}` }], listener);
    },
    defaultAuthority: localhost,
  });
  return r;
}

/**
 * Registers the resolver for targets `scheme:...` (grpc-js `registerResolver`; gRPC
 * Python has no equivalent). A later registration of the same scheme replaces the
 * earlier one; channels already made keep theirs. `defaultAuthority` gives the
 * `:authority` of calls when no option overrides it (the target's path by default).
 */
export function registerResolver(scheme: string, factory: ResolverFactory, options?: { defaultAuthority?: (target: TargetUri) => string }): void {
  const key = scheme.toLowerCase();
  if (!/^[a-z][a-z0-9+.-]*$/.test(key)) throw new TypeError(`Invalid resolver scheme ${scheme}`);
  resolvers().set(key, { factory, defaultAuthority: options?.defaultAuthority ?? ((t) => t.path) });
}

/**
 * Splits `target` into scheme, authority and path. A target whose scheme has no
 * resolver (`localhost:50051`, `[::1]:7`, `10.0.0.1:80`) is a `dns:` path, as gRPC does.
 */
export function parseTargetUri(target: string): TargetUri {
  const m = /^([a-z][a-z0-9+.-]*):(.*)$/is.exec(target);
  if (m !== null && resolvers().has(m[1]!.toLowerCase())) {
    const scheme = m[1]!.toLowerCase();
    let rest = m[2]!;
    let authority = "";
    // unix:///abs/path is unix: with an empty authority; unix://x is not a thing gRPC accepts.
    if (rest.startsWith("//")) {
      const slash = rest.indexOf("/", 2);
      if (slash < 0) throw new TypeError(`Invalid target ${target}: no path after the authority`);
      authority = rest.slice(2, slash);
      rest = scheme === "unix" ? rest.slice(slash) : rest.slice(slash + 1);
    }
    return { scheme, authority, path: rest, original: target };
  }
  return { scheme: "dns", authority: "", path: target, original: target };
}

/** @internal The resolver and default authority for a parsed target. */
export function resolverFor(uri: TargetUri): Registration {
  const registration = resolvers().get(uri.scheme);
  if (registration === undefined) throw new TypeError(`Invalid target ${uri.original}: no resolver for scheme ${uri.scheme}`);
  return registration;
}

/** A resolver whose addresses never change: IP literal lists and unix sockets. */
class StaticResolver implements Resolver {
  private closed = false;
  private reported = false;

  constructor(
    private readonly addresses: SocketAddress[],
    private readonly listener: ResolverListener,
  ) {}

  resolveNow(): void {
    // Once: the addresses cannot change, so asking again gives nothing new.
    if (this.reported) return;
    this.reported = true;
    queueMicrotask(() => {
      if (!this.closed) this.listener.update({ addresses: this.addresses });
    });
  }

  close(): void {
    this.closed = true;
  }
}

function ipList(family: 4 | 6, target: TargetUri, listener: ResolverListener): Resolver {
  if (target.authority !== "") throw new TypeError(`Invalid target ${target.original}: ipv${family}: takes no authority`);
  const addresses = target.path.split(",").map((part) => {
    const { host, port, portGiven } = splitHostPort(part, target.original);
    if (isIP(host) !== family) throw new TypeError(`Invalid target ${target.original}: ${host} is not an IPv${family} address`);
    if (family === 6 && portGiven && !part.startsWith("[")) throw new TypeError(`Invalid target ${target.original}: bracket IPv6 addresses ([${host}]:port)`);
    return { host, port };
  });
  return new StaticResolver(addresses, listener);
}

