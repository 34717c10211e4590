import { toBinary, type DescEnum, type DescExtension, type DescFile, type DescMessage, type DescService, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

/**
 * What reflection answers from: the files a server's services come from (and those
 * of a registry), with every symbol, file name and extension they define, and each
 * file's transitive imports. Built once, at the first reflection request.
 */
export class DescriptorIndex {
  readonly #files = new Map<string, DescFile>();
  readonly #symbols = new Map<string, DescFile>();
  // extendee type name -> extension number -> the file that declares it
  readonly #extensions = new Map<string, Map<number, DescFile>>();
  readonly #messages = new Set<string>();
  readonly #encoded = new Map<DescFile, Uint8Array>();

  constructor(services: Iterable<DescService>, registry: Registry | undefined) {
    for (const service of services) this.#addFile(service.file);
    if (registry) for (const type of registry) this.#addFile(type.file);
  }

  /** The file named `name` ("pkg/x.proto"). */
  fileByName(name: string): DescFile | undefined {
    return this.#files.get(name);
  }

  /**
   * The file that defines `symbol`: a service, method, message, field, oneof, enum,
   * enum value or extension, by its fully qualified name without a leading dot.
   */
  fileContainingSymbol(symbol: string): DescFile | undefined {
    return this.#symbols.get(symbol.startsWith(".") ? symbol.slice(1) : symbol);
  }

  /** The file that declares extension `number` of the message `extendee`. */
  fileContainingExtension(extendee: string, number: number): DescFile | undefined {
    return this.#extensions.get(extendee)?.get(number);
  }

  /** The extension numbers of `extendee`, or undefined if no such message is known. */
  extensionNumbers(extendee: string): number[] | undefined {
    if (!this.#messages.has(extendee)) return undefined;
    return [...(this.#extensions.get(extendee)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /**
   * `file` serialized, followed by its transitive imports (each once), as gRPC's
   * reflection services answer, so that a client can build the file at once.
   */
  withDependencies(file: DescFile): Uint8Array[] {
    const out: Uint8Array[] = [];
    const seen = new Set<DescFile>();
    const visit = (f: DescFile) => {
      if (seen.has(f)) return;
      seen.add(f);
      out.push(this.#encode(f));
      for (const dep of f.dependencies) visit(dep);
    };
    visit(file);
    return out;
  }

  #encode(file: DescFile): Uint8Array {
    let bytes = this.#encoded.get(file);
    if (bytes === undefined) this.#encoded.set(file, (bytes = toBinary(FileDescriptorProtoSchema, file.proto)));
    return bytes;
  }

  #addFile(file: DescFile): void {
    const name = file.proto.name;
    if (this.#files.has(name)) return;
    this.#files.set(name, file);
    for (const dep of file.dependencies) this.#addFile(dep);
    const pkg = file.proto.package;
    for (const message of file.messages) this.#addMessage(file, message);
    for (const e of file.enums) this.#addEnum(file, e, pkg);
    for (const ext of file.extensions) this.#addExtension(file, ext);
    for (const service of file.services) {
      this.#symbol(service.typeName, file);
      for (const method of service.methods) this.#symbol(`${service.typeName}.${method.name}`, file);
    }
  }

  #addMessage(file: DescFile, message: DescMessage): void {
    this.#symbol(message.typeName, file);
    this.#messages.add(message.typeName);
    for (const field of message.fields) this.#symbol(`${message.typeName}.${field.name}`, file);
    for (const oneof of message.oneofs) this.#symbol(`${message.typeName}.${oneof.name}`, file);
    for (const nested of message.nestedMessages) this.#addMessage(file, nested);
    for (const e of message.nestedEnums) this.#addEnum(file, e, message.typeName);
    for (const ext of message.nestedExtensions) this.#addExtension(file, ext);
  }

  // Enum values are scoped beside their enum, as in C++: "pkg.VALUE", not "pkg.Enum.VALUE".
  #addEnum(file: DescFile, e: DescEnum, scope: string): void {
    this.#symbol(e.typeName, file);
    for (const value of e.values) this.#symbol(scope === "" ? value.name : `${scope}.${value.name}`, file);
  }

  #addExtension(file: DescFile, ext: DescExtension): void {
    this.#symbol(ext.typeName, file);
    let byNumber = this.#extensions.get(ext.extendee.typeName);
    if (byNumber === undefined) this.#extensions.set(ext.extendee.typeName, (byNumber = new Map()));
    byNumber.set(ext.number, file);
  }

  #symbol(name: string, file: DescFile): void {
    if (!this.#symbols.has(name)) this.#symbols.set(name, file);
  }
}
