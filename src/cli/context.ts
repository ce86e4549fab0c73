import type { ContentSource, ContentTarget } from "../oci/content.js";
import type { Endpoint } from "../copy/endpoint.js";
import type { RegistryClient } from "../registry/client.js";
import { Reference } from "../registry/reference.js";
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
  client(defaultRegistry?: string): Promise<RegistryClient>;
  /** Closes every registry connection, so the process can exit at once. */
  close(): Promise<void>;
}

/**
 * Builds the context from global flags. Backends are imported when first used, so a command that
 * needs no registry never loads the HTTP stack, and start-up stays short.
 */
export function createContext(output: Output, registry: RegistrySettings): CliContext {
  const clients = new Map<string, RegistryClient>();
  return {
    output,
    registry,
    async client(defaultRegistry) {
      const key = defaultRegistry ?? "";
      let client = clients.get(key);
      if (!client) {
        const { RegistryClient } = await import("../registry/client.js");
        const { defaultCredentialProvider } = await import("../registry/credentials/default.js");
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
    async close() {
      await Promise.all([...clients.values()].map((client) => client.close()));
      clients.clear();
    },
  };
}

/** Opens the read side of an endpoint. */
export async function openSource(endpoint: Endpoint, ctx: CliContext): Promise<ContentSource> {
  switch (endpoint.kind) {
    case "registry": {
      const reference = Reference.parse(endpoint.reference);
      const { RegistrySource } = await import("../registry/source.js");
      return new RegistrySource(await ctx.client(reference.registry), reference);
    }
    case "layout": {
      const { LayoutSource } = await import("../layout/layout-source.js");
      return LayoutSource.open(endpoint.path, endpoint.ref);
    }
    case "cnb": {
      const { CnbSource } = await import("../layout/cnb-source.js");
      return CnbSource.open(endpoint.path, endpoint.ref);
    }
  }
}

/**
 * Opens the write side of an endpoint, with the tags the endpoint names: a registry reference's
 * tag (none when it names only a digest), or a layout's ref name.
 */
export async function openTarget(
  endpoint: Endpoint,
  ctx: CliContext,
): Promise<{ target: ContentTarget; tags: string[] }> {
  switch (endpoint.kind) {
    case "registry": {
      const reference = Reference.parse(endpoint.reference);
      const { RegistryTarget } = await import("../registry/target.js");
      const client = await ctx.client(reference.registry);
      return { target: new RegistryTarget(client, reference), tags: reference.tag ? [reference.tag] : [] };
    }
    case "layout": {
      await checkOutputPath("layout", endpoint.path);
      const { LayoutTarget } = await import("../layout/layout-target.js");
      return { target: await LayoutTarget.create(endpoint.path), tags: endpoint.ref ? [endpoint.ref] : [] };
    }
    case "cnb": {
      await checkOutputPath("file", endpoint.path);
      const { CnbTarget } = await import("../layout/cnb-target.js");
      return { target: await CnbTarget.create(endpoint.path), tags: endpoint.ref ? [endpoint.ref] : [] };
    }
  }
}

// The same checks as a package's output (no symlinks or devices, no folder for a .cnb, a folder
// that takes new entries), made before anything is copied.
async function checkOutputPath(kind: "file" | "layout", path: string): Promise<void> {
  const { checkOutput } = await import("../package/output-check.js");
  await checkOutput(kind, path);
}
