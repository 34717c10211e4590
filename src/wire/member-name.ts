import type { DescMethod } from "@bufbuild/protobuf";

/**
 * The name of the member that stands for `method` on a client (`createClient()`, the
 * generated `<Service>Client`) and on a servicer: its protobuf-es `localName` (camelCase,
 * with `constructor`, `toString`, `toJSON` and `valueOf` already escaped as
 * `constructor$`, ...), and `then` escaped the same way as `then$`, so that no client or
 * servicer is ever a thenable that `await` would call. Proto names cannot contain `$`,
 * so an escaped name never collides with another method's.
 */
export function memberName(method: Pick<DescMethod, "localName">): string {
  return method.localName === "then" ? "then$" : method.localName;
}

/** The key `memberName()` gives a method whose protobuf-es local name is `K`. */
export type MemberName<K> = K extends "then" ? "then$" : K;
