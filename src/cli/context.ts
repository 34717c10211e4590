// What every command works with: the parsed flags, the output streams, and the
// channel, schema and call options, each made when a command first needs it, so that
// `list --protoset` never connects and a bad flag fails before anything does.
import { Metadata, RpcError, StatusCode, type CallOptions, type Channel } from "async-grpc";
import type { CliArgs } from "./args.js";
import { parseHeaders } from "./headers.js";
import { openSchema, type Schema } from "./schema.js";
import { awaitConnection, openChannel, type ConnectResult } from "./target.js";

export interface Output {
  isTTY?: boolean;
  write(text: string): unknown;
}

export interface Io {
  stdout: Output;
  stderr: Output;
  stdin: AsyncIterable<string | Buffer>;
}

export class CliContext {
  readonly started = Date.now();
  readonly metadata: Metadata;
  #channel: Channel | undefined;
  #schema: Schema | undefined;
  #connected: Promise<ConnectResult> | undefined;

  constructor(
    readonly args: CliArgs,
    readonly io: Io,
  ) {
    this.metadata = new Metadata(parseHeaders(args.headers));
  }

  /** The deadline of the whole operation (--max-time), in epoch milliseconds. */
  get deadline(): number | undefined {
    return this.args.maxTimeMs === undefined ? undefined : this.started + this.args.maxTimeMs;
  }

  /** Options for every call the command makes: the -H metadata and the deadline. */
  callOptions(extra: CallOptions = {}): CallOptions {
    const options: CallOptions = { metadata: this.metadata, ...extra };
    if (this.deadline !== undefined) options.deadline = this.deadline;
    return options;
  }

  get channel(): Channel {
    this.#channel ??= openChannel(this.args);
    return this.#channel;
  }

  get schema(): Schema {
    this.#schema ??= openSchema(this.args, () => this.channel, this.callOptions());
    return this.#schema;
  }

  /**
   * Connects within --connect-timeout (and what is left of --max-time). "failed" means
   * the first attempt failed; the next call then fails at once with UNAVAILABLE and the
   * reason. Throws UNAVAILABLE (or DEADLINE_EXCEEDED) when the time runs out.
   */
  async connect(): Promise<ConnectResult> {
    this.#connected ??= (async () => {
      const left = this.deadline === undefined ? Infinity : this.deadline - Date.now();
      const wait = Math.max(1, Math.min(this.args.connectTimeoutMs, left));
      const result = await awaitConnection(this.channel, wait);
      if (result === "timeout") {
        if (wait < this.args.connectTimeoutMs) throw new RpcError(StatusCode.DEADLINE_EXCEEDED, `No connection to ${this.args.target} within --max-time`);
        throw new RpcError(StatusCode.UNAVAILABLE, `No connection to ${this.args.target} within ${this.args.connectTimeoutMs / 1000} s (--connect-timeout)`);
      }
      return result;
    })();
    return this.#connected;
  }

  /** The schema, connected first when it comes from the server. */
  async remoteReadySchema(): Promise<Schema> {
    const schema = this.schema;
    if (schema.remote) await this.connect();
    return schema;
  }

  async close(): Promise<void> {
    await this.#schema?.close();
    await this.#channel?.close();
  }
}
