// `async-grpc list <target> [service]`: the services, or one service's methods, one
// full name per line (as grpcurl prints them).
import { RpcError, StatusCode } from "async-grpc";
import type { CliContext } from "../context.js";

export async function list(ctx: CliContext): Promise<number> {
  const schema = await ctx.remoteReadySchema();
  const name = ctx.args.name?.replace(/^\./, "");
  if (name === undefined) {
    for (const service of await schema.services()) ctx.io.stdout.write(`${service}\n`);
    return 0;
  }
  const registry = await schema.registryFor(name);
  const service = registry.getService(name);
  if (service === undefined) throw new RpcError(StatusCode.NOT_FOUND, `Not a service: ${name}`);
  for (const method of service.methods) ctx.io.stdout.write(`${service.typeName}.${method.name}\n`);
  return 0;
}
