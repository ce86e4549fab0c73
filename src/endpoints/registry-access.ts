import type { RegistryClient } from "../registry/client.js";
import type { HostCredential } from "../registry/credentials/explicit.js";

/** How registries are reached: what the global flags (`--insecure-registry`, `--ca-file`, ...) set. */
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

/** Registry clients, made on first use and shared, each with the explicit credentials its scope allows. */
export interface RegistryAccess {
  /**
   * A registry client whose explicit credentials (if any) belong to `defaultRegistry`; a string is
   * short for `{ defaultRegistry }`.
   */
  client(scope?: string | ClientScope): Promise<RegistryClient>;
  /** Closes every registry connection, so the process can exit at once. */
  close(): Promise<void>;
}

/**
 * Registry access with these settings. The registry client and its HTTP stack are imported when
 * first used, so a program that reaches no registry never loads them, and start-up stays short.
 */
export function registryAccess(registry: RegistrySettings): RegistryAccess {
  const clients = new Map<string, RegistryClient>();
  return {
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
