// Descriptors rendered back to .proto source, for `describe`. Types are written fully
// qualified with a leading dot (".pkg.Message"), which is valid proto and needs no
// knowledge of the reader's package; map fields, oneofs, proto2 groups and defaults,
// proto3 optional, reserved ranges and names, extension ranges and the options that
// change meaning (deprecated, packed, json_name when not the default) are kept.
import { isFieldSet, type DescEnum, type DescExtension, type DescField, type DescFile, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FieldDescriptorProtoSchema,
  FieldOptionsSchema,
  MethodOptions_IdempotencyLevel,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
} from "@bufbuild/protobuf/wkt";

const SCALAR_NAMES: Partial<Record<Type, string>> = {
  [Type.DOUBLE]: "double",
  [Type.FLOAT]: "float",
  [Type.INT64]: "int64",
  [Type.UINT64]: "uint64",
  [Type.INT32]: "int32",
  [Type.FIXED64]: "fixed64",
  [Type.FIXED32]: "fixed32",
  [Type.BOOL]: "bool",
  [Type.STRING]: "string",
  [Type.BYTES]: "bytes",
  [Type.UINT32]: "uint32",
  [Type.SFIXED32]: "sfixed32",
  [Type.SFIXED64]: "sfixed64",
  [Type.SINT32]: "sint32",
  [Type.SINT64]: "sint64",
};

const INDENT = "  ";

// descriptor.proto is proto2: whether a field was set is presence, not its value.
function has(field: FieldDescriptorProto, name: "oneofIndex" | "defaultValue" | "jsonName" | "proto3Optional"): boolean {
  return isFieldSet(field, FieldDescriptorProtoSchema.field[name]);
}

function oneofOf(field: FieldDescriptorProto): number | undefined {
  return has(field, "oneofIndex") && !field.proto3Optional ? field.oneofIndex : undefined;
}

function syntaxOf(file: DescFile): "proto2" | "proto3" | "editions" {
  return file.proto.syntax === "proto3" ? "proto3" : file.proto.syntax === "editions" ? "editions" : "proto2";
}

// protoc's default json_name: lowerCamelCase of the field name.
function defaultJsonName(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()).replace(/_/g, "");
}

function quote(s: string): string {
  return JSON.stringify(s);
}

function typeName(field: FieldDescriptorProto): string {
  const scalar = SCALAR_NAMES[field.type];
  if (scalar !== undefined) return scalar;
  return field.typeName.startsWith(".") ? field.typeName : `.${field.typeName}`;
}

function fieldOptions(field: FieldDescriptorProto): string {
  const opts: string[] = [];
  if (has(field, "defaultValue")) {
    // A bytes default is stored C-escaped already; a string default is stored as is.
    const value = field.type === Type.STRING ? quote(field.defaultValue) : field.type === Type.BYTES ? `"${field.defaultValue}"` : field.defaultValue;
    opts.push(`default = ${value}`);
  }
  if (has(field, "jsonName") && field.jsonName !== defaultJsonName(field.name)) opts.push(`json_name = ${quote(field.jsonName)}`);
  if (field.options !== undefined && isFieldSet(field.options, FieldOptionsSchema.field.packed)) opts.push(`packed = ${field.options.packed}`);
  if (field.options?.deprecated) opts.push("deprecated = true");
  return opts.length > 0 ? ` [${opts.join(", ")}]` : "";
}

function ranges(list: readonly { start: number; end: number }[], endInclusive: boolean): string {
  return list
    .map(({ start, end }) => {
      const last = endInclusive ? end : end - 1;
      if (last === start) return String(start);
      return last >= 536_870_911 ? `${start} to max` : `${start} to ${last}`;
    })
    .join(", ");
}

function renderField(field: FieldDescriptorProto, message: DescriptorProto, syntax: string, indent: string, out: string[]): void {
  let label = "";
  if (field.label === Label.REPEATED) label = "repeated ";
  else if (field.label === Label.REQUIRED) label = "required ";
  else if (oneofOf(field) !== undefined) label = "";
  else if (syntax === "proto2" || field.proto3Optional) label = "optional ";
  // A map field is a repeated field of a nested *Entry type marked map_entry.
  const entry =
    field.type === Type.MESSAGE && field.label === Label.REPEATED
      ? message.nestedType.find((n) => n.options?.mapEntry && field.typeName.endsWith(`.${n.name}`))
      : undefined;
  if (entry !== undefined) {
    const [k, v] = entry.field;
    out.push(`${indent}map<${typeName(k!)}, ${typeName(v!)}> ${field.name} = ${field.number}${fieldOptions(field)};`);
    return;
  }
  if (field.type === Type.GROUP) {
    const group = message.nestedType.find((n) => field.typeName.endsWith(`.${n.name}`));
    out.push(`${indent}${label}group ${group?.name ?? field.name} = ${field.number}${fieldOptions(field)} {`);
    if (group) renderMessageBody(group, syntax, indent + INDENT, out);
    out.push(`${indent}}`);
    return;
  }
  out.push(`${indent}${label}${typeName(field)} ${field.name} = ${field.number}${fieldOptions(field)};`);
}

