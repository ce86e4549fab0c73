import type { Credential, CredentialProvider } from "./types.js";

/** A provider that may also narrow the lookup to a repository (containers auth files can). */
interface RepositoryAwareProvider extends CredentialProvider {
  get(registryHost: string, repository?: string): Promise<Credential | undefined>;
}

/** Asks providers in order of precedence; the first that has a credential for the host wins. */
export class ChainCredentialProvider implements CredentialProvider {
  readonly #providers: readonly RepositoryAwareProvider[];

  constructor(providers: readonly CredentialProvider[]) {
    this.#providers = providers;
  }

  /** The first credential any provider has for the host (and repository, where a provider can tell). */
  async get(registryHost: string, repository?: string): Promise<Credential | undefined> {
    for (const provider of this.#providers) {
      const credential = await provider.get(registryHost, repository);
      if (credential !== undefined) return credential;
    }
    return undefined;
  }
}
