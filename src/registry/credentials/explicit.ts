import { PolypackError } from "../../errors/index.js";
import { normalizeRegistryHost } from "./host.js";
import type { Credential, CredentialProvider } from "./types.js";

/** A username and password given on the command line or in the environment, e.g. for CI. */
export interface ExplicitCredential {
  /** Registry host they are for; when absent, the caller's default registry (the push target). */
  registry?: string;
  username: string;
  password: string;
}

/** Environment variables read by {@link credentialFromEnvironment}. */
export const CREDENTIAL_ENV = {
  username: "POLYPACK_REGISTRY_USERNAME",
  password: "POLYPACK_REGISTRY_PASSWORD",
  registry: "POLYPACK_REGISTRY",
} as const;

/**
 * The credential described by POLYPACK_REGISTRY_USERNAME / POLYPACK_REGISTRY_PASSWORD, limited to
 * POLYPACK_REGISTRY when set. Undefined when neither is set; half a pair is an error rather than a
 * silent anonymous request.
 */
export function credentialFromEnvironment(env: NodeJS.ProcessEnv): ExplicitCredential | undefined {
  const username = env[CREDENTIAL_ENV.username] ?? "";
  const password = env[CREDENTIAL_ENV.password] ?? "";
  if (username === "" && password === "") return undefined;
  const [present, missing] =
    username === ""
      ? [CREDENTIAL_ENV.password, CREDENTIAL_ENV.username]
      : [CREDENTIAL_ENV.username, CREDENTIAL_ENV.password];
  if (username === "" || password === "") {
    throw new PolypackError("CREDENTIALS_INVALID", `${present} is set but ${missing} is not`, {
      hint: "Set both, or neither to use Docker or containers credentials.",
    });
  }
  const registry = env[CREDENTIAL_ENV.registry];
  return registry ? { registry, username, password } : { username, password };
}

/** A fixed credential bound to one registry host. */
export interface HostCredential {
  registry: string;
  credential: Credential;
}

/**
 * Binds explicit credentials to their hosts. Credentials that name no registry get `defaultRegistry`;
 * without one they are refused, because handing a password to every registry would leak it.
 */
export function bindExplicitCredentials(
  explicit: readonly ExplicitCredential[],
  defaultRegistry: string | undefined,
): HostCredential[] {
  return explicit.map(({ registry, username, password }) => {
    const host = registry ?? defaultRegistry;
    if (host === undefined || host === "") {
      throw new PolypackError(
        "CREDENTIALS_REGISTRY_REQUIRED",
        "explicit credentials do not say which registry they are for",
        {
          hint: `Name the registry (for example ${CREDENTIAL_ENV.registry}=ghcr.io) so the password is sent only there.`,
        },
      );
    }
    return { registry: host, credential: { username, password } };
  });
}

/** Serves fixed credentials, each only for its own host; the first entry for a host wins. */
export class StaticCredentialProvider implements CredentialProvider {
  readonly #byHost = new Map<string, Credential>();

  constructor(entries: readonly HostCredential[]) {
    for (const { registry, credential } of entries) {
      const host = normalizeRegistryHost(registry);
      if (!this.#byHost.has(host)) this.#byHost.set(host, credential);
    }
  }

  /** The credential bound to this host, or undefined. */
  get(registryHost: string): Promise<Credential | undefined> {
    return Promise.resolve(this.#byHost.get(normalizeRegistryHost(registryHost)));
  }
}
