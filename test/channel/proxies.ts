// Real HTTP/2 proxies from Debian in front of our servers: nginx (`grpc_pass`, h2c)
// and haproxy (HTTP/2 mode), each started on a loopback port with a config in a
// temporary folder, and stopped by the test.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep } from "../helpers.js";

export const NGINX = "/usr/sbin/nginx";
export const HAPROXY = "/usr/sbin/haproxy";

export class Proxy {
  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly log: () => string,
  ) {}

  get target(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** nginx proxying every gRPC call to `upstreams` (round robin) over h2c. */
  static async nginx(upstreams: readonly string[]): Promise<Proxy> {
    const dir = mkdtempSync(join(tmpdir(), "async-grpc-nginx-"));
    const port = await freePort();
    const conf = `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream backends {
${upstreams.map((u) => `    server ${u};`).join("\n")}
    keepalive 8;
  }
  server {
    listen 127.0.0.1:${port} http2;
    location / {
      grpc_pass grpc://backends;
      grpc_read_timeout 60s;
      grpc_send_timeout 60s;
    }
  }
}
`;
    writeFileSync(join(dir, "nginx.conf"), conf);
    const child = spawn(NGINX, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], { stdio: ["ignore", "ignore", "pipe"] });
    return Proxy.started("nginx", port, child, dir, () => readIf(join(dir, "error.log")));
  }

  /** haproxy in HTTP mode, HTTP/2 on both sides (h2c), round robin over `upstreams`. */
  static async haproxy(upstreams: readonly string[]): Promise<Proxy> {
    const dir = mkdtempSync(join(tmpdir(), "async-grpc-haproxy-"));
    const port = await freePort();
    const conf = `
global
  maxconn 256
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend grpc
  bind 127.0.0.1:${port} proto h2
  default_backend servers
backend servers
  balance roundrobin
${upstreams.map((u, i) => `  server s${i} ${u} proto h2`).join("\n")}
`;
    writeFileSync(join(dir, "haproxy.cfg"), conf);
    const child = spawn(HAPROXY, ["-f", join(dir, "haproxy.cfg"), "-db"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    return Proxy.started("haproxy", port, child, dir, () => stderr);
  }

  private static async started(name: string, port: number, child: ChildProcess, dir: string, log: () => string): Promise<Proxy> {
    child.stderr?.resume();
    let exited = false;
    child.once("exit", () => (exited = true));
    // Up once it accepts connections (bounded).
    for (let i = 0; i < 200; i++) {
      if (exited) break;
      if (await accepts(port)) return new Proxy(name, port, child, dir, log);
      await sleep(25);
    }
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${name} did not start: ${log()}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The proxy's own log (for failure messages). */
  get logText(): string {
    return this.log();
  }
}

export function available(binary: string): boolean {
  return existsSync(binary);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function readIf(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}
