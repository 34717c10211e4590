// Compile-time check (the build fails if it breaks; nothing here runs): a plain
// DescService, such as one loaded at run time, gives client methods usable for every
// call kind without a cast (await, for await, write/doneWriting, read) and accepts
// handlers; what is wrong stays an error (each @ts-expect-error must find one).
import type { DescMessage, DescService, MessageShape } from "@bufbuild/protobuf";
import { createClient, createServer, EOF, type Channel, type Client } from "../../src/index.js";

export function plainDescriptorTypes(service: DescService, channel: Channel): void {
  const client = createClient(service, channel);
  void client["getFeature"]?.({});
  createServer().addService(service, { getFeature: async () => ({}) });
}

export async function plainDescriptorCalls(service: DescService, channel: Channel): Promise<void> {
  const client = createClient(service, channel);

  // Server streaming: the call is an async iterable of messages.
  for await (const feature of client.listFeatures({ lo: { latitude: 1 } })) {
    const message: MessageShape<DescMessage> = feature;
    void message;
  }
  // Unary: awaiting gives a message.
  const feature: MessageShape<DescMessage> = await client.getFeature({ latitude: 1 }, { timeoutMs: 1000 });
  void feature;
  // Client streaming: an iterable of requests, or write() and doneWriting(), then await.
  const summary: MessageShape<DescMessage> = await client.recordRoute([{ latitude: 1 }, { latitude: 2 }]);
  void summary;
  const recording = client.recordRoute();
  await recording.write({ latitude: 3 });
  await recording.doneWriting();
  // Bidi streaming: read() until EOF, with the call's status afterwards.
  const chat = client.routeChat();
  for (let note = await chat.read(); note !== EOF; note = await chat.read()) void note.$typeName;
  void (await chat.code());

  // A client is never a thenable: awaiting it gives the client.
  const same: Client<DescService> = await client;
  void same;

  // @ts-expect-error: nor does it have a then to call
  void client.then();
  // @ts-expect-error: a request is an object (or an iterable of them), not a number
  void client.getFeature(42);
  // @ts-expect-error: options are CallOptions
  void client.getFeature({}, { timeout: 1000 });
  // @ts-expect-error: responses are messages, not any
  const wrong: number = await client.getFeature({});
  void wrong;
  for await (const note of client.routeChat([])) {
    // @ts-expect-error: nor are streamed responses any
    const text: string = note;
    void text;
  }
}
