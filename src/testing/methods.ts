import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { UsageError } from "async-grpc";

type Kind = DescMethod["methodKind"];

// The suffix of invokeXxx / takeXxx for each kind, as gRPC Python names them.
const CALL_SHAPE: Record<Kind, string> = {
  unary: "UnaryUnary",
  server_streaming: "UnaryStream",
  client_streaming: "StreamUnary",
  bidi_streaming: "StreamStream",
};

/** "/package.Service/Method" for a method descriptor. */
export function pathOf(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/**
 * The methods of the services a testing server or channel was made with, by path: a
 * test names a method by its descriptor (`RouteGuide.method.getFeature`), and a method of
 * another service or of the wrong kind is a mistake in the test, told at once.
 */
export class MethodTable {
  private readonly byPath = new Map<string, DescMethod>();
  private readonly names: string;

  constructor(services: Iterable<DescService>) {
    const names: string[] = [];
    for (const service of services) {
      names.push(service.typeName);
      for (const method of service.methods) this.byPath.set(pathOf(method), method);
    }
    this.names = names.join(", ") || "none";
  }

  /** Checks that `method` is one of these services' and of `kind`; `verb` is "invoke" or "take". */
  check(method: DescMethod, kind: Kind, verb: "invoke" | "take"): DescMethod {
    const called = `${verb}${CALL_SHAPE[kind]}`;
    if (method === null || typeof method !== "object" || typeof method.methodKind !== "string" || method.parent === undefined) {
      throw new UsageError(`${called}: expected a method descriptor such as Service.method.name, got ${String(method)}`);
    }
    const known = this.byPath.get(pathOf(method));
    if (known === undefined) {
      throw new UsageError(`${called}: ${pathOf(method)} is not a method of the services given (${this.names})`);
    }
    if (known.methodKind !== kind) {
      throw new UsageError(`${called}: ${pathOf(method)} is a ${known.methodKind.replace("_", "-")} method; use ${verb}${CALL_SHAPE[known.methodKind]}`);
    }
    return known;
  }
}
