/** The name every Docker Hub alias is folded into, so "docker.io", "index.docker.io" and the v1 URL match. */
export const DOCKER_HUB_HOST = "docker.io";

/** The server URL Docker writes for Docker Hub in config.json and passes to credential helpers. */
export const DOCKER_HUB_SERVER_URL = "https://index.docker.io/v1/";

const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/** A credential key split into its registry host and an optional repository path below it. */
export interface AuthKey {
  /** Lower-case host with port, Docker Hub aliases folded into {@link DOCKER_HUB_HOST}. */
  host: string;
  /** Repository path under the host ("" for the whole registry), as containers auth files allow. */
  path: string;
}

/** Folds a registry host as written in a reference or config key into the form used for matching. */
export function normalizeRegistryHost(host: string): string {
  const lower = host.trim().toLowerCase();
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB_HOST : lower;
}

/**
 * Splits an `auths` key into host and repository path. Keys may be bare hosts ("ghcr.io"), hosts with a
 * repository ("quay.io/org/app", containers auth files) or URLs ("https://index.docker.io/v1/", older
 * Docker logins) whose path is an API version rather than a repository.
 */
export function parseAuthKey(key: string): AuthKey {
  const schemeless = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const hadScheme = schemeless !== key.trim();
  const slash = schemeless.indexOf("/");
  const rawHost = slash === -1 ? schemeless : schemeless.slice(0, slash);
  const rawPath = slash === -1 ? "" : schemeless.slice(slash + 1).replace(/\/+$/, "");
  const path = hadScheme || /^v[12]$/.test(rawPath) ? "" : rawPath;
  return { host: normalizeRegistryHost(rawHost), path };
}

/** The server URL a credential helper expects for a host: Docker Hub keeps its historical v1 URL. */
export function helperServerUrl(registryHost: string): string {
  const host = normalizeRegistryHost(registryHost);
  return host === DOCKER_HUB_HOST ? DOCKER_HUB_SERVER_URL : host;
}
