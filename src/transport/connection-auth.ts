import type { Http2Session } from "node:http2";
import type { ConnectionAuth } from "./call-stream.js";

// Recorded once per connection when it is accepted (the credentials layer decides what
// was verified); each call's stream reads it from its session.
const recorded = new WeakMap<Http2Session, ConnectionAuth>();

/** @internal Remembers what was verified about `session` for every call on it. */
export function recordConnectionAuth(session: Http2Session, auth: ConnectionAuth): void {
  recorded.set(session, auth);
}

/** @internal What was recorded about `session`, if anything (nothing: insecure). */
export function connectionAuthOf(session: Http2Session | undefined): ConnectionAuth | undefined {
  return session === undefined ? undefined : recorded.get(session);
}
