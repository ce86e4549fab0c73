import type { RegistryLocation } from "../oci/content.js";
import { registryBaseUrl } from "./address.js";
import { Reference } from "./reference.js";

/** The URL of `/v2/<repository>/<suffix>` on a registry, https until `scheme.ts` learns otherwise. */
export function repositoryUrl(location: RegistryLocation, suffix: string): URL {
  // Parsing validates the repository, so nothing odd reaches the URL path.
  const reference = Reference.of({ registry: location.registry, repository: location.repository });
  return new URL(`v2/${reference.repository}/${suffix}`, registryBaseUrl(reference.apiHost));
}

/** The token scope for reading a repository. */
export function pullScope(location: RegistryLocation): string {
  return `repository:${location.repository}:pull`;
}

/** The token scope for writing a repository. */
export function pushScope(location: RegistryLocation): string {
  return `repository:${location.repository}:pull,push`;
}

/** `registry/repository`, for messages. */
export function locationName(location: RegistryLocation): string {
  return `${location.registry}/${location.repository}`;
}
