// Messages in and out, in the protobuf JSON mapping (the default) or the text format
// (--format text). Requests arrive as a stream of text in which several messages follow
// one another: JSON objects back to back (whitespace between them, or none), or text
// format messages separated by the ASCII record separator (0x1E), as grpcurl reads them.
import { fromJson, toJson, type DescMessage, type Message, type Registry } from "@bufbuild/protobuf";
import { fromText, toText } from "@bufbuild/protobuf/txtpb";
import { UsageError, type Format } from "./args.js";

export interface FormatOptions {
  format: Format;
  emitDefaults: boolean;
  registry: Registry;
}

/** A response as one line of JSON, or as text format (which may span lines). */
export function printMessage(schema: DescMessage, message: Message, options: FormatOptions): string {
  if (options.format === "text") return toText(schema, message, { registry: options.registry }).trimEnd();
  return JSON.stringify(toJson(schema, message, { alwaysEmitImplicit: options.emitDefaults, registry: options.registry }));
}

/** Parses request number `n` (1-based, for the error); a mistake is a UsageError. */
export function parseMessage(schema: DescMessage, text: string, n: number, options: FormatOptions): Message {
  try {
    if (options.format === "text") return fromText(schema, text, { registry: options.registry });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new Error(`not valid JSON: ${(err as Error).message}`);
    }
    return fromJson(schema, json as Parameters<typeof fromJson>[1], { registry: options.registry });
  } catch (err) {
    throw new UsageError(`request ${n} is not a valid ${schema.typeName} in ${options.format === "text" ? "text format" : "JSON"}: ${(err as Error).message.split("\n")[0]}`);
  }
}

/** Cuts a stream of text into messages as their last character arrives. */
export interface MessageSplitter {
  /** The messages completed by `chunk`. */
  push(chunk: string): string[];
  /** What is left at the end of the input (a last message, or nothing); throws on a truncated one. */
  end(): string[];
}

const RECORD_SEPARATOR = "\x1e";

/** JSON objects one after another: tracks braces outside strings. */
class JsonSplitter implements MessageSplitter {
  private buffer = "";
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scanned = 0;
  private count = 0;

  push(chunk: string): string[] {
    this.buffer += chunk;
    const out: string[] = [];
    let i = this.scanned;
    for (; i < this.buffer.length; i++) {
      const c = this.buffer[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === "\\") this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (this.depth === 0) {
        if (c === " " || c === "\n" || c === "\r" || c === "\t" || c === RECORD_SEPARATOR) continue;
        if (c !== "{") {
          const near = this.buffer.slice(i, i + 20).split("\n")[0];
          throw new UsageError(`request ${this.count + 1} is not valid JSON: expected "{" but found "${near}"`);
        }
        // Drop what came before the object (whitespace).
        this.buffer = this.buffer.slice(i);
        i = 0;
      }
      if (c === '"') this.inString = true;
      else if (c === "{" || c === "[") this.depth++;
      else if (c === "}" || c === "]") {
        this.depth--;
        if (this.depth === 0) {
          out.push(this.buffer.slice(0, i + 1));
          this.count++;
          this.buffer = this.buffer.slice(i + 1);
          i = -1;
        }
      }
    }
    this.scanned = i;
    return out;
  }

  end(): string[] {
    if (this.buffer.trim() !== "") throw new UsageError(`request ${this.count + 1} is not valid JSON: the input ends inside it`);
    return [];
  }
}

/** Text format messages separated by 0x1E. */
class TextSplitter implements MessageSplitter {
  private buffer = "";

  push(chunk: string): string[] {
    this.buffer += chunk;
    const parts = this.buffer.split(RECORD_SEPARATOR);
    this.buffer = parts.pop()!;
    return parts;
  }

  end(): string[] {
    const last = this.buffer;
    this.buffer = "";
    // A trailing separator leaves an empty last part, which is no message.
    return last.trim() === "" ? [] : [last];
  }
}

export function messageSplitter(format: Format): MessageSplitter {
  return format === "text" ? new TextSplitter() : new JsonSplitter();
}

/** The messages of a text stream, each yielded as soon as it is complete. */
export async function* splitMessages(chunks: AsyncIterable<string> | Iterable<string>, format: Format): AsyncGenerator<string> {
  const splitter = messageSplitter(format);
  for await (const chunk of chunks) yield* splitter.push(chunk);
  yield* splitter.end();
}
