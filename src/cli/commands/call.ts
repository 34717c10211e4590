// `async-grpc call <target> <pkg.Service/Method>`: requests from -d (or stdin with
// -d @) in the protobuf JSON mapping or the text format, sent as they are read; each
// response printed as it arrives; headers and trailers on stderr with -v.
import { create, fromBinary, toBinary, type DescMethod, type Message } from "@bufbuild/protobuf";
import {
  RpcError,
  type Metadata,
  type MethodSerializers,
  type StreamStreamCall,
  type StreamUnaryCall,
  type UnaryStreamCall,
  type UnaryUnaryCall,
} from "async-grpc";
import { UsageError } from "../args.js";
import type { CliContext } from "../context.js";
import { parseMessage, printMessage, splitMessages, type FormatOptions } from "../message-format.js";
import { Progress } from "../progress.js";
import { findMethod } from "../symbols.js";

function printMetadata(title: string, metadata: Metadata): string {
  const lines = [...metadata].map(([key, value]) => `  ${key}: ${typeof value === "string" ? value : Buffer.from(value).toString("base64")}`);
  return `${title}${lines.length === 0 ? " (none)" : ""}\n${lines.map((l) => `${l}\n`).join("")}`;
}

async function* stdinText(stdin: AsyncIterable<string | Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  for await (const chunk of stdin) yield typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
  const rest = decoder.decode();
  if (rest !== "") yield rest;
}

export async function call(ctx: CliContext): Promise<number> {
  const { args, io } = ctx;
  const schema = ctx.schema;
  await ctx.connect();
  const { method, registry } = await findMethod(schema, args.name!);
  const format: FormatOptions = { format: args.format, emitDefaults: args.emitDefaults, registry };
  const progress = new Progress(io.stderr);
  const serializers: MethodSerializers<Message, Message> = {
    requestSerializer: (m) => toBinary(method.input, m),
    responseDeserializer: (bytes) => {
      progress.onResponse(bytes.byteLength);
      return fromBinary(method.output, bytes);
    },
  };
  const path = `/${method.parent.typeName}/${method.name}`;

  // Requests are parsed as they arrive; a malformed one stops the call (exit 2).
  const controller = new AbortController();
  let inputError: unknown;
  // No -d: one empty request for a unary request, none for a request stream.
  const texts = args.data === undefined ? [] : args.data === "@" ? stdinText(io.stdin) : [args.data];
  async function* requests(): AsyncGenerator<Message> {
    let n = 0;
    try {
      for await (const text of splitMessages(texts, args.format)) {
        const message = parseMessage(method.input, text, ++n, format);
        progress.onRequest();
        yield message;
      }
    } catch (err) {
      inputError = err;
      controller.abort(err);
    }
  }
  const single = async (): Promise<Message> => {
    const all: Message[] = [];
    for await (const m of requests()) {
      all.push(m);
      if (all.length > 1) throw new UsageError(`${method.name} takes one request, and the input holds more`);
    }
    if (inputError !== undefined) throw inputError;
    return all[0] ?? create(method.input);
  };

  const options = ctx.callOptions({ signal: controller.signal });
  const print = (m: Message) => {
    progress.clear();
    io.stdout.write(`${printMessage(method.output, m, format)}\n${args.format === "text" ? "\n" : ""}`);
  };
  const started = await startCall(ctx, method, path, serializers, options, requests, single);
  const theCall = started.call;
  if (args.verbose) {
    void theCall.initialMetadata().then(
      (md) => io.stderr.write(printMetadata("Response headers:", md)),
      () => {},
    );
  }
  try {
    if (started.responses === "one") print(await started.call);
    else for await (const m of started.call) print(m);
  } catch (err) {
    progress.clear();
    if (inputError !== undefined) throw inputError;
    if (args.verbose && err instanceof RpcError) io.stderr.write(printMetadata("Response trailers:", err.trailingMetadata));
    throw err;
  }
  progress.clear();
  if (args.verbose) io.stderr.write(printMetadata("Response trailers:", await theCall.trailingMetadata()));
  return 0;
}

// The call in a wrapper: an awaitable call returned from an async function would be awaited.
type Started =
  | { responses: "one"; call: UnaryUnaryCall<Message, Message> | StreamUnaryCall<Message, Message> }
  | { responses: "stream"; call: UnaryStreamCall<Message, Message> | StreamStreamCall<Message, Message> };

async function startCall(
  ctx: CliContext,
  method: DescMethod,
  path: string,
  serializers: MethodSerializers<Message, Message>,
  options: ReturnType<CliContext["callOptions"]>,
  requests: () => AsyncGenerator<Message>,
  single: () => Promise<Message>,
): Promise<Started> {
  const channel = ctx.channel;
  switch (method.methodKind) {
    case "unary":
      return { responses: "one", call: channel.unaryUnary(path, serializers)(await single(), options) };
    case "server_streaming":
      return { responses: "stream", call: channel.unaryStream(path, serializers)(await single(), options) };
    case "client_streaming":
      return { responses: "one", call: channel.streamUnary(path, serializers)(requests(), options) };
    case "bidi_streaming":
      return { responses: "stream", call: channel.streamStream(path, serializers)(requests(), options) };
  }
}
