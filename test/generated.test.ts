// The committed generated code (every root's gen/: *_pb.ts from protoc-gen-es, *_grpc.ts
// from protoc-gen-async-grpc) is what `npm run generate` makes now: each root listed in
// scripts/generate.sh is regenerated into a temporary folder, with the same template,
// and compared file by file. Offline: buf and both plugins run from node_modules/ and dist/.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const run = promisify(execFile);
// This file runs as dist/test/generated.test.js; the sources are read from the repository.
const repo = fileURLToPath(new URL("../../", import.meta.url));
const bin = join(repo, "node_modules/.bin");

/** The roots of scripts/generate.sh (`ROOTS=(...)`), which have a proto/ folder. */
function roots(): string[] {
  const script = readFileSync(join(repo, "scripts/generate.sh"), "utf8");
  const match = /^ROOTS=\(([^)]*)\)$/m.exec(script);
  if (match === null) throw new Error("scripts/generate.sh has no ROOTS=(...) line");
  return match[1]!.split(/\s+/).filter((root) => root !== "" && existsSync(join(repo, root, "proto")));
}

/** Every file under `dir`, as sorted relative paths. */
function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

const test = suite("generated code does not drift");
const out = mkdtempSync(join(tmpdir(), "async-grpc-generated-"));
const generations = new Map<string, Promise<void>>();

test.before(() => {
  // All roots at once: buf and the plugins are separate processes.
  for (const root of roots()) {
    const template = existsSync(join(repo, root, "buf.gen.yaml")) ? join(root, "buf.gen.yaml") : "buf.gen.yaml";
    const generation = run(join(bin, "buf"), ["generate", join(root, "proto"), "--template", template, "-o", join(out, root)], {
      cwd: repo,
      env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` },
    }).then(
      () => {},
      (err: { stderr?: string; message: string }) => {
        throw new Error(`buf generate ${root}/proto failed: ${err.stderr || err.message}`);
      },
    );
    generation.catch(() => {}); // reported by the root's own test
    generations.set(root, generation);
  }
});

test.after(() => {
  rmSync(out, { recursive: true, force: true });
});

test("scripts/generate.sh lists the roots, codegen/test among them", () => {
  assert.ok(roots().includes("codegen/test"), `roots: ${roots().join(", ")}`);
  assert.ok(roots().length >= 5);
});

for (const root of roots()) {
  test(`${root}/gen matches a fresh generation (run \`npm run generate\` after changing a .proto or a plugin)`, async () => {
    await generations.get(root);
    const committed = join(repo, root, "gen");
    const fresh = join(out, root, "gen");
    const committedFiles = listFiles(committed);
    const freshFiles = listFiles(fresh);
    assert.ok(freshFiles.some((f) => f.endsWith("_pb.ts") || f.endsWith("_pb.js")), `nothing generated for ${root}`);
    assert.equal(committedFiles, freshFiles, `the files in ${root}/gen`);
    for (const file of freshFiles) {
      assert.fixture(readFileSync(join(committed, file), "utf8"), readFileSync(join(fresh, file), "utf8"), `${root}/gen/${file}`);
    }
  });
}

test.run();