function renderMessageBody(message: DescriptorProto, syntax: string, indent: string, out: string[]): void {
  const start = out.length;
  // A blank line between declarations and each nested type, none at the top.
  const separate = () => {
    if (out.length > start) out.push("");
  };
  if (message.options?.deprecated) out.push(`${indent}option deprecated = true;`);
  // Fields in declaration order; the members of a real oneof (not a proto3 optional's
  // synthetic one) are written together where its first member stands.
  const done = new Set<number>();
  for (const field of message.field) {
    const oneof = oneofOf(field);
    if (oneof !== undefined) {
      if (done.has(oneof)) continue;
      done.add(oneof);
      out.push(`${indent}oneof ${message.oneofDecl[oneof]?.name ?? `oneof_${oneof}`} {`);
      for (const member of message.field) {
        if (oneofOf(member) === oneof) renderField(member, message, syntax, indent + INDENT, out);
      }
      out.push(`${indent}}`);
      continue;
    }
    renderField(field, message, syntax, indent, out);
  }
  const groups = new Set(message.field.filter((f) => f.type === Type.GROUP).map((f) => f.typeName.split(".").pop()));
  for (const nested of message.enumType) {
    separate();
    renderEnumProto(nested, indent, out);
  }
  for (const nested of message.nestedType) {
    if (nested.options?.mapEntry || groups.has(nested.name)) continue;
    separate();
    renderMessageProto(nested, syntax, indent, out);
  }
  for (const ext of message.extension) {
    separate();
    out.push(`${indent}extend ${ext.extendee.startsWith(".") ? ext.extendee : `.${ext.extendee}`} {`);
    renderField(ext, message, syntax, indent + INDENT, out);
    out.push(`${indent}}`);
  }
  if (message.extensionRange.length > 0) out.push(`${indent}extensions ${ranges(message.extensionRange, false)};`);
  if (message.reservedRange.length > 0) out.push(`${indent}reserved ${ranges(message.reservedRange, false)};`);
  if (message.reservedName.length > 0) out.push(`${indent}reserved ${message.reservedName.map(quote).join(", ")};`);
}

function renderMessageProto(message: DescriptorProto, syntax: string, indent: string, out: string[]): void {
  out.push(`${indent}message ${message.name} {`);
  renderMessageBody(message, syntax, indent + INDENT, out);
  out.push(`${indent}}`);
}

function renderEnumProto(e: EnumDescriptorProto, indent: string, out: string[]): void {
  out.push(`${indent}enum ${e.name} {`);
  if (e.options?.allowAlias) out.push(`${indent}${INDENT}option allow_alias = true;`);
  if (e.options?.deprecated) out.push(`${indent}${INDENT}option deprecated = true;`);
  for (const v of e.value) out.push(`${indent}${INDENT}${v.name} = ${v.number}${v.options?.deprecated ? " [deprecated = true]" : ""};`);
  if (e.reservedRange.length > 0) out.push(`${indent}${INDENT}reserved ${ranges(e.reservedRange, true)};`);
  if (e.reservedName.length > 0) out.push(`${indent}${INDENT}reserved ${e.reservedName.map(quote).join(", ")};`);
  out.push(`${indent}}`);
}

/** One rpc line (with its options block when it has options that matter). */
export function renderMethod(method: DescMethod, indent = ""): string {
  const input = `${method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming" ? "stream " : ""}.${method.input.typeName}`;
  const output = `${method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming" ? "stream " : ""}.${method.output.typeName}`;
  const head = `${indent}rpc ${method.name}(${input}) returns (${output})`;
  const options: string[] = [];
  if (method.deprecated) options.push("option deprecated = true;");
  if (method.idempotency !== undefined && method.idempotency !== MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN) {
    options.push(`option idempotency_level = ${MethodOptions_IdempotencyLevel[method.idempotency]};`);
  }
  if (options.length === 0) return `${head};`;
  return [`${head} {`, ...options.map((o) => `${indent}${INDENT}${o}`), `${indent}}`].join("\n");
}

/** A service as .proto source. */
export function renderService(service: DescService): string {
  const lines = [`service ${service.name} {`];
  if (service.deprecated) lines.push(`${INDENT}option deprecated = true;`);
  for (const method of service.methods) lines.push(renderMethod(method, INDENT));
  lines.push("}");
  return lines.join("\n");
}

/** A message (with its nested types) as .proto source. */
export function renderMessage(message: DescMessage): string {
  const out: string[] = [];
  renderMessageProto(message.proto, syntaxOf(message.file), "", out);
  return out.join("\n");
}

/** An enum as .proto source. */
export function renderEnum(e: DescEnum): string {
  const out: string[] = [];
  renderEnumProto(e.proto, "", out);
  return out.join("\n");
}

/** A field of a message, as its declaration line. */
export function renderFieldDecl(field: DescField | DescExtension): string {
  const out: string[] = [];
  const parent = field.kind === "extension" ? undefined : field.parent.proto;
  const syntax = syntaxOf(field.kind === "extension" ? field.file : field.parent.file);
  renderField(field.proto, parent ?? ({ nestedType: [] } as unknown as DescriptorProto), syntax, "", out);
  const line = out.join("\n");
  return field.kind === "extension" ? `extend .${field.extendee.typeName} {\n${INDENT}${line}\n}` : line;
}
