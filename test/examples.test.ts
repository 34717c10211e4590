// The route guide example (examples/route-guide) end to end: its server on 127.0.0.1:0,
// the four call kinds through the typed client, a deadline, a cancellation, the demo
// program itself, and the README that quotes them.
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { EOF, insecureChannel, RpcError, StatusCode, type Channel, type Server } from "../src/index.js";
import {
  EVERYWHERE,
  getFeature,
  listFeatures,
  listFeaturesThenCancel,
  listFeaturesWithDeadline,
  LOOKUPS,
  NEARBY,
  NOTES,
  recordRoute,
  ROUTE,
  routeChat,
} from "../examples/route-guide/client.js";
import { FEATURES } from "../examples/route-guide/features.js";
import type { Feature } from "../examples/route-guide/gen/routeguide/route_guide_pb.js";
import { RouteGuideClient } from "../examples/route-guide/gen/routeguide/route_guide_grpc.js";
import { distanceMetres, inRectangle } from "../examples/route-guide/geo.js";
import { PACE_HEADER, serve, type AbortedCall } from "../examples/route-guide/server.js";
import { assertNoLeaks, eventually, expectStatus } from "./helpers.js";

// This file runs as dist/test/examples.test.js; sources and the README are read from the repository.
const repo = new URL("../../", import.meta.url);
const readme = (): string => readFileSync(new URL("README.md", repo), "utf8");

const test = suite("examples/route-guide");
let server: Server;
let channel: Channel;
let client: RouteGuideClient;
const serverAborts: AbortedCall[] = [];

test.before(async () => {
  let port: number;
  ({ server, port } = await serve({ address: "127.0.0.1:0", onAbort: (call) => serverAborts.push(call) }));
  channel = insecureChannel(`127.0.0.1:${port}`);
  client = new RouteGuideClient(channel);
});

test.before.each(() => {
  serverAborts.length = 0;
});

test.after(async () => {
  await channel.close();
  await server.stop(null);
  await assertNoLeaks();
});

const names = (features: readonly Feature[]): string[] => features.map((f) => f.name);

