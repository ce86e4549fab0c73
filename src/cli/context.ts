import type { ContentSource, ContentTarget } from "../oci/content.js";
import type { Endpoint } from "../copy/endpoint.js";
import type { RegistryClient } from "../registry/client.js";
import type { HostCredential } from "../registry/credentials/explicit.js";
import { Reference } from "../registry/reference.js";
import type { Output } from "./output.js";

/** Registry settings taken from global flags. */
export interface RegistrySettings {
  insecure: string[];
  caFile?: string;
  username?: string;
  password?: string;
  concurrency?: number;
  /** Idle timeout of registry connections in milliseconds (`--registry-timeout`). */
  timeoutMs?: number;
}

/** Which explicit credentials a registry client may send. */
export interface ClientScope {
  /**
   * Where `--username`/`--password` and unscoped POLYPACK_REGISTRY_* credentials go unless
   * POLYPACK_REGISTRY names a host: the command's destination registry.
   */
  defaultRegistry?: string;
  /** Without a default registry, leave unscoped credentials unused rather than fail. */
  ignoreUnbound?: boolean;
  /** `--src-creds` / `--dest-creds`, bound to the registry of their side. */
  scoped?: HostCredential;
}

/** What every command gets: how to print, and how to reach registries. */
export interface CliContext {
  output: Output;
  registry: RegistrySettings;
  /**
   * A registry client whose explicit credentials (if any) belong to `defaultRegistry`; a string is
   * short for `{ defaultRegistry }`.
   */
  client(scope?: string | ClientScope): Promise<RegistryClient>;
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
    async client(given) {
      const scope: ClientScope = typeof given === "string" ? { defaultRegistry: given } : (given ?? {});
      const { defaultRegistry } = scope;
      const key = JSON.stringify([defaultRegistry, scope.ignoreUnbound, scope.scoped]);
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
            ...(scope.ignoreUnbound ? { ignoreUnbound: true } : {}),
            ...(scope.scoped ? { scoped: [scope.scoped] } : {}),
          }),
          insecure: registry.insecure,
          ...(registry.caFile ? { caFile: registry.caFile } : {}),
          ...(registry.concurrency ? { maxConcurrentUploads: registry.concurrency } : {}),
          ...(registry.timeoutMs ? { timeoutMs: registry.timeoutMs } : {}),
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

/** How the two sides of a copy share out explicit credentials. */
export interface SideOptions {
  /** `--src-creds` / `--dest-creds` for this side, already split. */
  creds?: { username: string; password: string };
  /**
   * For a source: the command's destination. Given, unscoped credentials belong to it (or to
   * POLYPACK_REGISTRY) and never reach the source; absent (a command with one registry, such as
   * `manifest inspect`), they belong to the source itself.
   */
  destination?: Endpoint;
}

/** Opens the read side of an endpoint. */
export async function openSource(
  endpoint: Endpoint,
  ctx: CliContext,
  side: SideOptions = {},
): Promise<ContentSource> {
  switch (endpoint.kind) {
    case "registry": {
      const reference = Reference.parse(endpoint.reference);
      const { RegistrySource } = await import("../registry/source.js");
      const scoped = side.creds ? { scoped: { registry: reference.registry, credential: side.creds } } : {};
      let scope: ClientScope;
      if ("destination" in side) {
        const destination = side.destination;
        const defaultRegistry =
          destination?.kind === "registry" ? Reference.parse(destination.reference).registry : undefined;
        scope = { ...(defaultRegistry ? { defaultRegistry } : {}), ignoreUnbound: true, ...scoped };
      } else {
        scope = { defaultRegistry: reference.registry, ...scoped };
      }
      return new RegistrySource(await ctx.client(scope), reference);
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
 * tag (none when it names only a digest), or a layout's or `.cnb`'s ref name, `latest` when it
 * names none (as `buildpack package` does), so skopeo and pack can find the image by ref.
 */
export async function openTarget(
  endpoint: Endpoint,
  ctx: CliContext,
  side: Pick<SideOptions, "creds"> = {},
): Promise<{ target: ContentTarget; tags: string[] }> {
  switch (endpoint.kind) {
    case "registry": {
      const reference = Reference.parse(endpoint.reference);
      const { RegistryTarget } = await import("../registry/target.js");
      const client = await ctx.client({
        defaultRegistry: reference.registry,
        ...(side.creds ? { scoped: { registry: reference.registry, credential: side.creds } } : {}),
      });
      return { target: new RegistryTarget(client, reference), tags: reference.tag ? [reference.tag] : [] };
    }
    case "layout": {
      await checkOutputPath("layout", endpoint.path);
      const { LayoutTarget, DEFAULT_REF } = await import("../layout/layout-target.js");
      return { target: await LayoutTarget.create(endpoint.path), tags: [endpoint.ref ?? DEFAULT_REF] };
    }
    case "cnb": {
      await checkOutputPath("file", endpoint.path);
      const { CnbTarget } = await import("../layout/cnb-target.js");
      const { DEFAULT_REF } = await import("../layout/layout-target.js");
      return { target: await CnbTarget.create(endpoint.path), tags: [endpoint.ref ?? DEFAULT_REF] };
    }
  }
}

// The same checks as a package's output (no symlinks or devices, no folder for a .cnb, a folder
// that takes new entries), made before anything is copied.
async function checkOutputPath(kind: "file" | "layout", path: string): Promise<void> {
  const { checkOutput } = await import("../package/output-check.js");
  await checkOutput(kind, path);
}
