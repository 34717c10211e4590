// Compile-time check (the build fails if it breaks): a plain DescService, such as one
// loaded at run time, gives callable client methods and accepts handlers.
import type { DescService } from "@bufbuild/protobuf";
import { createClient, createServer, type Channel } from "../../src/index.js";

export function plainDescriptorTypes(service: DescService, channel: Channel): void {
  const client = createClient(service, channel);
  void client["getFeature"]?.({});
  createServer().addService(service, { getFeature: async () => ({}) });
}
