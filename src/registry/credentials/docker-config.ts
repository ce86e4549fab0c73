import { join } from "node:path";
import {
  EMPTY_AUTH_FILE,
  findAuthEntry,
  parseAuthFile,
  parseLegacyDockerConfig,
  type AuthFileContents,
} from "./auth-file.js";
import { readTextFileIfExists, type ReadTextFile } from "./files.js";
import { runCredentialHelper, type CredentialHelperRunner } from "./helper.js";
import { helperServerUrl, normalizeRegistryHost } from "./host.js";
import type { Credential, CredentialProvider } from "./types.js";

/** Where Docker keeps its config: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv, homeDir: string): string {
  const dir = env["DOCKER_CONFIG"];
  return dir ? join(dir, "config.json") : join(homeDir, ".docker", "config.json");
}

/**
 * Where Docker kept credentials before config.json: `~/.dockercfg`, whatever DOCKER_CONFIG says. Docker
 * CLI 23 stopped reading it; containers-image still does, which is why old CI images may depend on it.
 */
export function legacyDockerConfigPath(homeDir: string): string {
  return join(homeDir, ".dockercfg");
}

/** Options for {@link DockerConfigProvider}. */
export interface DockerConfigProviderOptions {
  /** Path of config.json; see {@link dockerConfigPath}. */
  file: string;
  /** Path of a legacy `.dockercfg`, read only when `file` does not exist; see {@link legacyDockerConfigPath}. */
  legacyFile?: string;
  readFile?: ReadTextFile;
  runHelper?: CredentialHelperRunner;
}

/**
 * Credentials the way Docker finds them: the host's `credHelpers` helper, then the `credsStore` helper,
 * then the `auths` entry. A source that has nothing for the host passes on to the next. Without a
 * config.json, the `auths`-like entries of a legacy `.dockercfg` are used instead. The file is read
 * once and helper answers are remembered, so a keychain is not asked again for every request.
 */
export class DockerConfigProvider implements CredentialProvider {
  readonly #file: string;
  readonly #legacyFile: string | undefined;
  readonly #readFile: ReadTextFile;
  readonly #runHelper: CredentialHelperRunner;
  #contents: Promise<AuthFileContents> | undefined;
  readonly #answers = new Map<string, Promise<Credential | undefined>>();

  constructor(options: DockerConfigProviderOptions) {
    this.#file = options.file;
    this.#legacyFile = options.legacyFile;
    this.#readFile = options.readFile ?? readTextFileIfExists;
    this.#runHelper = options.runHelper ?? ((helper, url) => runCredentialHelper(helper, url));
  }

  /** The credential Docker would use for a registry host, or undefined. */
  get(registryHost: string): Promise<Credential | undefined> {
    const host = normalizeRegistryHost(registryHost);
    let answer = this.#answers.get(host);
    if (answer === undefined) {
      answer = this.#lookup(host);
      this.#answers.set(host, answer);
    }
    return answer;
  }

  async #lookup(host: string): Promise<Credential | undefined> {
    const contents = await this.#load();
    const serverUrl = helperServerUrl(host);
    const hostHelper = contents.credHelpers.get(host);
    if (hostHelper !== undefined) {
      const credential = await this.#runHelper(hostHelper, serverUrl);
      if (credential !== undefined) return credential;
    }
    if (contents.credsStore !== undefined) {
      const credential = await this.#runHelper(contents.credsStore, serverUrl);
      if (credential !== undefined) return credential;
    }
    return findAuthEntry(contents.auths, host)?.credential;
  }

  #load(): Promise<AuthFileContents> {
    this.#contents ??= this.#read();
    return this.#contents;
  }

  async #read(): Promise<AuthFileContents> {
    const text = await this.#readFile(this.#file);
    if (text !== undefined) return parseAuthFile(text, this.#file);
    // Docker fell back to the legacy file only when config.json was missing, never merged the two.
    if (this.#legacyFile === undefined) return EMPTY_AUTH_FILE;
    const legacy = await this.#readFile(this.#legacyFile);
    return legacy === undefined ? EMPTY_AUTH_FILE : parseLegacyDockerConfig(legacy, this.#legacyFile);
  }
}
