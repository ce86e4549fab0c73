// src/registry/credentials/types.ts
/** Credentials for one registry host. */
export interface Credential {
  username?: string;
  password?: string;
  identityToken?: string;
  registryToken?: string;
}
/** Looks up credentials for a registry host (as written in references, e.g. "ghcr.io", "127.0.0.1:5000", "index.docker.io"). */
export interface CredentialProvider {
  get(registryHost: string): Promise<Credential | undefined>;
}
