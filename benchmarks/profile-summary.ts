// Prints where a V8 CPU profile spent its time: the top self-time functions, and the
// split between async-grpc's own code, Node internals, dependencies, GC and idle.
//
//   node dist/benchmarks/profile-summary.js FILE.cpuprofile [--top N] [--only PATTERN]
//   node dist/benchmarks/profile-summary.js FILE.cpuprofile --callers NAME [--depth N]
//
// Profiles come from `npm run bench -- --profile ...` (benchmarks/profiles/) or any
// `node --cpu-prof`. Functions compiled from TypeScript are shown at their .ts
// location when the .js.map next to the script can be read.
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number; // 0-based
  columnNumber: number; // 0-based
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

// ---- source maps (just enough of them: line/column lookups in a v3 "mappings") ----

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Per generated line: [generatedColumn, sourceIndex, sourceLine] segments, sorted by column. */
type DecodedMap = { sources: string[]; lines: [number, number, number][][] };

function decodeMappings(mappings: string): [number, number, number][][] {
  const lines: [number, number, number][][] = [];
  let source = 0;
  let sourceLine = 0;
  let sourceCol = 0;
  for (const lineText of mappings.split(";")) {
    const segments: [number, number, number][] = [];
    let col = 0;
    for (const seg of lineText.split(",")) {
      if (seg === "") continue;
      const values: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const digit = B64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      col += values[0]!;
      if (values.length >= 4) {
        source += values[1]!;
        sourceLine += values[2]!;
        sourceCol += values[3]!;
        segments.push([col, source, sourceLine]);
      }
    }
    lines.push(segments);
  }
  return lines;
}

const maps = new Map<string, DecodedMap | undefined>();

function sourceMapFor(file: string): DecodedMap | undefined {
  if (maps.has(file)) return maps.get(file);
  let decoded: DecodedMap | undefined;
  try {
    if (existsSync(`${file}.map`)) {
      const raw = JSON.parse(readFileSync(`${file}.map`, "utf8")) as { sources: string[]; mappings: string };
      decoded = { sources: raw.sources.map((s) => resolve(dirname(file), s)), lines: decodeMappings(raw.mappings) };
    }
  } catch {
    decoded = undefined;
  }
  maps.set(file, decoded);
  return decoded;
}

/** "src/client/client-call.ts:123" for a frame in dist/, else the script's own location. */
function location(frame: CallFrame): string {
  const url = frame.url;
  if (url === "") return "";
  if (!url.startsWith("file://")) return `${url}:${frame.lineNumber + 1}`;
  const file = fileURLToPath(url);
  const map = sourceMapFor(file);
  const segments = map?.lines[frame.lineNumber];
  if (map && segments && segments.length > 0) {
    let best = segments[0]!;
    for (const s of segments) {
      if (s[0] <= frame.columnNumber) best = s;
      else break;
    }
    return `${relative(REPO, map.sources[best[1]]!)}:${best[2] + 1}`;
  }
  return `${relative(REPO, file)}:${frame.lineNumber + 1}`;
}

function category(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === "") {
    if (functionName === "(garbage collector)") return "GC";
    if (functionName === "(idle)") return "idle";
    if (functionName === "(program)") return "(program: native, not attributed)";
    return "native/builtin";
  }
  if (url.startsWith("node:")) return url.startsWith("node:internal/http2") ? "node:http2 internals" : "other node internals";
  if (url.includes("/node_modules/")) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    return `node_modules: ${m?.[1] ?? "?"}`;
  }
  if (url.includes("/dist/src/")) return "async-grpc (src/)";
  if (url.includes("/dist/benchmarks/")) return "benchmark harness";
  return "other scripts";
}

// ---- the summary ------------------------------------------------------------

function pct(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(1)}%`.padStart(6);
}

/** For functions whose name matches, the self time split by calling stack (`depth` frames up). */
export function callers(profile: CpuProfile, pattern: RegExp, depth: number, top: number): string {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const stacks = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const frame = byId.get(id)!.callFrame;
    if (!pattern.test(frame.functionName)) continue;
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const chain: string[] = [];
    let p = parent.get(id);
    while (p !== undefined && chain.length < depth) {
      const f = byId.get(p)!.callFrame;
      chain.push(`${f.functionName || "(anonymous)"} ${location(f)}`);
      p = parent.get(p);
    }
    const key = `${frame.functionName} ${location(frame)}\n      <- ${chain.join("\n      <- ")}`;
    stacks.set(key, (stacks.get(key) ?? 0) + us);
  }
  const rows = [...stacks].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [`callers of /${pattern.source}/ (${(total / 1000).toFixed(0)} ms self):`, ...rows.map(([k, us]) => `  ${pct(us, total)}  ${k}`)].join("\n");
}

export function summarize(profile: CpuProfile, top: number, only: string | undefined): string {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let total = 0;
  let idle = 0;
  const byFunction = new Map<string, { name: string; where: string; cat: string; us: number }>();
  const byCategory = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const cat = category(frame);
    total += us;
    if (cat === "idle") {
      idle += us;
      continue;
    }
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + us);
    const where = location(frame);
    const name = frame.functionName || "(anonymous)";
    const key = `${name}@${where}`;
    const entry = byFunction.get(key) ?? { name, where, cat, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
  }
  const busy = total - idle;
  const lines: string[] = [];
  lines.push(
    `profile: ${((profile.endTime - profile.startTime) / 1e6).toFixed(2)} s wall, ${(busy / 1e6).toFixed(2)} s busy (${pct(busy, total).trim()}), ` +
      `${profile.samples.length} samples; percentages below are of busy time`,
  );
  lines.push("", "by category (self time):");
  for (const [cat, us] of [...byCategory].sort((a, b) => b[1] - a[1])) {
    lines.push(`  ${pct(us, busy)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${cat}`);
  }
  const filter = only === undefined ? undefined : new RegExp(only);
  const rows = [...byFunction.values()]
    .filter((f) => filter === undefined || filter.test(f.where) || filter.test(f.cat))
    .sort((a, b) => b.us - a.us)
    .slice(0, top);
  lines.push("", `top ${rows.length} functions by self time${only ? ` matching /${only}/` : ""}:`);
  for (const f of rows) {
    lines.push(`  ${pct(f.us, busy)}  ${(f.us / 1000).toFixed(0).padStart(7)} ms  ${f.name}  ${f.where}`);
  }
  return lines.join("\n");
}

function main(): void {
  const args = process.argv.slice(2);
  let top = 25;
  let only: string | undefined;
  let callersOf: RegExp | undefined;
  let depth = 3;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--top") top = Number(args[++i]);
    else if (a === "--only") only = args[++i];
    else if (a === "--callers") callersOf = new RegExp(args[++i] ?? "");
    else if (a === "--depth") depth = Number(args[++i]);
    else if (a === "--help" || a === "-h") files.length = 0;
    else files.push(a);
  }
  if (files.length === 0 || !Number.isInteger(top) || top <= 0) {
    console.log("usage: node dist/benchmarks/profile-summary.js FILE.cpuprofile... [--top N] [--only REGEXP] [--callers REGEXP [--depth N]]");
    console.log("  --only     lists only functions whose location (e.g. 'src/') or category (e.g. 'http2') matches");
    console.log("  --callers  instead, splits the self time of functions whose name matches by their callers, N frames up");
    process.exit(files.length === 0 ? 0 : 1);
  }
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
    const text = callersOf ? callers(profile, callersOf, depth, top) : summarize(profile, top, only);
    console.log(`== ${file}\n${text}\n`);
  }
}

main();
