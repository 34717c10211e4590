// The layering of docs/architecture.md, checked on the sources: a layer imports only
// from below, companions reach the core only through its public faces ("async-grpc",
// "async-grpc/<companion>"), and the call layers see streams only through the stream
// seam (transport/call-stream.ts), never a Node stream.
import { readdirSync, readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const test = suite("layers");
const src = new URL("../../src/", import.meta.url);

// What each core folder may import relatively; the top-level index.ts may import them all.
const CORE: Record<string, readonly string[]> = {
  wire: [],
  transport: ["wire"],
  credentials: ["wire", "transport"],
  client: ["wire", "transport", "credentials"],
  server: ["wire", "transport", "credentials"],
  protos: [],
};
// A companion's documented use of another companion.
const COMPANION_IMPORTS: Record<string, readonly string[]> = { admin: ["channelz"] };

interface Import {
  file: string;
  specifier: string;
}

function sources(folder: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(new URL(`${folder}/`, src), { withFileTypes: true })) {
    const path = `${folder}/${entry.name}`;
    // Generated code is checked by its own no-diff test, and imports as protoc-gen-es writes it.
    if (entry.isDirectory()) {
      if (entry.name !== "gen" && entry.name !== "proto") out.push(...sources(path));
    } else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(new URL(file, src), "utf8");
  const found: Import[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gm)) found.push({ file, specifier: m[1]! });
  for (const m of text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) found.push({ file, specifier: m[1]! });
  return found;
}

/**
 * Where a relative import of `file` lands: a top folder, "index" for the core's public
 * face (src/index.ts), or undefined if it stays in the file's own folder or is the
 * version constant (src/version.ts, a leaf every layer may read).
 */
function targetFolder(file: string, specifier: string): string | undefined {
  const from = file.split("/")[0]!;
  const target = new URL(specifier, new URL(file, src)).pathname.slice(src.pathname.length).split("/");
  if (target.length === 1) return target[0] === "version.js" ? undefined : "index";
  return target[0] === from ? undefined : target[0];
}

const folders = readdirSync(src, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);

test("the sources were found", () => {
  for (const f of ["wire", "transport", "client", "server", "testing", "observability"]) assert.ok(folders.includes(f), f);
  assert.ok(sources("client").length > 10);
});

test("each core layer imports only from the layers below it", () => {
  const wrong: string[] = [];
  for (const [folder, allowed] of Object.entries(CORE)) {
    for (const { file, specifier } of sources(folder).flatMap(importsOf)) {
      if (!specifier.startsWith(".")) {
        if (specifier === "async-grpc" || specifier.startsWith("async-grpc/")) wrong.push(`${file}: ${specifier}`);
        continue;
      }
      const target = targetFolder(file, specifier);
      if (target !== undefined && !allowed.includes(target)) wrong.push(`${file}: ${specifier}`);
    }
  }
  assert.equal(wrong, []);
});

test("companions reach the core only through async-grpc and the companions' public faces", () => {
  const wrong: string[] = [];
  for (const folder of folders.filter((f) => !(f in CORE))) {
    const allowed = COMPANION_IMPORTS[folder] ?? [];
    for (const { file, specifier } of sources(folder).flatMap(importsOf)) {
      if (!specifier.startsWith(".")) continue;
      const target = targetFolder(file, specifier);
      if (target === undefined) continue;
      if (target === "index") continue; // the core's public face, as "async-grpc"
      // Another companion only through its index.ts, and only where documented.
      if (!(allowed.includes(target) && specifier.endsWith(`/${target}/index.js`))) wrong.push(`${file}: ${specifier}`);
    }
  }
  assert.equal(wrong, []);
});

test("client and server calls see streams only through the stream seam, never node:http2", () => {
  const seamUsers = ["client/client-call.ts", "client/hedging.ts", "client/calls.ts", "server/server-call.ts", "server/server.ts"];
  for (const file of seamUsers) {
    const http2 = importsOf(file).filter((i) => i.specifier === "node:http2" || i.specifier === "http2");
    assert.equal(http2, [], `${file} imports node:http2`);
  }
});

test.run();
