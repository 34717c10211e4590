// Where the CLI learns the services and messages: the server's reflection service (the
// default), .proto files compiled at run time (--proto), or a descriptor set
// (--protoset). Each gives the list of services and a registry holding a symbol.
import { create, createFileRegistry, fromBinary, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { readFileSync } from "node:fs";
import { loadProtos, ProtoLoadError, RpcError, StatusCode, type CallOptions, type Channel } from "async-grpc";
import { ProtoReflectionDescriptorDatabase, WELL_KNOWN_FILES } from "async-grpc/reflection";
import { UsageError, type CliArgs } from "./args.js";

/** A source of descriptors. */
export interface Schema {
  /** True when the schema comes from the server (and so needs a connection). */
  readonly remote: boolean;
  /** The services, by full name, sorted. */
  services(): Promise<string[]>;
  /** A registry that holds `symbol` (a service, message, enum or extension), or NOT_FOUND. */
  registryFor(symbol: string): Promise<FileRegistry>;
  close(): Promise<void>;
}


function notFound(symbol: string, where: string): RpcError {
  return new RpcError(StatusCode.NOT_FOUND, `Symbol not found: ${symbol} (${where})`);
}

function hasSymbol(registry: FileRegistry, symbol: string): boolean {
  return registry.get(symbol) !== undefined;
}

/** Descriptors read from files: everything is known up front. */
class LocalSchema implements Schema {
  readonly remote = false;
  constructor(
    private readonly registry: FileRegistry,
    private readonly serviceNames: string[],
    private readonly where: string,
  ) {}

  async services(): Promise<string[]> {
    return [...this.serviceNames].sort();
  }

  async registryFor(symbol: string): Promise<FileRegistry> {
    if (!hasSymbol(this.registry, symbol)) throw notFound(symbol, this.where);
    return this.registry;
  }

  async close(): Promise<void> {}
}

/** Descriptors from the server's reflection service, fetched as needed. */
class ReflectionSchema implements Schema {
  readonly remote = true;
  private readonly db: ProtoReflectionDescriptorDatabase;
  constructor(channel: Channel, callOptions: CallOptions) {
    this.db = new ProtoReflectionDescriptorDatabase(channel, { callOptions });
  }

  async services(): Promise<string[]> {
    return (await this.reflect(this.db.getServices())).sort();
  }

  async registryFor(symbol: string): Promise<FileRegistry> {
    const registry = await this.reflect(this.db.registry([symbol]));
    if (!hasSymbol(registry, symbol)) throw notFound(symbol, "server reflection");
    return registry;
  }

  async close(): Promise<void> {
    await this.db.close().catch(() => {});
  }

  private async reflect<T>(promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (err) {
      if (err instanceof RpcError && err.code === StatusCode.UNIMPLEMENTED) {
        throw new RpcError(StatusCode.UNIMPLEMENTED, `The server does not support the reflection API (${err.details}); use --proto or --protoset`);
      }
      throw err;
    }
  }
}

function fromProtoFiles(args: CliArgs): Schema {
  try {
    const loaded = loadProtos(args.protos, { includeDirs: args.importPaths });
    return new LocalSchema(loaded.registry, Object.keys(loaded.services), args.protos.join(", "));
  } catch (err) {
    // A file that is missing or does not compile is the user's input: one message, exit 2.
    if (err instanceof ProtoLoadError) throw new UsageError(`--proto: ${err.message.replaceAll("\n", "; ")}`);
    throw new UsageError(`--proto: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function fromProtosets(paths: readonly string[]): Schema {
  const files = [];
  for (const path of paths) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new UsageError(`--protoset ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
    }
    try {
      files.push(...fromBinary(FileDescriptorSetSchema, bytes).file);
    } catch (err) {
      throw new UsageError(`--protoset ${path}: not a FileDescriptorSet (${(err as Error).message})`);
    }
  }
  const seen = new Set<string>();
  const unique = files.filter((f) => !seen.has(f.name) && seen.add(f.name));
  let registry: FileRegistry;
  try {
    // A set made without --include_imports may leave the well-known types out.
    const missing = new Set(unique.flatMap((f) => f.dependency).filter((d) => !seen.has(d) && WELL_KNOWN_FILES.has(d)));
    const wkt = [...missing].map((name) => WELL_KNOWN_FILES.get(name)!);
    registry = createFileRegistry(create(FileDescriptorSetSchema, { file: [...wkt, ...unique] }));
  } catch (err) {
    throw new UsageError(`--protoset: ${(err as Error).message} (was it made with --include_imports?)`);
  }
  const services = unique.flatMap((f) => f.service.map((s) => (f.package ? `${f.package}.${s.name}` : s.name)));
  return new LocalSchema(registry, services, paths.join(", "));
}

/** The schema the flags name; reflection over `channel` by default. */
export function openSchema(args: CliArgs, channel: () => Channel, callOptions: CallOptions): Schema {
  if (args.protos.length > 0) return fromProtoFiles(args);
  if (args.protosets.length > 0) return fromProtosets(args.protosets);
  if (args.importPaths.length > 0) throw new UsageError("--import-path needs --proto");
  return new ReflectionSchema(channel(), callOptions);
}
