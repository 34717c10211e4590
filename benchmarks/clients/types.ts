import type { BenchMessage } from "../payload.js";

/**
 * One implementation's client, used the way its documentation suggests. Every
 * method checks what it got back (sizes, counts, status) and throws if it is wrong,
 * so that a broken implementation cannot post a good figure.
 */
export interface BenchClient {
  /** One Unary call; resolves once the echo has arrived. */
  unary(message: BenchMessage): Promise<void>;
  /** One ServerStream call; resolves with the number of messages received. */
  serverStream(request: BenchMessage, expectedCount: number): Promise<number>;
  /** One ClientStream call writing `message` until `performance.now() >= until`; resolves with the count sent. */
  clientStream(message: BenchMessage, until: number): Promise<number>;
  /** Ping-pong on one Bidi call until `performance.now() >= until`; resolves with the round trips made. */
  pingPong(message: BenchMessage, until: number): Promise<number>;
  close(): Promise<void>;
}

export function expectLength(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${what}: got ${got} bytes, expected ${want}`);
}

export function expectCount(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${what}: got ${got} messages, expected ${want}`);
}

/** Time checks cost more than a small write; do one every this many messages. */
export const TIME_CHECK_EVERY = 64;
