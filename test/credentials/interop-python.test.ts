// Local credentials with an access token against Python grpcio (the one interop peer
// that has local credentials; grpc-js has none), both directions, over a Unix socket
// and loopback TCP. mTLS and tokens against grpcio run in the conformance runner.
import { execFile, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  accessTokenCallCredentials,
  compositeChannelCredentials,
  localChannelCredentials,
  localServerCredentials,
  LocalConnectionType,
  secureChannel,
} from "../../src/index.js";
import { assertNoLeaks } from "../helpers.js";
import { parseReport, reportingServer } from "./fixtures.js";

const test = suite("credentials-interop-python");
const PYTHON = process.env["CONFORMANCE_PYTHON"] || "/usr/bin/python3";
const PEER = fileURLToPath(new URL("../../../test/credentials/local_peer.py", import.meta.url));
const probe = spawnSync(PYTHON, ["-c", "import grpc"], { encoding: "utf8" });
const python = probe.status === 0 ? undefined : `${PYTHON} cannot import grpc (apt-get install python3-grpcio)`;
const MODES = [
  ["uds", LocalConnectionType.UDS],
  ["local_tcp", LocalConnectionType.LOCAL_TCP],
] as const;

function withDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "async-grpc-py-"));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test("a grpcio client with local credentials and a token reaches our local server (UDS, LOCAL_TCP)", async () => {
  if (python) return console.log(`  skipped: ${python}`);
  await withDir(async (dir) => {
    for (const [mode, type] of MODES) {
      const address = type === LocalConnectionType.UDS ? `unix:${join(dir, "s.sock")}` : "127.0.0.1:0";
      const s = await reportingServer(localServerCredentials(type), address);
      const target = type === LocalConnectionType.UDS ? address : `127.0.0.1:${s.port}`;
      // grpcio calls /testing.Echo/Unary: our server answers with its report of the call.
      const out = await new Promise<string>((resolve, reject) =>
        execFile(PYTHON, [PEER, "client", target, mode, "py-token"], { timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
      );
      const r = parseReport(out.trim());
      assert.equal(r.authorization, ["Bearer py-token"], mode);
      assert.equal(r.authContext["transport_security_type"], ["local"], mode);
      assert.equal(r.peerIdentities, ["local"], mode);
      await s.server.stop(null);
    }
  });
  await assertNoLeaks();
});

test("our client with local credentials and a token reaches a grpcio local server (UDS, LOCAL_TCP)", async () => {
  if (python) return console.log(`  skipped: ${python}`);
  await withDir(async (dir) => {
    for (const [mode, type] of MODES) {
      const address = type === LocalConnectionType.UDS ? `unix:${join(dir, "p.sock")}` : "127.0.0.1:0";
      const child = spawn(PYTHON, [PEER, "server", address, mode], { stdio: ["pipe", "pipe", "inherit"] });
      try {
        const port = await new Promise<number>((resolve, reject) => {
          let text = "";
          const timer = setTimeout(() => reject(new Error("the grpcio server did not start")), 20_000);
          child.stdout.on("data", (chunk: Buffer) => {
            text += chunk.toString();
            const m = /LISTENING (\d+)/.exec(text);
            if (m) {
              clearTimeout(timer);
              resolve(Number(m[1]));
            }
          });
          child.once("exit", (code) => reject(new Error(`the grpcio server exited (${code})`)));
        });
        const target = type === LocalConnectionType.UDS ? address : `127.0.0.1:${port}`;
        const channel = secureChannel(target, compositeChannelCredentials(localChannelCredentials(type), accessTokenCallCredentials("ts-token")));
        const reply = JSON.parse(Buffer.from(await channel.unaryUnary("/t.S/Report")(new Uint8Array(), { timeoutMs: 10_000 })).toString()) as {
          authorization: string;
          auth_context: Record<string, string[]>;
          peer_identities: string[];
          peer_identity_key: string;
        };
        assert.is(reply.authorization, "Bearer ts-token", mode);
        assert.equal(reply.auth_context["transport_security_type"], ["local"], mode);
        assert.equal(reply.peer_identities, ["local"], mode);
        assert.is(reply.peer_identity_key, "transport_security_type", mode);
        await channel.close();
      } finally {
        child.stdin.end();
        await new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
  });
  await assertNoLeaks();
});

test.run();
