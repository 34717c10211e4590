// Names as users type them, found in a schema: "pkg.Service/Method" or
// "pkg.Service.Method" for a method, full names for everything else (a leading dot is
// allowed, as in descriptors).
import type { DescEnum, DescEnumValue, DescExtension, DescField, DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { RpcError, StatusCode } from "async-grpc";
import type { Schema } from "./schema.js";

export type Symbol =
  | DescService
  | DescMethod
  | DescMessage
  | DescEnum
  | DescField
  | DescExtension
  | DescEnumValue;

function clean(name: string): string {
  return name.replace(/^[./]+/, "");
}

/** "pkg.Service/Method" or "pkg.Service.Method" as [service, method]. */
export function splitMethodName(name: string): [string, string] {
  const full = clean(name);
  const slash = full.lastIndexOf("/");
  const at = slash >= 0 ? slash : full.lastIndexOf(".");
  if (at <= 0 || at === full.length - 1) {
    throw new RpcError(StatusCode.INVALID_ARGUMENT, `"${name}" is not a method name (package.Service/Method)`);
  }
  return [full.slice(0, at), full.slice(at + 1)];
}

function isNotFound(err: unknown): boolean {
  return err instanceof RpcError && err.code === StatusCode.NOT_FOUND;
}

/** The method `name` names; NOT_FOUND for an unknown service or method. */
export async function findMethod(schema: Schema, name: string): Promise<{ method: DescMethod; registry: Awaited<ReturnType<Schema["registryFor"]>> }> {
  const [serviceName, methodName] = splitMethodName(name);
  const registry = await schema.registryFor(serviceName).catch((err: unknown) => {
    throw isNotFound(err) ? new RpcError(StatusCode.NOT_FOUND, `Service not found: ${serviceName}`) : err;
  });
  const service = registry.getService(serviceName);
  if (service === undefined) throw new RpcError(StatusCode.NOT_FOUND, `Not a service: ${serviceName}`);
  const method = service.methods.find((m) => m.name === methodName);
  if (method === undefined) throw new RpcError(StatusCode.NOT_FOUND, `Service ${serviceName} has no method ${methodName}`);
  return { method, registry };
}

/** A service, method, message, enum, field or enum value by full name; NOT_FOUND otherwise. */
export async function findSymbol(schema: Schema, name: string): Promise<Symbol> {
  const full = clean(name).replace("/", ".");
  try {
    const registry = await schema.registryFor(full);
    const found = registry.get(full);
    if (found !== undefined) return found;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  // A member: a method of a service, a field of a message, a value of an enum.
  const dot = full.lastIndexOf(".");
  if (dot > 0) {
    const parentName = full.slice(0, dot);
    const member = full.slice(dot + 1);
    const registry = await schema.registryFor(parentName).catch((err: unknown) => {
      throw isNotFound(err) ? new RpcError(StatusCode.NOT_FOUND, `Symbol not found: ${full}`) : err;
    });
    const parent = registry.get(parentName);
    const found =
      parent?.kind === "service"
        ? parent.methods.find((m) => m.name === member)
        : parent?.kind === "message"
          ? parent.fields.find((f) => f.name === member)
          : parent?.kind === "enum"
            ? parent.values.find((v) => v.name === member)
            : undefined;
    if (found !== undefined) return found;
  }
  throw new RpcError(StatusCode.NOT_FOUND, `Symbol not found: ${full}`);
}
