import { create, fromBinary, toBinary, type DescService, type MessageInitShape, type Registry } from "@bufbuild/protobuf";
import { StatusCode, type Server, type ServicerContext } from "async-grpc";
import { DescriptorIndex } from "./descriptor-index.js";
import { ServerReflection, ServerReflectionRequestSchema, ServerReflectionResponseSchema, type ServerReflectionRequest } from "./gen/grpc/reflection/v1/reflection_pb.js";
import type { ServerReflectionServicer } from "./gen/grpc/reflection/v1/reflection_grpc.js";
import * as v1alpha from "./gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { ServerReflectionServicer as ServerReflectionServicerV1alpha } from "./gen/grpc/reflection/v1alpha/reflection_grpc.js";

/** The full names of the reflection services (gRPC Python `reflection.SERVICE_NAME`, both versions). */
export const SERVICE_NAMES: readonly string[] = [ServerReflection.typeName, v1alpha.ServerReflection.typeName];

/** Options of `enableServerReflection()`. */
export interface ReflectionOptions {
  /**
   * The service names `list_services` answers (gRPC Python's `service_names`).
   * Default: every service registered on the server, these reflection services included.
   */
  services?: readonly string[];
  /**
   * More descriptors to answer from, e.g. a `FileRegistry` holding the files of
   * services registered without a descriptor, or extensions that no service file
   * imports (gRPC Python's `pool`). The files of services registered with
   * `addService()` (generated or loaded at run time) are always known.
   */
  registry?: Registry;
}

type Response = MessageInitShape<typeof ServerReflectionResponseSchema>;

/**
 * The reflection servicer (gRPC Python `grpc_reflection.v1alpha.reflection.ReflectionServicer`),
 * answering for `server`'s services. It implements `grpc.reflection.v1.ServerReflection`;
 * `v1alpha` is the same servicer for `grpc.reflection.v1alpha.ServerReflection`.
 * `enableServerReflection()` registers both.
 */
export class ReflectionServicer implements ServerReflectionServicer {
  readonly #server: Server;
  readonly #options: ReflectionOptions;
  #index: DescriptorIndex | undefined;

  /** The same servicer for the older `grpc.reflection.v1alpha` package (wire-identical messages). */
  readonly v1alpha: ServerReflectionServicerV1alpha;

  constructor(server: Server, options: ReflectionOptions = {}) {
    this.#server = server;
    this.#options = options;
    const self = this;
    this.v1alpha = {
      async *serverReflectionInfo(requests, context) {
        for await (const request of self.#requests(requests, context)) {
          const v1Request = fromBinary(ServerReflectionRequestSchema, toBinary(v1alpha.ServerReflectionRequestSchema, request));
          const v1Response = create(ServerReflectionResponseSchema, self.answer(v1Request));
          yield fromBinary(v1alpha.ServerReflectionResponseSchema, toBinary(ServerReflectionResponseSchema, v1Response));
        }
      },
    };
  }

  async *serverReflectionInfo(requests: AsyncIterable<ServerReflectionRequest>, context: ServicerContext): AsyncGenerator<Response> {
    for await (const request of this.#requests(requests, context)) yield this.answer(request);
  }

  /**
   * The answer to one request. An unknown name answers NOT_FOUND in an
   * `error_response` and leaves the stream open, as gRPC does.
   */
  answer(request: ServerReflectionRequest): Response {
    const base: Base = { validHost: request.host, originalRequest: request };
    const r = request.messageRequest;
    switch (r.case) {
      case "listServices": {
        const names = this.#options.services ?? [...this.#server.registeredServices().keys()];
        return { ...base, messageResponse: { case: "listServicesResponse", value: { service: names.map((name) => ({ name })) } } };
      }
      case "fileByFilename": {
        const file = this.#indexed().fileByName(r.value);
        if (file === undefined) return error(base, StatusCode.NOT_FOUND, `File not found: ${r.value}`);
        return files(base, this.#indexed().withDependencies(file));
      }
      case "fileContainingSymbol": {
        const file = this.#indexed().fileContainingSymbol(r.value);
        if (file === undefined) return error(base, StatusCode.NOT_FOUND, `Symbol not found: ${r.value}`);
        return files(base, this.#indexed().withDependencies(file));
      }
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = r.value;
        const file = this.#indexed().fileContainingExtension(containingType, extensionNumber);
        if (file === undefined) return error(base, StatusCode.NOT_FOUND, `Extension not found: ${containingType} ${extensionNumber}`);
        return files(base, this.#indexed().withDependencies(file));
      }
      case "allExtensionNumbersOfType": {
        const numbers = this.#indexed().extensionNumbers(r.value);
        if (numbers === undefined) return error(base, StatusCode.NOT_FOUND, `Type not found: ${r.value}`);
        return { ...base, messageResponse: { case: "allExtensionNumbersResponse", value: { baseTypeName: r.value, extensionNumber: numbers } } };
      }
      default:
        return error(base, StatusCode.UNIMPLEMENTED, "The request is not implemented");
    }
  }

  // Requests until the client half-closes or the call ends (then the iteration stops quietly).
  async *#requests<T>(requests: AsyncIterable<T>, context: ServicerContext): AsyncGenerator<T> {
    for await (const request of requests) {
      if (context.signal.aborted) return;
      yield request;
    }
  }

  // Built at the first request: by then the server has started and no service can be added.
  #indexed(): DescriptorIndex {
    if (this.#index === undefined) {
      const services: DescService[] = [];
      for (const service of this.#server.registeredServices().values()) if (service !== undefined) services.push(service);
      this.#index = new DescriptorIndex(services, this.#options.registry);
    }
    return this.#index;
  }
}

interface Base {
  validHost: string;
  originalRequest: ServerReflectionRequest;
}

function error(base: Base, code: StatusCode, message: string): Response {
  return { ...base, messageResponse: { case: "errorResponse", value: { errorCode: code, errorMessage: message } } };
}

function files(base: Base, fileDescriptorProto: Uint8Array[]): Response {
  return { ...base, messageResponse: { case: "fileDescriptorResponse", value: { fileDescriptorProto } } };
}

/**
 * Serves reflection (`grpc.reflection.v1` and `v1alpha`) on `server` for its services
 * (gRPC Python `reflection.enable_server_reflection(service_names, server, pool)`).
 * Call before `server.start()`, like any `addService()`.
 */
export function enableServerReflection(server: Server, options: ReflectionOptions = {}): ReflectionServicer {
  const servicer = new ReflectionServicer(server, options);
  server.addService(ServerReflection, servicer);
  server.addService(v1alpha.ServerReflection, servicer.v1alpha);
  return servicer;
}
