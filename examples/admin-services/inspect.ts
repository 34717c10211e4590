// What an operator's tool learns from a server with the companion services, knowing
// nothing of its services in advance: their names and descriptors (reflection), their
// health, a call through descriptors fetched at run time, and the server's channelz
// counters.
import { createClient, insecureChannel, type Channel } from "../../src/index.js";
import { ChannelzClient } from "../../src/channelz/index.js";
import { HealthClient, ServingStatus } from "../../src/health/index.js";
import { ProtoReflectionDescriptorDatabase } from "../../src/reflection/index.js";

export interface Inspection {
  services: string[];
  health: Record<string, string>;
  /** A GetFeature answered through descriptors fetched by reflection. */
  featureName: string;
  server: { callsStarted: bigint; callsSucceeded: bigint; callsFailed: bigint };
}

/** Inspects the server at `target`. */
export async function inspect(target: string): Promise<Inspection> {
  const channel: Channel = insecureChannel(target);
  try {
    // #region inspect
    const reflection = new ProtoReflectionDescriptorDatabase(channel);
    const services = await reflection.getServices();

    const healthClient = new HealthClient(channel);
    const health: Record<string, string> = {};
    for (const service of ["", ...services]) {
      const status = await healthClient.check({ service }, { timeoutMs: 1000 }).then(
        (r) => ServingStatus[r.status],
        () => "(not registered)",
      );
      health[service === "" ? "(server)" : service] = status ?? "UNKNOWN";
    }

    // No generated code: the registry is built from what the server described.
    const registry = await reflection.registry(["routeguide.RouteGuide"]);
    const routeGuide = createClient(registry.getService("routeguide.RouteGuide")!, channel);
    const feature = await routeGuide.getFeature({ latitude: 407839000, longitude: -746144000 });
    await reflection.close();

    const { server: servers } = await new ChannelzClient(channel).getServers({});
    // #endregion
    const data = servers[0]?.data;
    return {
      services,
      health,
      featureName: String((feature as unknown as Record<string, unknown>)["name"]),
      server: { callsStarted: data?.callsStarted ?? 0n, callsSucceeded: data?.callsSucceeded ?? 0n, callsFailed: data?.callsFailed ?? 0n },
    };
  } finally {
    await channel.close();
  }
}
