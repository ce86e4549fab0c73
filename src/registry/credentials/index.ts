export type { Credential, CredentialProvider } from "./types.js";
export { ChainCredentialProvider } from "./chain.js";
export { defaultCredentialProvider, type DefaultCredentialProviderOptions } from "./default.js";
export {
  DockerConfigProvider,
  dockerConfigPath,
  legacyDockerConfigPath,
  type DockerConfigProviderOptions,
} from "./docker-config.js";
export {
  ContainersAuthProvider,
  containersAuthFilePaths,
  type ContainersAuthProviderOptions,
} from "./containers-auth.js";
export {
  StaticCredentialProvider,
  bindExplicitCredentials,
  credentialFromEnvironment,
  CREDENTIAL_ENV,
  type ExplicitCredential,
  type HostCredential,
} from "./explicit.js";
export {
  runCredentialHelper,
  interpretHelperResult,
  helperProgram,
  DEFAULT_HELPER_TIMEOUT_MS,
  type CredentialHelperRunner,
  type HelperProcessResult,
  type RunCredentialHelperOptions,
} from "./helper.js";
export {
  parseAuthFile,
  parseLegacyDockerConfig,
  findAuthEntry,
  type AuthEntry,
  type AuthFileContents,
} from "./auth-file.js";
export { readTextFileIfExists, type ReadTextFile } from "./files.js";
export {
  normalizeRegistryHost,
  parseAuthKey,
  helperServerUrl,
  DOCKER_HUB_HOST,
  DOCKER_HUB_SERVER_URL,
  type AuthKey,
} from "./host.js";