test("the README starts with the two commands: npm install && npm run demo, then npm test", () => {
  const text = readme();
  assert.ok(text.startsWith("```"), "the README's first line opens a code block");
  const blocks = [...text.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((m) => m[1]!.trim());
  assert.is(blocks[0], "npm install && npm run demo");
  assert.is(blocks[1], "npm test");
});

test("every snippet the README copies from examples/route-guide matches its source", () => {
  const text = readme();
  const snippets = regions(new URL("examples/route-guide/", repo));
  assert.ok(snippets.size >= 8, `found only ${snippets.size} #region snippets`);
  for (const [name, code] of snippets) {
    assert.ok(text.includes(code), `README lacks the current text of the "${name}" snippet:\n${code}`);
  }
});

test("GetFeature (unary): a known feature, an empty spot, and an invalid point as INVALID_ARGUMENT", async () => {
  const [known, empty, invalid] = LOOKUPS;
  const found = await getFeature(client, known!);
  assert.is(found.name, "Cobbler's Row Historic District, Main Street, Pellham, NJ");
  assert.equal(found.location, known);
  const none = await getFeature(client, empty!);
  assert.is(none.name, "");
  assert.equal(none.location, empty);
  const err = await expectStatus(getFeature(client, invalid!), StatusCode.INVALID_ARGUMENT);
  assert.is(err.details, "(91.00000, 0.00000) is not a valid location");
});

test("GetFeature: request metadata reaches the handler and comes back in the trailers", async () => {
  const call = client.getFeature(LOOKUPS[0]!, { metadata: { "x-request-id": "t-42" } });
  assert.is((await call).name, FEATURES[6]!.name);
  assert.is(await call.code(), StatusCode.OK);
  assert.is((await call.trailingMetadata()).get("x-request-id"), "t-42");
});

test("the README's error example: an RpcError with code and details", async () => {
  try {
    await client.getFeature({ latitude: 910_000_000, longitude: 0 });
    assert.unreachable("expected INVALID_ARGUMENT");
  } catch (err) {
    if (!(err instanceof RpcError)) throw err;
    assert.is(StatusCode[err.code], "INVALID_ARGUMENT");
    assert.is(err.details, "(91.00000, 0.00000) is not a valid location");
  }
});

test("ListFeatures (server streaming): exactly the features inside the rectangle, in order", async () => {
  const expected = FEATURES.filter((f) => inRectangle(NEARBY, f.location));
  assert.is(expected.length, 5);
  assert.equal(names(await listFeatures(client, NEARBY)), names(expected));
});

test("ListFeatures read with read() until EOF, then status OK", async () => {
  const call = client.listFeatures(EVERYWHERE);
  const received: Feature[] = [];
  for (let f = await call.read(); f !== EOF; f = await call.read()) received.push(f);
  assert.equal(names(received), names(FEATURES));
  assert.is(await call.code(), StatusCode.OK);
  assert.is(await call.details(), "");
});

test("RecordRoute (client streaming) from an async generator: points, known features and distance", async () => {
  const summary = await recordRoute(client, ROUTE);
  let distance = 0;
  for (let i = 1; i < ROUTE.length; i++) distance += distanceMetres(ROUTE[i - 1]!, ROUTE[i]!);
  assert.is(summary.pointCount, 5);
  assert.is(summary.featureCount, 3);
  assert.is(summary.distance, Math.round(distance));
  assert.ok(summary.distance > 5_000 && summary.distance < 20_000, `distance ${summary.distance} m`);
  assert.is(summary.elapsedTime, 0);
});

test("RecordRoute written one message at a time with write() and doneWriting()", async () => {
  const call = client.recordRoute();
  for (const point of ROUTE.slice(0, 2)) await call.write(point);
  await call.doneWriting();
  const summary = await call;
  assert.is(summary.pointCount, 2);
  assert.is(summary.featureCount, 1);
});

test("RouteChat (bidirectional): each note brings back the earlier notes at its location", async () => {
  const replies = await routeChat(client, NOTES);
  assert.equal(
    replies.map((n) => n.message),
    ["First message", "Second message", "First message", "Third message"],
  );
});

test("a deadline: ListFeatures with timeoutMs 200 fails with DEADLINE_EXCEEDED and the handler stops", async () => {
  const started = Date.now();
  const { features, error } = await listFeaturesWithDeadline(client, 200, 150);
  const elapsed = Date.now() - started;
  assert.is(StatusCode[error.code], "DEADLINE_EXCEEDED");
  assert.ok(elapsed >= 190 && elapsed < 2000, `the call took ${elapsed} ms`);
  // About one feature arrives first (150 ms pace, 200 ms deadline); a loaded machine may see none.
  assert.ok(features.length < FEATURES.length, `${features.length} features arrived`);
  await eventually(() => serverAborts.length > 0, "the handler to see context.signal abort");
  const seen = serverAborts[0]!;
  assert.is(seen.aborted, true);
  assert.ok(seen.reason instanceof RpcError);
  // The server's own timer and the client's RST_STREAM race; either ends the handler.
  assert.ok([StatusCode.DEADLINE_EXCEEDED, StatusCode.CANCELLED].includes(seen.reason.code), StatusCode[seen.reason.code]);
  assert.ok(seen.sent >= features.length && seen.sent < FEATURES.length);
});

test("cancellation: an AbortController ends ListFeatures with CANCELLED, and the handler sees context.signal.aborted", async () => {
  const { features, error } = await listFeaturesThenCancel(client, 3, 50);
  assert.is(StatusCode[error.code], "CANCELLED");
  assert.equal(names(features), names(FEATURES.slice(0, 3)));
  await eventually(() => serverAborts.length > 0, "the handler to see context.signal abort");
  const seen = serverAborts[0]!;
  assert.is(seen.aborted, true);
  assert.is(StatusCode[seen.reason.code], "CANCELLED");
  assert.ok(seen.sent >= 3 && seen.sent <= 4, `the handler sent ${seen.sent} features`);
});

test("breaking out of a for-await loop cancels the call on the server too", async () => {
  const call = client.listFeatures(EVERYWHERE, { metadata: { [PACE_HEADER]: "20" } });
  for await (const feature of call) {
    assert.is(feature.name, FEATURES[0]!.name);
    break;
  }
  assert.is(await call.code(), StatusCode.CANCELLED);
  await eventually(() => serverAborts.length > 0, "the handler to see context.signal abort");
  assert.is(StatusCode[serverAborts[0]!.reason.code], "CANCELLED");
});

test("the demo (npm run demo) runs to the end and prints every step", async () => {
  const demo = fileURLToPath(new URL("../examples/route-guide/demo.js", import.meta.url));
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [demo], { timeout: 20_000 }, (err, out, errOut) => {
      if (err) reject(new Error(`demo failed: ${err.message}\n${out}\n${errOut}`));
      else resolve(out);
    });
  });
  for (const expected of [
    "GetFeature (unary)",
    'Found "Cobbler\'s Row Historic District',
    "RpcError INVALID_ARGUMENT",
    "5 features, status OK",
    "Summary: 5 points, 3 known features",
    '<- "Third message"',
    "RpcError DEADLINE_EXCEEDED",
    "RpcError CANCELLED after 3 features",
    "handler saw context.signal.aborted === true after",
    "(reason: CANCELLED), and stopped",
    "Channel closed, server stopped. Done.",
  ]) {
    assert.ok(stdout.includes(expected), `the demo's output lacks ${JSON.stringify(expected)}:\n${stdout}`);
  }
});

test.run();

/**
 * The `// #region name` ... `// #endregion` blocks of the .ts files in `folder`,
 * dedented; nested regions are part of their parent, without the marker lines.
 */
function regions(folder: URL): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of readdirSync(folder).filter((f) => f.endsWith(".ts")).sort()) {
    const open: { name: string; lines: string[] }[] = [];
    for (const line of readFileSync(new URL(file, folder), "utf8").split("\n")) {
      const start = /^\s*\/\/ #region (\S+)\s*$/.exec(line);
      if (start) {
        open.push({ name: start[1]!, lines: [] });
      } else if (/^\s*\/\/ #endregion\s*$/.test(line)) {
        const region = open.pop();
        assert.ok(region, `${file}: #endregion without #region`);
        found.set(region.name, dedent(region.lines));
      } else {
        for (const region of open) region.lines.push(line);
      }
    }
    assert.is(open.length, 0, `${file}: unclosed #region`);
  }
  return found;
}

function dedent(lines: readonly string[]): string {
  const indents = lines.filter((l) => l.trim() !== "").map((l) => l.length - l.trimStart().length);
  const cut = Math.min(...indents);
  return lines.map((l) => l.slice(cut).trimEnd()).join("\n");
}
