// Message types and a random message generator shared by the protobuf encoder and
// decoder tests: proto3, proto2 and editions types with every scalar type, enums,
// presence, oneofs, packed and unpacked lists, maps with every key type, nested,
// recursive and delimited messages, wrappers, Struct, unknown fields and extensions.
import { create, ScalarType, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadProtos, type LoadedProtos } from "../../src/index.js";

const PROTO3 = `
syntax = "proto3";
package enc.v3;
import "google/protobuf/wrappers.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
enum Color { COLOR_UNSPECIFIED = 0; RED = 1; GREEN = 2; NEGATIVE = -3; }
message Scalars {
  double d = 1; float f = 2; int32 i32 = 3; int64 i64 = 4; uint32 u32 = 5; uint64 u64 = 6;
  sint32 s32 = 7; sint64 s64 = 8; fixed32 fx32 = 9; fixed64 fx64 = 10; sfixed32 sfx32 = 11;
  sfixed64 sfx64 = 12; bool b = 13; string s = 14; bytes by = 15; Color color = 16;
  int64 i64_str = 17 [jstype = JS_STRING];
}
message Optionals {
  optional int32 i32 = 1; optional string s = 2; optional bytes by = 3; optional Color color = 4;
  optional double d = 5; optional bool b = 6; optional uint64 u64 = 7;
}
message Lists {
  repeated int32 i32 = 1; repeated sint64 s64 = 2; repeated double d = 3; repeated bool b = 4;
  repeated string s = 5; repeated bytes by = 6; repeated Color color = 7; repeated Scalars msg = 8;
  repeated int32 unpacked = 9 [packed = false]; repeated fixed64 fx64 = 10; repeated float f = 11;
}
message Maps {
  map<string, string> ss = 1; map<int32, Scalars> im = 2; map<int64, bytes> lb = 3;
  map<bool, Color> be = 4; map<uint32, double> ud = 5; map<sint64, int32> si = 6;
  map<fixed32, string> fs = 7; map<sfixed64, bool> sb = 8; map<uint64, uint64> uu = 9;
}
message Tree {
  string name = 1; repeated Tree children = 2; Tree parent = 3;
  oneof pick { int32 n = 4; string text = 5; Scalars scalars = 6; Color c = 7; google.protobuf.Int32Value wrapped_in_oneof = 8; bytes raw = 9; }
}
message Wrapped { google.protobuf.Int32Value i = 1; google.protobuf.StringValue s = 2; string plain = 3; }
message WithStruct { google.protobuf.Struct st = 1; int32 n = 2; }
message Holder {
  Wrapped wrapped = 1; WithStruct with_struct = 2; repeated Wrapped many = 3; google.protobuf.Timestamp at = 4;
  map<string, Wrapped> by_name = 5; Scalars scalars = 6;
}
`;

const PROTO2 = `
syntax = "proto2";
package enc.v2;
enum Kind { ZERO = 0; ONE = 1; }
message Defaults {
  optional int32 i32 = 1 [default = 7]; optional string s = 2 [default = "x"]; optional Kind kind = 3 [default = ONE];
  required int32 needed = 4; optional bytes by = 5; repeated int32 unpacked = 6; repeated int32 packed = 7 [packed = true];
  optional group G = 8 { optional int32 a = 9; }
  extensions 100 to 200;
}
extend Defaults { optional int32 ext_i32 = 100; repeated string ext_s = 101; }
`;

const EDITIONS = `
edition = "2023";
package enc.ed;
message Node {
  int32 implicit_free = 1 [features.field_presence = IMPLICIT];
  int32 explicit = 2;
  Node child = 3 [features.message_encoding = DELIMITED];
  repeated Node kids = 4 [features.message_encoding = DELIMITED];
  repeated int32 expanded = 5 [features.repeated_field_encoding = EXPANDED];
  repeated int32 packed = 6;
  string s = 7;
}
`;

