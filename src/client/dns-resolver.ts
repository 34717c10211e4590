import { promises as dns } from "node:dns";
import { isIP } from "node:net";
import { hostname } from "node:os";
import {
  Backoff,
  booleanOption,
  numberOption,
  OPT_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS,
  OPT_SERVICE_CONFIG_DISABLE_RESOLUTION,
  trace,
  type ChannelOptions,
  type SocketAddress,
} from "../transport/index.js";
import type { Resolver, ResolverListener, TargetUri } from "./resolver.js";
import { splitHostPort } from "./target.js";

/** gRPC's default: a DNS name is re-resolved at most this often, however often connections drop. */
const DEFAULT_MIN_TIME_BETWEEN_RESOLUTIONS_MS = 30_000;
// A TXT answer only adds a service config; a slow DNS server must not hold up connecting for long.
const TXT_TIMEOUT_MS = 1000;

/**
 * The `dns:` resolver (gRPC's default): every A and AAAA record of the name. Without
 * an authority it asks the system (`getaddrinfo`, so `/etc/hosts` counts); with
 * `dns://server[:port]/name` it asks that server. Unless
 * `grpc.service_config_disable_resolution` is set, the TXT record
 * `_grpc_config.<name>` may carry a service config (gRPC's `grpc_config=` format).
 */
export function dnsResolver(target: TargetUri, listener: ResolverListener, options: ChannelOptions): Resolver {
  const { host, port } = splitHostPort(target.path, target.original);
  if (host === "") throw new TypeError(`Invalid target ${target.original}: no host`);
  return new DnsResolver(host, port, target.authority, listener, options);
}

class DnsResolver implements Resolver {
  private readonly minIntervalMs: number;
  private readonly txt: boolean;
  private readonly server: dns.Resolver | undefined;
  private readonly backoff = new Backoff({ initialBackoffMs: 1000, maxBackoffMs: 120_000 });
  private lastStartedAt = Number.NEGATIVE_INFINITY;
  private inFlight = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    authority: string,
    private readonly listener: ResolverListener,
    options: ChannelOptions,
  ) {
    this.minIntervalMs = numberOption(options, OPT_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS, DEFAULT_MIN_TIME_BETWEEN_RESOLUTIONS_MS);
    const literal = isIP(host) !== 0;
    this.txt = !literal && host !== "localhost" && !booleanOption(options, OPT_SERVICE_CONFIG_DISABLE_RESOLUTION, false);
    if (authority !== "" && !literal) {
      this.server = new dns.Resolver();
      try {
        this.server.setServers([authority]);
      } catch (err) {
        throw new TypeError(`Invalid target dns://${authority}/${host}: bad DNS server ${authority} (${(err as Error).message})`);
      }
    }
  }

  resolveNow(): void {
    if (this.closed || this.inFlight || this.timer !== undefined) return;
    const wait = this.lastStartedAt + this.minIntervalMs - Date.now();
    if (wait > 0) {
      trace("resolver", () => `dns:${this.host}: re-resolution in ${wait} ms (at most one per ${this.minIntervalMs} ms)`);
      this.schedule(wait);
      return;
    }
    void this.resolve();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.resolve();
    }, delayMs);
    this.timer.unref();
  }

  private async resolve(): Promise<void> {
    if (this.closed) return;
    this.inFlight = true;
    this.lastStartedAt = Date.now();
    try {
      const [addresses, serviceConfig] = await Promise.all([this.lookup(), this.txt ? this.serviceConfig() : undefined]);
      if (this.closed) return;
      if (addresses.length === 0) throw new Error("no A or AAAA records");
      this.backoff.reset();
      trace("resolver", () => `dns:${this.host}: ${addresses.map((a) => ("host" in a ? a.host : a.path)).join(", ")}`);
      this.inFlight = false;
      this.listener.update(serviceConfig === undefined ? { addresses } : { addresses, serviceConfig });
    } catch (err) {
      this.inFlight = false;
      if (this.closed) return;
      const message = err instanceof Error ? err.message : String(err);
      this.listener.error(new Error(`DNS resolution of ${this.host} failed: ${message}`));
      this.schedule(this.backoff.next());
    }
  }

  private async lookup(): Promise<SocketAddress[]> {
    const port = this.port;
    if (isIP(this.host) !== 0) return [{ host: this.host, port }];
    const server = this.server;
    if (server === undefined) {
      const found = await dns.lookup(this.host, { all: true, verbatim: true });
      return found.map((a) => ({ host: a.address, port }));
    }
    const [v4, v6] = await Promise.allSettled([server.resolve4(this.host), server.resolve6(this.host)]);
    if (v4.status === "rejected" && v6.status === "rejected") throw v4.reason;
    const hosts = [...(v6.status === "fulfilled" ? v6.value : []), ...(v4.status === "fulfilled" ? v4.value : [])];
    return hosts.map((host) => ({ host, port }));
  }

  /** The service config of `_grpc_config.<name>` chosen for this client, if any; never throws. */
  private async serviceConfig(): Promise<string | object | undefined> {
    const txt = new dns.Resolver({ timeout: TXT_TIMEOUT_MS, tries: 1 });
    if (this.server !== undefined) txt.setServers(this.server.getServers());
    let records: string[][];
    try {
      records = await txt.resolveTxt(`_grpc_config.${this.host}`);
    } catch {
      return undefined; // no record (the usual case) or no DNS: no config
    }
    for (const record of records) {
      const text = record.join("");
      if (!text.startsWith("grpc_config=")) continue;
      return chooseServiceConfig(text.slice("grpc_config=".length));
    }
    return undefined;
  }
}

/**
 * gRPC's service config choice (A2): a JSON array of `{clientLanguage, percentage,
 * clientHostname, serviceConfig}`; the first choice that applies to this client wins.
 * JSON that does not parse is handed on as text, so that the channel reports it.
 */
export function chooseServiceConfig(json: string): string | object | undefined {
  let choices: unknown;
  try {
    choices = JSON.parse(json);
  } catch {
    return json;
  }
  if (!Array.isArray(choices)) return json;
  for (const choice of choices as Record<string, unknown>[]) {
    const languages = choice["clientLanguage"];
    if (Array.isArray(languages) && !languages.some((l) => String(l).toLowerCase() === "node")) continue;
    const percentage = choice["percentage"];
    if (typeof percentage === "number" && Math.random() * 100 >= percentage) continue;
    const hosts = choice["clientHostname"];
    if (Array.isArray(hosts) && !hosts.includes(hostname())) continue;
    const config = choice["serviceConfig"];
    return typeof config === "object" && config !== null ? config : undefined;
  }
  return undefined;
}
