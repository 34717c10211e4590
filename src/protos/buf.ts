// Runs `buf build` (the compiler of the @bufbuild/buf npm package, an optional peer
// dependency) on a folder of .proto files, and returns the FileDescriptorSet it writes
// or the compiler's diagnostics.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { arch, endianness } from "node:os";
import { dirname } from "node:path";

/** A compiler message, positioned in a file (path relative to the folder built). */
export interface BufDiagnostic {
  readonly path: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export type BufResult = { ok: true; image: Uint8Array } | { ok: false; diagnostics: BufDiagnostic[]; output: string };

/** The platform packages that @bufbuild/buf installs (as optional dependencies), as its own launcher names them. */
const PLATFORM_PACKAGES: Record<string, string> = {
  "darwin arm64 LE": "@bufbuild/buf-darwin-arm64",
  "darwin x64 LE": "@bufbuild/buf-darwin-x64",
  "linux arm64 LE": "@bufbuild/buf-linux-aarch64",
  "linux arm LE": "@bufbuild/buf-linux-armv7",
  "linux x64 LE": "@bufbuild/buf-linux-x64",
  "win32 arm64 LE": "@bufbuild/buf-win32-arm64",
  "win32 x64 LE": "@bufbuild/buf-win32-x64",
};

interface Command {
  file: string;
  args: string[];
}

let located: Command | undefined;

/**
 * The buf executable: the platform binary that @bufbuild/buf installed, else its
 * JavaScript launcher (which finds a binary it downloaded itself).
 */
function locateBuf(): Command {
  if (located !== undefined) return located;
  const require = createRequire(import.meta.url);
  let bufPackage: string;
  try {
    bufPackage = require.resolve("@bufbuild/buf/package.json");
  } catch {
    throw new Error(
      "Loading .proto files at run time needs the buf compiler: npm install @bufbuild/buf " +
        "(or pass `bufPath` with a buf executable).",
    );
  }
  const platformPackage = PLATFORM_PACKAGES[`${process.platform} ${arch()} ${endianness()}`];
  if (platformPackage !== undefined) {
    const binary = `${platformPackage}/bin/buf${process.platform === "win32" ? ".exe" : ""}`;
    // npm hoists the platform package beside @bufbuild/buf; pnpm keeps it inside.
    for (const from of [bufPackage, import.meta.url]) {
      try {
        located = { file: createRequire(from).resolve(binary), args: [] };
        return located;
      } catch {
        // try the next place
      }
    }
  }
  located = { file: process.execPath, args: [`${dirname(bufPackage)}/bin/buf`] };
  return located;
}

/** Builds every .proto file under `root` (import paths are relative to it). */
export function bufBuild(root: string, bufPath: string | undefined): BufResult {
  const command = bufPath !== undefined ? { file: bufPath, args: [] } : locateBuf();
  const result = spawnSync(command.file, [...command.args, "build", ".", "--output", "-#format=binpb", "--error-format", "json"], {
    cwd: root,
    maxBuffer: 1 << 30,
    windowsHide: true,
  });
  if (result.error !== undefined) {
    throw new Error(`Cannot run the buf compiler (${command.file}): ${result.error.message}`, { cause: result.error });
  }
  if (result.status === 0) return { ok: true, image: new Uint8Array(result.stdout.buffer, result.stdout.byteOffset, result.stdout.byteLength) };
  const output = `${result.stdout.toString("utf8")}\n${result.stderr.toString("utf8")}`;
  const diagnostics: BufDiagnostic[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const d = JSON.parse(line) as { path?: string; start_line?: number; start_column?: number; message?: string };
      diagnostics.push({ path: d.path ?? "", line: d.start_line ?? 0, column: d.start_column ?? 0, message: d.message ?? line });
    } catch {
      // not a diagnostic
    }
  }
  return { ok: false, diagnostics, output: output.trim() };
}
