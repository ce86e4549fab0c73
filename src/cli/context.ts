import type { ContentSource, ContentTarget, RegistryLocation } from "../oci/content.js";
import type { Endpoint } from "../copy/endpoint.js";
import { CnbSource } from "../layout/cnb-source.js";
import { CnbTarget } from "../layout/cnb-target.js";
import { LayoutSource } from "../layout/layout-source.js";
import { LayoutTarget } from "../layout/layout-target.js";
import { RegistryClient } from "../registry/client.js";
import { defaultCredentialProvider } from "../registry/credentials/default.js";
import { Reference } from "../registry/reference.js";
import { RegistrySource } from "../registry/source.js";
import { RegistryTarget } from "../registry/target.js";
import type { Output } from "./output.js";

/** Registry settings taken from global flags. */
export interface RegistrySettings {
  insecure: string[];
  caFile?: string;
  username?: string;
  password?: string;
  concurrency?: number;
}

/** What every command gets: how to print, and how to reach registries. */
export interface CliContext {
  output: Output;
  registry: RegistrySettings;
  /** A registry client whose explicit credentials (if any) belong to `defaultRegistry`. */
  client(defaultRegistry?: string): RegistryClient;
}

/** Builds the context from global flags. */
export function createContext(output: Output, registry: RegistrySettings): CliContext {
  const clients = new Map<string, RegistryClient>();
  return {
    output,
    registry,
    client(defaultRegistry) {
      const key = defaultRegistry ?? "";
      let client = clients.get(key);
      if (!client) {
        const explicit =
          registry.username !== undefined && registry.password !== undefined
            ? { username: registry.username, password: registry.password }
            : undefined;
        client = new RegistryClient({
          credentials: defaultCredentialProvider({
            ...(explicit ? { explicit } : {}),
            ...(defaultRegistry ? { defaultRegistry } : {}),
          }),
          insecure: registry.insecure,
          ...(registry.caFile ? { caFile: registry.caFile } : {}),
          ...(registry.concurrency ? { maxConcurrentUploads: registry.concurrency } : {}),
        });
        clients.set(key, client);
      }
      return client;
    },
  };
}

/** Opens the read side of an endpoint. */
export async function openSource(endpoint: Endpoint, ctx: CliContext): Promise<ContentSource> {
  switch (endpoint.kind) {
    case "registry": {
      const reference = Reference.parse(endpoint.reference);
      return new RegistrySource(ctx.client(reference.registry), reference);
    }
    case "layout":
      return LayoutSource.open(endpoint.path, endpoint.ref);
    case "cnb":
      return CnbSource.open(endpoint.path, endpoint.ref);
  }
}

/**
 * Opens the write side of an endpoint, with the tags the endpoint names: a registry reference's
 * tag (none when it names only a digest), or a layout's ref name.
 */
export async function openTarget(
  endpoint: Endpoint,
  ctx: CliContext,
  _sourceLocation?: RegistryLocation,
): Promise<{ target: ContentTarget; tags: string[] }> {
  switch (endpoint.kind) {
    case "registry": {
      const reference = Reference.parse(endpoint.reference);
      const client = ctx.client(reference.registry);
      return { target: new RegistryTarget(client, reference), tags: reference.tag ? [reference.tag] : [] };
    }
    case "layout":
      return { target: await LayoutTarget.create(endpoint.path), tags: endpoint.ref ? [endpoint.ref] : [] };
    case "cnb":
      return { target: await CnbTarget.create(endpoint.path), tags: endpoint.ref ? [endpoint.ref] : [] };
  }
}
