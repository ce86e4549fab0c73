import { join } from "node:path";
import { findAuthEntry, parseAuthFile, type AuthEntry } from "./auth-file.js";
import { readTextFileIfExists, type ReadTextFile } from "./files.js";
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
}

/**
 * Credentials from containers auth files. Keys may name a repository ("quay.io/org/app"); the most
 * specific key covering the repository wins, and a lookup by host alone uses whole-registry keys.
 */
export class ContainersAuthProvider implements CredentialProvider {
  readonly #files: readonly string[];
  readonly #readFile: ReadTextFile;
  readonly #entries = new Map<string, Promise<AuthEntry[]>>();

  constructor(options: ContainersAuthProviderOptions) {
    this.#files = options.files;
    this.#readFile = options.readFile ?? readTextFileIfExists;
  }

  /** The credential for a host, or for a repository on it when `repository` is given. */
  async get(registryHost: string, repository?: string): Promise<Credential | undefined> {
    // Files are read only as far as needed, so a broken later file does not hide a good earlier one.
    for (const file of this.#files) {
      const entry = findAuthEntry(await this.#load(file), registryHost, repository);
      if (entry !== undefined) return entry.credential;
    }
    return undefined;
  }

  #load(file: string): Promise<AuthEntry[]> {
    let entries = this.#entries.get(file);
    if (entries === undefined) {
      entries = this.#readFile(file).then((text) =>
        text === undefined ? [] : parseAuthFile(text, file).auths,
      );
      this.#entries.set(file, entries);
    }
    return entries;
  }
}
