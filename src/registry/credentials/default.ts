import { homedir } from "node:os";
import { ChainCredentialProvider } from "./chain.js";
import { ContainersAuthProvider, containersAuthFilePaths } from "./containers-auth.js";
import { DockerConfigProvider, dockerConfigPath, legacyDockerConfigPath } from "./docker-config.js";
import { bindExplicitCredentials, credentialFromEnvironment, StaticCredentialProvider } from "./explicit.js";
import type { ExplicitCredential, HostCredential } from "./explicit.js";
import type { ReadTextFile } from "./files.js";
import { runCredentialHelper, type CredentialHelperRunner } from "./helper.js";
import type { CredentialProvider } from "./types.js";

/** Options for {@link defaultCredentialProvider}; everything defaults to the real environment. */
export interface DefaultCredentialProviderOptions {
  /** Credentials from command line flags; they win over the environment. */
  explicit?: ExplicitCredential;
  /** Host that explicit credentials without a registry belong to, normally the push target's. */
  defaultRegistry?: string;
  /**
   * Without `defaultRegistry`, explicit credentials that name no registry are left unused instead of
   * refused: the source side of a copy to a file has no registry they could belong to.
   */
  ignoreUnbound?: boolean;
  /** Credentials for one side of a copy (`--src-creds`, `--dest-creds`); they win over the rest. */
  scoped?: readonly HostCredential[];
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
  readFile?: ReadTextFile;
  /** Replaces running `docker-credential-*` programs. */
  runHelper?: CredentialHelperRunner;
  helperTimeoutMs?: number;
}

/**
 * The provider the command line uses: scoped flags (`--src-creds`, `--dest-creds`), then
 * `--username`/`--password`, then POLYPACK_REGISTRY_* variables, then Docker's
 * config.json (credHelpers, credsStore, auths; or a legacy ~/.dockercfg), then containers auth files
 * (credHelpers, auths).
 */
export function defaultCredentialProvider(
  options: DefaultCredentialProviderOptions = {},
): CredentialProvider {
  const env = options.env ?? process.env;
  const homeDir = options.homeDir ?? homedir();
  const fromEnv = credentialFromEnvironment(env);
  const given = [options.explicit, fromEnv].filter((c): c is ExplicitCredential => c !== undefined);
  const explicit =
    options.ignoreUnbound && !options.defaultRegistry ? given.filter((c) => c.registry) : given;
  const runHelper =
    options.runHelper ??
    ((helper: string, serverUrl: string) =>
      runCredentialHelper(helper, serverUrl, { env, timeoutMs: options.helperTimeoutMs }));
  const fileOptions = options.readFile === undefined ? {} : { readFile: options.readFile };
  return new ChainCredentialProvider([
    new StaticCredentialProvider([
      ...(options.scoped ?? []),
      ...bindExplicitCredentials(explicit, options.defaultRegistry),
    ]),
    new DockerConfigProvider({
      file: dockerConfigPath(env, homeDir),
      legacyFile: legacyDockerConfigPath(homeDir),
      runHelper,
      ...fileOptions,
    }),
    new ContainersAuthProvider({ files: containersAuthFilePaths(env, homeDir), runHelper, ...fileOptions }),
  ]);
}