/** Compiles the fixture protos (in a temporary folder, removed again). */
export function loadFixtures(): LoadedProtos {
  const scratch = mkdtempSync(join(tmpdir(), "async-grpc-protobuf-fixtures-"));
  try {
    writeFileSync(join(scratch, "v3.proto"), PROTO3);
    writeFileSync(join(scratch, "v2.proto"), PROTO2);
    writeFileSync(join(scratch, "ed.proto"), EDITIONS);
    return loadProtos(["v3.proto", "v2.proto", "ed.proto"], { includeDirs: [scratch] });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The fixture message types (not the well-known types they import). */
export function fixtureMessages(loaded: LoadedProtos): DescMessage[] {
  return Object.entries(loaded.messages)
    .filter(([name]) => name.startsWith("enc."))
    .map(([, desc]) => desc);
}

// A small deterministic generator (mulberry32), so that a failure reproduces.
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  constructor(private readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  string(): string {
    const alphabets = ["abc", "é€", "😀", "\ud800", "xyz0123456789"];
    let s = "";
    const n = this.pick([0, 1, 5, 63, 64, 70, 200]);
    for (let i = 0; i < n; i++) s += this.pick(alphabets)[0]! + (this.chance(0.5) ? "q" : "");
    return s.slice(0, n + 10);
  }
  bytes(): Uint8Array {
    const n = this.pick([0, 1, 7, 127, 128, 300, 20_000]);
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i += 97) b[i] = this.int(256);
    return b;
  }
  scalar(type: ScalarType, int64AsString: boolean): unknown {
    const edges32 = [0, 1, -1, 127, 128, 16383, 16384, 0x7fffffff, -0x80000000, 300, -300];
    const edgesU32 = [0, 1, 127, 128, 0xffffffff, 0x80000000, 2 ** 28, 2 ** 21];
    const edges64 = [0n, 1n, -1n, 2n ** 31n, 2n ** 32n, 2n ** 35n, 2n ** 42n, 2n ** 49n, 2n ** 56n, 2n ** 63n - 1n, -(2n ** 63n)];
    const edgesU64 = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 35n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 49n + 3n];
    const big = (v: bigint): unknown => (int64AsString ? v.toString() : v);
    switch (type) {
      case ScalarType.DOUBLE:
        return this.pick([0, -0, 1.5, -2.25e300, Number.NaN, Infinity, 1e-310]);
      case ScalarType.FLOAT:
        return this.pick([0, -0, 1.5, -3.4e38, Number.NaN, -Infinity, 1e-40]);
      case ScalarType.INT32:
      case ScalarType.SINT32:
      case ScalarType.SFIXED32:
        return this.pick(edges32);
      case ScalarType.UINT32:
      case ScalarType.FIXED32:
        return this.pick(edgesU32);
      case ScalarType.INT64:
      case ScalarType.SINT64:
      case ScalarType.SFIXED64:
        return big(this.pick(edges64));
      case ScalarType.UINT64:
      case ScalarType.FIXED64:
        return big(this.pick(edgesU64));
      case ScalarType.BOOL:
        return this.chance(0.5);
      case ScalarType.STRING:
        return this.string();
      case ScalarType.BYTES:
        return this.bytes();
    }
  }
  enumValue(field: DescField): number {
    const values = (field as { enum: { values: { number: number }[] } }).enum.values;
    return this.pick(values).number;
  }
  mapKey(type: ScalarType): string {
    switch (type) {
      case ScalarType.STRING:
        return this.string();
      case ScalarType.BOOL:
        return String(this.chance(0.5));
      default:
        return String(this.scalar(type, true));
    }
  }
  message(desc: DescMessage, depth: number): Message {
    const m = create(desc) as Record<string, unknown> & Message;
    for (const field of desc.fields) {
      if (!this.chance(0.6) && !(field.fieldKind === "scalar" && field.presence === 3)) continue;
      const int64AsString = field.fieldKind === "scalar" && field.longAsString;
      const value = (): unknown => {
        switch (field.fieldKind) {
          case "scalar":
            return this.scalar(field.scalar, int64AsString);
          case "enum":
            return this.enumValue(field);
          case "message":
            if (depth > 2) return undefined;
            if (field.message.typeName === "google.protobuf.Int32Value" && field.oneof === undefined) return this.int(5) - 2;
            if (field.message.typeName === "google.protobuf.StringValue") return this.string();
            if (field.message.typeName === "google.protobuf.Struct") return { a: 1, b: ["x", null, true], c: { d: "e" } };
            return this.message(field.message, depth + 1);
          case "list": {
            const n = this.pick([0, 1, 3, 20]);
            const items: unknown[] = [];
            for (let i = 0; i < n; i++) {
              if (field.listKind === "scalar") items.push(this.scalar(field.scalar, field.longAsString));
              else if (field.listKind === "enum") items.push(this.enumValue(field));
              else if (depth <= 2) items.push(this.message(field.message, depth + 1));
            }
            return items;
          }
          case "map": {
            const record: Record<string, unknown> = {};
            const n = this.pick([0, 1, 4]);
            for (let i = 0; i < n; i++) {
              const key = this.mapKey(field.mapKey);
              if (field.mapKind === "scalar") record[key] = this.scalar(field.scalar, false);
              else if (field.mapKind === "enum") record[key] = this.enumValue(field);
              else if (depth <= 2) record[key] = this.message(field.message, depth + 1);
            }
            return record;
          }
        }
      };
      const v = value();
      if (v === undefined) continue;
      if (field.oneof) m[field.oneof.localName] = { case: field.localName, value: v };
      else m[field.localName] = v;
    }
    if (this.chance(0.2)) {
      // Unknown fields, as a parse of a newer peer's message leaves them.
      m.$unknown = [
        { no: 1000, wireType: 0, data: new Uint8Array([0x96, 0x01]) },
        { no: 1001, wireType: 2, data: new Uint8Array([3, 1, 2, 3]) },
      ];
    }
    return m;
  }
}
