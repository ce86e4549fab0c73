import { join } from "node:path";
import { EMPTY_AUTH_FILE, findAuthEntry, parseAuthFile, type AuthFileContents } from "./auth-file.js";
import { readTextFileIfExists, type ReadTextFile } from "./files.js";
import { runCredentialHelper, type CredentialHelperRunner } from "./helper.js";
import { normalizeRegistryHost } from "./host.js";
import type { Credential, CredentialProvider } from "./types.js";

/**
 * The auth files podman, buildah and skopeo write, in the order they are searched:
 * `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`, `~/.config/containers/auth.json`.
 */
export function containersAuthFilePaths(env: NodeJS.ProcessEnv, homeDir: string): string[] {
  const paths: string[] = [];
  const explicit = env["REGISTRY_AUTH_FILE"];
  const runtimeDir = env["XDG_RUNTIME_DIR"];
  if (explicit) paths.push(explicit);
  if (runtimeDir) paths.push(join(runtimeDir, "containers", "auth.json"));
  paths.push(join(homeDir, ".config", "containers", "auth.json"));
  return [...new Set(paths)];
}

/** Options for {@link ContainersAuthProvider}. */
export interface ContainersAuthProviderOptions {
  /** Files to search, first match wins; see {@link containersAuthFilePaths}. */
  files: readonly string[];
  readFile?: ReadTextFile;
  /** Runs the helpers named in the files' `credHelpers`. */
  runHelper?: CredentialHelperRunner;
}

/**
 * Credentials from containers auth files, searched file by file. Within a file, a `credHelpers` helper
 * named for the host is asked first and, when it names one, replaces that file's `auths` for the host;
 * a helper with nothing passes on to the next file, as containers-image does. `auths` keys may name a
 * repository ("quay.io/org/app"); the most specific key covering the repository wins, and a lookup by
 * host alone uses whole-registry keys. Helper answers are remembered, like DockerConfigProvider's.
 */
export class ContainersAuthProvider implements CredentialProvider {
  readonly #files: readonly string[];
  readonly #readFile: ReadTextFile;
  readonly #runHelper: CredentialHelperRunner;
  readonly #contents = new Map<string, Promise<AuthFileContents>>();
  readonly #helperAnswers = new Map<string, Promise<Credential | undefined>>();

  constructor(options: ContainersAuthProviderOptions) {
    this.#files = options.files;
    this.#readFile = options.readFile ?? readTextFileIfExists;
    this.#runHelper = options.runHelper ?? ((helper, url) => runCredentialHelper(helper, url));
  }

  /** The credential for a host, or for a repository on it when `repository` is given. */
  async get(registryHost: string, repository?: string): Promise<Credential | undefined> {
    const host = normalizeRegistryHost(registryHost);
    // Files are read only as far as needed, so a broken later file does not hide a good earlier one.
    for (const file of this.#files) {
      const contents = await this.#load(file);
      const helper = contents.credHelpers.get(host);
      if (helper !== undefined) {
        const credential = await this.#askHelper(helper, host);
        if (credential !== undefined) return credential;
        continue;
      }
      const entry = findAuthEntry(contents.auths, host, repository);
      if (entry !== undefined) return entry.credential;
    }
    return undefined;
  }

  #askHelper(helper: string, host: string): Promise<Credential | undefined> {
    const key = `${helper}\n${host}`;
    let answer = this.#helperAnswers.get(key);
    if (answer === undefined) {
      // containers-image hands its helpers the bare host ("docker.io"), not Docker's v1 URL for the Hub,
      // and podman login stores under that name.
      answer = this.#runHelper(helper, host);
      this.#helperAnswers.set(key, answer);
    }
    return answer;
  }

  #load(file: string): Promise<AuthFileContents> {
    let contents = this.#contents.get(file);
    if (contents === undefined) {
      contents = this.#readFile(file).then((text) =>
        text === undefined ? EMPTY_AUTH_FILE : parseAuthFile(text, file),
      );
      this.#contents.set(file, contents);
    }
    return contents;
  }
}
