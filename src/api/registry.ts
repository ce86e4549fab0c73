/**
 * `polypack/registry`: the OCI registry client and its credentials. A RegistrySource or
 * RegistryTarget is a content source or target for the image model's `readArtifact` and `write`.
 */
export { Reference, DOCKER_HUB_REGISTRY } from "../registry/reference.js";
export { RegistryClient, type RegistryClientOptions } from "../registry/client.js";
export { RegistrySource } from "../registry/source.js";
export { RegistryTarget } from "../registry/target.js";
export { RegistryError, isTemporary } from "../registry/errors.js";
export type { TransportOptions } from "../registry/transport.js";
export type { RequestLogEvent } from "../http/logging.js";
export type { Clock, RetryPolicy } from "../http/retry-policy.js";
export type { PushBlobOptions } from "../registry/upload.js";
export type { FetchedManifest } from "../registry/manifests.js";

// Credentials: where they come from, and how to supply your own.
export type { Credential, CredentialProvider } from "../registry/credentials/types.js";
export {
  defaultCredentialProvider,
  type DefaultCredentialProviderOptions,
} from "../registry/credentials/default.js";
export { ChainCredentialProvider } from "../registry/credentials/chain.js";
export {
  DockerConfigProvider,
  type DockerConfigProviderOptions,
} from "../registry/credentials/docker-config.js";
export {
  ContainersAuthProvider,
  type ContainersAuthProviderOptions,
} from "../registry/credentials/containers-auth.js";
export {
  CREDENTIAL_ENV,
  StaticCredentialProvider,
  credentialFromEnvironment,
  type ExplicitCredential,
  type HostCredential,
} from "../registry/credentials/explicit.js";
