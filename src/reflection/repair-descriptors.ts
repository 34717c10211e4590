import { isFieldSet } from "@bufbuild/protobuf";
import { FieldDescriptorProtoSchema, type DescriptorProto, type FieldDescriptorProto, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";

/**
 * Makes every type reference in `files` fully qualified (".pkg.Msg"), as protoc writes
 * them, and adds the imports a reference needs but a file does not declare, taking
 * files from `library` (the well-known types) where needed. Some servers send
 * descriptors that way: @grpc/reflection rebuilds its files with protobufjs, which
 * writes "Base" for ".testing.reflect.Base" and leaves out the import of
 * google/protobuf/timestamp.proto, and every field's json_name (protoc always fills it
 * in, and the registry takes it as it is: without it, every field's JSON name would be
 * ""). Names are resolved with protobuf's scoping rule
 * (innermost scope first); one that resolves to nothing is left for the registry to
 * reject. Returns `files` and the library files they need, each file after its imports.
 */
export function repairDescriptors(files: readonly FileDescriptorProto[], library: ReadonlyMap<string, FileDescriptorProto>): FileDescriptorProto[] {
  const byName = new Map<string, FileDescriptorProto>();
  for (const file of library.values()) byName.set(file.name, file);
  for (const file of files) byName.set(file.name, file);
  // fully qualified type name -> the file that defines it
  const definedIn = new Map<string, string>();
  for (const file of byName.values()) {
    const prefix = file.package === "" ? "" : `.${file.package}`;
    for (const e of file.enumType) definedIn.set(`${prefix}.${e.name}`, file.name);
    for (const m of file.messageType) collect(m, prefix, file.name, definedIn);
  }
  for (const file of files) {
    const prefix = file.package === "" ? "" : `.${file.package}`;
    const uses = new Set<string>();
    const ref = (name: string, scope: string) => {
      const full = resolve(name, scope, definedIn);
      const home = definedIn.get(full);
      if (home !== undefined) uses.add(home);
      return full;
    };
    for (const m of file.messageType) qualifyMessage(m, `${prefix}.${m.name}`, ref);
    for (const ext of file.extension) qualifyField(ext, prefix, ref);
    for (const service of file.service) {
      const scope = `${prefix}.${service.name}`;
      for (const method of service.method) {
        method.inputType = ref(method.inputType, scope);
        method.outputType = ref(method.outputType, scope);
      }
    }
    for (const home of uses) if (home !== file.name && !file.dependency.includes(home)) file.dependency.push(home);
  }
  // Each file after its imports.
  const ordered: FileDescriptorProto[] = [];
  const placed = new Set<string>();
  const place = (file: FileDescriptorProto, path: readonly string[]) => {
    if (placed.has(file.name)) return;
    if (path.includes(file.name)) throw new Error(`Import cycle: ${[...path, file.name].join(" -> ")}`);
    for (const dep of file.dependency) {
      const d = byName.get(dep);
      if (d === undefined) throw new Error(`${file.name} imports ${dep}, which the server did not send`);
      place(d, [...path, file.name]);
    }
    placed.add(file.name);
    ordered.push(file);
  };
  for (const file of files) place(file, []);
  return ordered;
}

type Ref = (name: string, scope: string) => string;

function collect(message: DescriptorProto, scope: string, fileName: string, definedIn: Map<string, string>): void {
  const name = `${scope}.${message.name}`;
  definedIn.set(name, fileName);
  for (const e of message.enumType) definedIn.set(`${name}.${e.name}`, fileName);
  for (const nested of message.nestedType) collect(nested, name, fileName, definedIn);
}

function qualifyMessage(message: DescriptorProto, scope: string, ref: Ref): void {
  for (const field of message.field) qualifyField(field, scope, ref);
  for (const ext of message.extension) qualifyField(ext, scope, ref);
  for (const nested of message.nestedType) qualifyMessage(nested, `${scope}.${nested.name}`, ref);
}

function qualifyField(field: FieldDescriptorProto, scope: string, ref: Ref): void {
  if (!isFieldSet(field, FieldDescriptorProtoSchema.field.jsonName)) field.jsonName = jsonName(field.name);
  if (field.typeName !== "") field.typeName = ref(field.typeName, scope);
  if (field.extendee !== "") field.extendee = ref(field.extendee, scope);
}

function resolve(name: string, scope: string, known: ReadonlyMap<string, string>): string {
  if (name.startsWith(".")) return name;
  let s = scope;
  for (;;) {
    const candidate = `${s}.${name}`;
    if (known.has(candidate)) return candidate;
    if (s === "") return name;
    s = s.slice(0, Math.max(0, s.lastIndexOf(".")));
  }
}

// protoc's default JSON name: each underscore dropped and the letter after it capitalized.
function jsonName(name: string): string {
  let out = "";
  let upper = false;
  for (const c of name) {
    if (c === "_") upper = true;
    else {
      out += upper ? c.toUpperCase() : c;
      upper = false;
    }
  }
  return out;
}
