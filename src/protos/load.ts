// Runtime .proto loading (gRPC Python's grpc.protos(), grpc.services() and
// grpc.protos_and_services()): reads .proto sources with no prior codegen and returns
// @bufbuild/protobuf descriptors, usable with createClient() and server.addService().
//
// The compiler is buf's (the @bufbuild/buf package, an optional peer dependency, as
// gRPC Python's loader needs grpcio-tools): the loader finds the files named and their
// imports in the include folders, copies them into a temporary folder under their
// import paths, runs `buf build` there, and maps the diagnostics back to the real files.
// buf brings the well-known types (google/protobuf/*.proto) itself.
import { createFileRegistry, fromBinary, type DescEnum, type DescFile, type DescMessage, type DescService, type FileRegistry } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { bufBuild } from "./buf.js";
import { scanImports, type ProtoImport } from "./imports.js";

export interface LoadProtosOptions {
  /**
   * Folders searched, in order, for the files named and for their imports (protoc's
   * `-I`). A file named by a path that lies in none of them is read from that path,
   * and its own folder is searched last. The well-known types
   * (`google/protobuf/*.proto`) need no folder.
   */
  includeDirs?: readonly string[];
  /** A buf executable to compile with; by default the one that `@bufbuild/buf` installed. */
  bufPath?: string;
}

export interface LoadedProtos {
  /** The files named, in order. */
  readonly files: readonly DescFile[];
  /** Those files and everything they import, well-known types included. */
  readonly registry: FileRegistry;
  /** The messages of the files named, nested ones included, by full name ("pkg.Outer.Inner"). */
  readonly messages: Readonly<Record<string, DescMessage>>;
  /** Their enums, by full name. */
  readonly enums: Readonly<Record<string, DescEnum>>;
  /** Their services, by full name ("pkg.Service"). */
  readonly services: Readonly<Record<string, DescService>>;
}

/** One compiler message, in a file on disk. */
export interface ProtoDiagnostic {
  /** The file's path on disk (or its import path, for a file the compiler brought). */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  readonly message: string;
}

/** The .proto sources do not compile; `message` lists every `file:line:column: message`. */
export class ProtoLoadError extends Error {
  override name = "ProtoLoadError";
  /** At least one. */
  readonly diagnostics: readonly ProtoDiagnostic[];
  /** The first diagnostic's position. */
  readonly file: string;
  readonly line: number;
  readonly column: number;

  constructor(diagnostics: readonly ProtoDiagnostic[]) {
    super(diagnostics.map(format).join("\n"));
    this.diagnostics = diagnostics;
    const first = diagnostics[0]!;
    this.file = first.file;
    this.line = first.line;
    this.column = first.column;
  }
}

function format(d: ProtoDiagnostic): string {
  return d.line > 0 ? `${d.file}:${d.line}:${d.column}: ${d.message}` : `${d.file}: ${d.message}`;
}

interface SourceFile {
  /** The import path ("pkg/file.proto"). */
  readonly name: string;
  /** Where it is on disk. */
  readonly path: string;
  readonly source: string;
  readonly imports: readonly ProtoImport[];
}

/**
 * Compiles `paths` (and their imports) at run time. Synchronous, as in gRPC Python:
 * load once at startup. Throws `ProtoLoadError` when the sources do not compile.
 */
export function loadProtos(paths: string | readonly string[], options: LoadProtosOptions = {}): LoadedProtos {
  const list = typeof paths === "string" ? [paths] : [...paths];
  if (list.length === 0) throw new TypeError("loadProtos: no .proto file named");
  const roots = (options.includeDirs ?? []).map((dir) => resolve(dir));
  const targets = list.map((path) => locateTarget(path, roots));
  const files = collect(targets.map((t) => t.name), roots);
  const image = compile(files, roots, options.bufPath);

  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, image));
  const named = targets.map(({ name }) => {
    const file = registry.getFile(name);
    if (file === undefined) throw new Error(`loadProtos: the compiler returned no descriptor for ${name}`);
    return file;
  });
  const messages: Record<string, DescMessage> = {};
  const enums: Record<string, DescEnum> = {};
  const services: Record<string, DescService> = {};
  for (const file of named) {
    for (const type of nestedTypes(file)) {
      if (type.kind === "message") messages[type.typeName] = type;
      else if (type.kind === "enum") enums[type.typeName] = type;
      else if (type.kind === "service") services[type.typeName] = type;
    }
  }
  return { files: named, registry, messages, enums, services };
}

