// `async-grpc describe <target> [symbol]`: what a name is, as .proto source; every
// service when no symbol is given.
import type { CliContext } from "../context.js";
import { renderEnum, renderFieldDecl, renderMessage, renderMethod, renderService } from "../proto-render.js";
import { findSymbol, type Symbol } from "../symbols.js";

function describeOne(symbol: Symbol): string {
  switch (symbol.kind) {
    case "service":
      return `${symbol.typeName} is a service:\n${renderService(symbol)}`;
    case "rpc":
      return `${symbol.parent.typeName}.${symbol.name} is a method:\n${renderMethod(symbol)}`;
    case "message":
      return `${symbol.typeName} is a message:\n${renderMessage(symbol)}`;
    case "enum":
      return `${symbol.typeName} is an enum:\n${renderEnum(symbol)}`;
    case "field":
      return `${symbol.parent.typeName}.${symbol.name} is a field:\n${renderFieldDecl(symbol)}`;
    case "extension":
      return `${symbol.typeName} is an extension:\n${renderFieldDecl(symbol)}`;
    case "enum_value":
      return `${symbol.parent.typeName}.${symbol.name} is an enum value:\n${symbol.name} = ${symbol.number};`;
  }
}

export async function describe(ctx: CliContext): Promise<number> {
  const schema = await ctx.remoteReadySchema();
  const names = ctx.args.name === undefined ? await schema.services() : [ctx.args.name];
  const out: string[] = [];
  for (const name of names) out.push(describeOne(await findSymbol(schema, name)));
  ctx.io.stdout.write(`${out.join("\n\n")}\n`);
  return 0;
}
