// The instrumentation seam (registerInstrumentation): what a plugin sees of a channel,
// its subchannel and connection, its calls, and a server with its connections and calls;
// two plugins at once, each call observer paired with its own plugin's connection
// observer; and nothing asked once a plugin is unregistered.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  createClient,
  insecureChannel,
  registerInstrumentation,
  StatusCode,
  type CallObserver,
  type ConnectionObserver,
  type InstrumentationPlugin,
} from "../../src/index.js";
import { Echo } from "../gen/testing/echo_pb.js";
import { assertNoLeaks, eventually, expectStatus, startServer } from "../helpers.js";

const test = suite("instrumentation seam");

class Connection implements ConnectionObserver {
  readonly events: string[] = [];
  constructor(
    readonly plugin: string,
    readonly side: string,
  ) {}
  onStreamStarted() {
    this.events.push("stream");
  }
  onStreamEnded(ok: boolean) {
    this.events.push(ok ? "stream ok" : "stream failed");
  }
  onClose() {
    this.events.push("close");
  }
}

/** A plugin that records everything as strings. */
function recorder(name: string) {
  const log: string[] = [];
  const connections: Connection[] = [];
  const call = (side: string, method: string, connection?: ConnectionObserver): CallObserver => {
    log.push(`${side} call ${method}`);
    if (connection !== undefined) log.push(`${side} call on ${(connection as Connection).plugin}`);
    return {
      onTransport: (c) => log.push(`${side} transport ${(c as Connection | undefined)?.plugin}`),
      onMessageSent: () => log.push(`${side} sent`),
      onMessageReceived: () => log.push(`${side} received`),
      onEnd: (code) => log.push(`${side} end ${StatusCode[code]}`),
    };
  };
  const plugin: InstrumentationPlugin = {
    onChannel(info) {
      log.push(`channel ${info.target}`);
      return {
        onCallStarted: (method) => call("client", method),
        onSubchannel(sub) {
          log.push(`subchannel ${sub.address}`);
          return {
            onConnection(c) {
              log.push(`client connection ${c.side} ${JSON.stringify(c.remoteAddress())}`);
              const conn = new Connection(name, "client");
              connections.push(conn);
              return conn;
            },
          };
        },
        onClose: () => log.push("channel closed"),
      };
    },
    onServer(info) {
      log.push(`server ${info.listenAddresses().length}`);
      return {
        onCallStarted: (method, connection) => call("server", method, connection),
        onConnection(c) {
          log.push(`server connection ${c.side}`);
          const conn = new Connection(name, "server");
          connections.push(conn);
          return conn;
        },
        onStop: () => log.push("server stopped"),
      };
    },
  };
  return { plugin, log, connections };
}

test("one plugin sees the channel, subchannel, connections and both sides of each call", async () => {
  const rec = recorder("a");
  const unregister = registerInstrumentation(rec.plugin);
  try {
    const started = await startServer((s) => s.addService(Echo, { unary: (r) => ({ message: r.message }) }));
    const channel = insecureChannel(started.target);
    const client = createClient(Echo, channel);
    await client.unary({ message: "x" });
    await expectStatus(client.clientStream([]), StatusCode.UNIMPLEMENTED);
    await channel.close();
    await started.server.stop(null);
    await eventually(() => rec.connections.every((c) => c.events.includes("close")), "both connections to close");
    const log = rec.log;
    for (const expected of [
      `channel ${started.target}`,
      `subchannel ipv4:${started.target}`,
      `client connection client {"address":"127.0.0.1","port":${started.port}}`,
      "server connection server",
      "client call /testing.Echo/Unary",
      "client transport a",
      "client sent",
      "server call /testing.Echo/Unary",
      "server call on a",
      "server received",
      "server sent",
      "server end OK",
      "client received",
      "client end OK",
      "server call /testing.Echo/ClientStream",
      "server end UNIMPLEMENTED",
      "client end UNIMPLEMENTED",
      "channel closed",
      "server stopped",
    ]) {
      assert.ok(log.includes(expected), `missing "${expected}" in:\n${log.join("\n")}`);
    }
    assert.ok(log.indexOf("client sent") < log.indexOf("client end OK"));
    const [client1, server1] = [rec.connections.find((c) => c.side === "client")!, rec.connections.find((c) => c.side === "server")!];
    // A stream may close after the next one opened: counts, then the close last.
    for (const conn of [client1, server1]) {
      assert.equal([...conn.events].sort(), ["close", "stream", "stream", "stream ok", "stream ok"], `${conn.side}: ${conn.events.join(", ")}`);
      assert.is(conn.events.at(-1), "close");
    }
  } finally {
    unregister();
  }
  await assertNoLeaks();
});

test("two plugins: each gets its own observers, and a call its own plugin's connection", async () => {
  const a = recorder("a");
  const b = recorder("b");
  const offA = registerInstrumentation(a.plugin);
  const offB = registerInstrumentation(b.plugin);
  try {
    const started = await startServer((s) => s.addService(Echo, { unary: (r) => ({ message: r.message }) }));
    const channel = insecureChannel(started.target);
    await createClient(Echo, channel).unary({ message: "x" });
    await channel.close();
    await started.server.stop(null);
    for (const [rec, name] of [
      [a, "a"],
      [b, "b"],
    ] as const) {
      assert.ok(rec.log.includes(`client transport ${name}`), rec.log.join("\n"));
      assert.ok(rec.log.includes(`server call on ${name}`), rec.log.join("\n"));
      assert.ok(rec.log.includes("client end OK") && rec.log.includes("server end OK"));
    }
  } finally {
    offA();
    offB();
  }
  await assertNoLeaks();
});

test("unregistered: channels and servers made afterwards are not offered to the plugin", async () => {
  const rec = recorder("a");
  registerInstrumentation(rec.plugin)();
  const started = await startServer((s) => s.addService(Echo, { unary: (r) => ({ message: r.message }) }));
  const channel = insecureChannel(started.target);
  await createClient(Echo, channel).unary({ message: "x" });
  await channel.close();
  await started.server.stop(null);
  assert.equal(rec.log, []);
  await assertNoLeaks();
});

test.run();
