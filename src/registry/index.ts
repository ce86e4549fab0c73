// The registry client's public surface; internal wrappers stay importable by path for tests.
export { Reference, DOCKER_HUB_REGISTRY, DOCKER_HUB_API_HOST } from "./reference.js";
export { RegistryClient, type RegistryClientOptions } from "./client.js";
export { RegistrySource } from "./source.js";
export { RegistryTarget } from "./target.js";
export { RegistryError, isTemporary } from "./errors.js";
export type { TransportOptions } from "./transport.js";
export type { RequestLogEvent } from "../http/logging.js";
export type { RetryPolicy, Clock } from "../http/retry-policy.js";
export type { PushBlobOptions } from "./upload.js";
export type { FetchedManifest } from "./manifests.js";
export type { Credential, CredentialProvider } from "./credentials/types.js";