/** The import path of `path` and the include folders to search (one may be added). */
function locateTarget(path: string, roots: string[]): { name: string } {
  if (!isAbsolute(path)) {
    for (const root of roots) {
      if (isFile(join(root, path))) return { name: toImportPath(path) };
    }
  }
  const absolute = resolve(path);
  if (!isFile(absolute)) {
    const searched = roots.length > 0 ? ` (searched ${roots.join(", ")}, and the current folder)` : "";
    throw new ProtoLoadError([{ file: path, line: 0, column: 0, message: `file not found${searched}` }]);
  }
  for (const root of roots) {
    const rel = relative(root, absolute);
    if (rel !== "" && !rel.startsWith("..") && !isAbsolute(rel)) return { name: toImportPath(rel) };
  }
  roots.push(dirname(absolute));
  return { name: basename(absolute) };
}

function toImportPath(path: string): string {
  return path.split(sep).join("/").replace(/^(\.\/)+/, "");
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A safe relative import path: no "..", no absolute path, no backslash (protoc's rules). */
function isSafeImportPath(name: string): boolean {
  return name !== "" && !name.startsWith("/") && !name.includes("\\") && !name.split("/").some((part) => part === ".." || part === "." || part === "");
}

/** The named files and, transitively, every import found in `roots`. */
function collect(names: readonly string[], roots: readonly string[]): Map<string, SourceFile> {
  const files = new Map<string, SourceFile>();
  const pending = [...names];
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (files.has(name) || !isSafeImportPath(name)) continue;
    const root = roots.find((r) => isFile(join(r, name)));
    // Not found: a well-known type that buf provides, or an error buf reports in place.
    if (root === undefined) continue;
    const path = join(root, name);
    const source = readFileSync(path, "utf8");
    const imports = scanImports(source);
    files.set(name, { name, path, source, imports });
    for (const imported of imports) pending.push(imported.path);
  }
  return files;
}

function compile(files: Map<string, SourceFile>, roots: readonly string[], bufPath: string | undefined): Uint8Array {
  const workdir = mkdtempSync(join(tmpdir(), "async-grpc-protos-"));
  try {
    for (const file of files.values()) {
      const target = join(workdir, file.name);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, file.source);
    }
    const result = bufBuild(workdir, bufPath);
    if (result.ok) return result.image;
    if (result.diagnostics.length === 0) throw new Error(`buf build failed: ${result.output}`);
    throw new ProtoLoadError(result.diagnostics.map((d) => diagnostic(d, files, roots)));
  } finally {
    rmSync(workdir, { recursive: true, force: true });
  }
}

function diagnostic(d: { path: string; line: number; column: number; message: string }, files: Map<string, SourceFile>, roots: readonly string[]): ProtoDiagnostic {
  const name = d.path.split(sep).join("/").replace(/^\.\//, "");
  const file = files.get(name);
  let message = d.message;
  if (file !== undefined && /does not exist|not found/i.test(message)) {
    // Say which import, and where it was looked for.
    const imported = file.imports.find((i) => i.line === d.line);
    if (imported !== undefined) {
      message += `: "${imported.path}" (searched ${roots.length > 0 ? roots.join(", ") : "no include folder"})`;
    }
  }
  return { file: file?.path ?? name, line: d.line, column: d.column, message };
}

// ---- gRPC Python's names ---------------------------------------------------------------

/** Messages by name within their package ("Point", "Outer.Inner"), as gRPC Python's `protos()` module. */
export type ProtosModule = Readonly<Record<string, DescMessage>>;
/** Services by name ("RouteGuide"), as gRPC Python's `services()` module; use with `createClient` and `server.addService`. */
export type ServicesModule = Readonly<Record<string, DescService>>;

const modules = new Map<string, [ProtosModule, ServicesModule]>();

/**
 * gRPC Python's `grpc.protos_and_services()`: the messages and the services of one
 * .proto file. Loaded once per file and options, as Python imports a module once.
 */
export function protosAndServices(path: string, options: LoadProtosOptions = {}): [ProtosModule, ServicesModule] {
  const key = JSON.stringify([resolve(path), path, (options.includeDirs ?? []).map((d) => resolve(d)), options.bufPath ?? null]);
  const cached = modules.get(key);
  if (cached !== undefined) return cached;
  const loaded = loadProtos(path, options);
  const file = loaded.files[0]!;
  const prefix = file.proto.package === "" ? "" : `${file.proto.package}.`;
  const protos: Record<string, DescMessage> = {};
  for (const message of Object.values(loaded.messages)) protos[message.typeName.slice(prefix.length)] = message;
  const services: Record<string, DescService> = {};
  for (const service of file.services) services[service.name] = service;
  const result: [ProtosModule, ServicesModule] = [Object.freeze(protos), Object.freeze(services)];
  modules.set(key, result);
  return result;
}

/** gRPC Python's `grpc.protos()`: the messages of one .proto file, by name within the package. */
export function protos(path: string, options?: LoadProtosOptions): ProtosModule {
  return protosAndServices(path, options)[0];
}

/** gRPC Python's `grpc.services()`: the services of one .proto file, by name. */
export function services(path: string, options?: LoadProtosOptions): ServicesModule {
  return protosAndServices(path, options)[1];
}
