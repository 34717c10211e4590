import { create, createFileRegistry, fromBinary, toBinary, type FileRegistry } from "@bufbuild/protobuf";
import {
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type FileDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { WELL_KNOWN_FILES } from "./well-known.js";
import { createClient, EOF, RpcError, StatusCode, type CallOptions, type Channel, type StreamStreamCall } from "async-grpc";
import {
  ServerReflection,
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "./gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "./gen/grpc/reflection/v1alpha/reflection_pb.js";
import { repairDescriptors } from "./repair-descriptors.js";

/** Options of `ProtoReflectionDescriptorDatabase`. */
export interface DescriptorDatabaseOptions {
  /** The `host` field of every request (gRPC's reflection uses it for virtual hosts). */
  host?: string;
  /** Which reflection package to use: `v1`, `v1alpha`, or `auto` (default): v1, falling back to v1alpha. */
  version?: "v1" | "v1alpha" | "auto";
  /** Options of the reflection stream (metadata, credentials, a deadline for the whole session). */
  callOptions?: CallOptions;
}

type Request = Omit<ServerReflectionRequest, "$typeName" | "host">;
type Version = "v1" | "v1alpha";


/**
 * The descriptors of a live server, read over gRPC server reflection (gRPC Python
 * `grpc_reflection.v1alpha.proto_reflection_descriptor_database.ProtoReflectionDescriptorDatabase`).
 * One reflection stream carries the requests, one at a time; v1 is tried first and
 * v1alpha used if the server does not implement it. A name the server does not know
 * rejects with the server's error (`RpcError`, usually NOT_FOUND). `registry()` builds
 * a `@bufbuild/protobuf` registry from it, whose services work with `createClient`.
 * Call `close()` when done: the open stream keeps the channel's connection in use.
 */
export class ProtoReflectionDescriptorDatabase {
  readonly #channel: Channel;
  readonly #options: DescriptorDatabaseOptions;
  #version: Version | undefined;
  #call: StreamStreamCall<unknown, ServerReflectionResponse> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #files = new Map<string, FileDescriptorProto>();

  constructor(channel: Channel, options: DescriptorDatabaseOptions = {}) {
    this.#channel = channel;
    this.#options = options;
    if (options.version === "v1" || options.version === "v1alpha") this.#version = options.version;
  }

  /** The reflection package in use, once known ("v1" or "v1alpha"). */
  get version(): Version | undefined {
    return this.#version;
  }

  /** The services the server lists (gRPC Python `get_services()`). */
  async getServices(): Promise<string[]> {
    const r = await this.#request({ messageRequest: { case: "listServices", value: "" } });
    if (r.messageResponse.case !== "listServicesResponse") throw unexpected(r);
    return r.messageResponse.value.service.map((s) => s.name);
  }

  /** The file named `name`; its imports are fetched too and kept (gRPC Python `FindFileByName()`). */
  async findFileByName(name: string): Promise<FileDescriptorProto> {
    const known = this.#files.get(name);
    if (known) return known;
    return this.#file(await this.#request({ messageRequest: { case: "fileByFilename", value: name } }), name);
  }

  /** The file that defines `symbol` (a service, method, message, enum, field, ...; gRPC Python `FindFileContainingSymbol()`). */
  async findFileContainingSymbol(symbol: string): Promise<FileDescriptorProto> {
    return this.#file(await this.#request({ messageRequest: { case: "fileContainingSymbol", value: symbol } }));
  }

  /** The extension numbers of message type `extendee` (gRPC Python `FindAllExtensionNumbers()`). */
  async findAllExtensionNumbers(extendee: string): Promise<number[]> {
    const r = await this.#request({ messageRequest: { case: "allExtensionNumbersOfType", value: extendee } });
    if (r.messageResponse.case !== "allExtensionNumbersResponse") throw unexpected(r);
    return r.messageResponse.value.extensionNumber;
  }

  /** The file that declares extension `number` of `extendee` (gRPC Python `FindFileContainingExtension()`). */
  async findFileContainingExtension(extendee: string, number: number): Promise<FileDescriptorProto> {
    const value = { $typeName: "grpc.reflection.v1.ExtensionRequest" as const, containingType: extendee, extensionNumber: number };
    return this.#file(await this.#request({ messageRequest: { case: "fileContainingExtension", value } }));
  }

  /**
   * A registry of every file the server's services need (or those of `services`), with
   * their imports, ready for `createClient(registry.getService(name), channel)`.
   */
  async registry(services?: readonly string[]): Promise<FileRegistry> {
    const names = services ?? (await this.getServices());
    const roots: FileDescriptorProto[] = [];
    for (const name of names) roots.push(await this.findFileContainingSymbol(name));
    // Every file they import, fetched (or, for a well-known type the server leaves out, local).
    const fetched = new Map<string, FileDescriptorProto>();
    const fetch = async (file: FileDescriptorProto): Promise<void> => {
      if (fetched.has(file.name)) return;
      fetched.set(file.name, file);
      for (const dep of file.dependency) await fetch(await this.#dependency(dep));
    };
    for (const root of roots) await fetch(root);
    const ordered = repairDescriptors([...fetched.values()], WELL_KNOWN_FILES);
    return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
  }

  /** Ends the reflection stream; the database can be used again afterwards (a new stream opens). */
  async close(): Promise<void> {
    const call = this.#call;
    this.#call = undefined;
    if (call === undefined) return;
    await call.doneWriting();
    await call.code();
  }

  async #dependency(name: string): Promise<FileDescriptorProto> {
    const known = this.#files.get(name);
    if (known) return known;
    try {
      return await this.findFileByName(name);
    } catch (err) {
      const wkt = WELL_KNOWN_FILES.get(name);
      if (wkt && err instanceof RpcError && err.code === StatusCode.NOT_FOUND) return wkt;
      throw err;
    }
  }

  // Keeps every file of a response; answers the one asked for (by name) or the first.
  #file(r: ServerReflectionResponse, name?: string): FileDescriptorProto {
    if (r.messageResponse.case !== "fileDescriptorResponse") throw unexpected(r);
    let first: FileDescriptorProto | undefined;
    for (const bytes of r.messageResponse.value.fileDescriptorProto) {
      const file = fromBinary(FileDescriptorProtoSchema, bytes);
      if (!this.#files.has(file.name)) this.#files.set(file.name, file);
      first ??= file;
    }
    const file = name !== undefined ? this.#files.get(name) : first;
    if (file === undefined) throw new RpcError(StatusCode.INTERNAL, "The reflection response holds no file");
    return file;
  }

  // One request at a time on the stream, so each response pairs with its request.
  #request(request: Request): Promise<ServerReflectionResponse> {
    const next = this.#queue.then(() => this.#exchange(request));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #exchange(request: Request): Promise<ServerReflectionResponse> {
    const full = create(ServerReflectionRequestSchema, { ...request, host: this.#options.host ?? "" });
    let response: ServerReflectionResponse;
    for (;;) {
      const call = this.#stream();
      const version = this.#version ?? "v1";
      try {
        await call.write(version === "v1" ? full : fromBinary(v1alpha.ServerReflectionRequestSchema, toBinary(ServerReflectionRequestSchema, full)));
        const r = await call.read();
        if (r === EOF) throw new RpcError(StatusCode.UNAVAILABLE, "The reflection stream ended");
        this.#version = version;
        const got = r as ServerReflectionResponse | v1alpha.ServerReflectionResponse;
        response = got.$typeName === ServerReflectionResponseSchema.typeName ? got : fromBinary(ServerReflectionResponseSchema, toBinary(v1alpha.ServerReflectionResponseSchema, got));
        break;
      } catch (err) {
        // The stream failed: the next request opens a new one.
        if (this.#call === call) this.#call = undefined;
        call.cancel();
        const unimplemented = err instanceof RpcError && err.code === StatusCode.UNIMPLEMENTED;
        if (unimplemented && version === "v1" && this.#version === undefined && this.#options.version !== "v1") {
          this.#version = "v1alpha";
          continue;
        }
        throw err;
      }
    }
    // An error_response leaves the stream usable.
    if (response.messageResponse.case === "errorResponse") {
      const { errorCode, errorMessage } = response.messageResponse.value;
      throw new RpcError(errorCode, errorMessage);
    }
    return response;
  }

  #stream(): StreamStreamCall<unknown, ServerReflectionResponse> {
    if (this.#call === undefined) {
      const service = (this.#version ?? "v1") === "v1" ? ServerReflection : v1alpha.ServerReflection;
      const client = createClient(service, this.#channel);
      this.#call = client.serverReflectionInfo(undefined, this.#options.callOptions) as unknown as StreamStreamCall<unknown, ServerReflectionResponse>;
    }
    return this.#call;
  }
}

function unexpected(r: ServerReflectionResponse): RpcError {
  return new RpcError(StatusCode.INTERNAL, `Unexpected reflection response: ${r.messageResponse.case ?? "none"}`);
}
