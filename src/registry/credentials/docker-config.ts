import { join } from "node:path";
import { findAuthEntry, parseAuthFile, type AuthFileContents } from "./auth-file.js";
import { readTextFileIfExists, type ReadTextFile } from "./files.js";
import { runCredentialHelper, type CredentialHelperRunner } from "./helper.js";
import { helperServerUrl, normalizeRegistryHost } from "./host.js";
import type { Credential, CredentialProvider } from "./types.js";

/** Where Docker keeps its config: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv, homeDir: string): string {
  const dir = env["DOCKER_CONFIG"];
  return dir ? join(dir, "config.json") : join(homeDir, ".docker", "config.json");
}

/** Options for {@link DockerConfigProvider}. */
export interface DockerConfigProviderOptions {
  /** Path of config.json; see {@link dockerConfigPath}. */
  file: string;
  readFile?: ReadTextFile;
  runHelper?: CredentialHelperRunner;
}

const EMPTY: AuthFileContents = { auths: [], credHelpers: new Map(), credsStore: undefined };

/**
 * Credentials the way Docker finds them: the host's `credHelpers` helper, then the `credsStore` helper,
 * then the `auths` entry. A source that has nothing for the host passes on to the next. The file is read
 * once and helper answers are remembered, so a keychain is not asked again for every request.
 */
export class DockerConfigProvider implements CredentialProvider {
  readonly #file: string;
  readonly #readFile: ReadTextFile;
  readonly #runHelper: CredentialHelperRunner;
  #contents: Promise<AuthFileContents> | undefined;
  readonly #answers = new Map<string, Promise<Credential | undefined>>();

  constructor(options: DockerConfigProviderOptions) {
    this.#file = options.file;
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
    this.#contents ??= this.#readFile(this.#file).then((text) =>
      text === undefined ? EMPTY : parseAuthFile(text, this.#file),
    );
    return this.#contents;
  }
}
