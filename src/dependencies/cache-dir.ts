import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

/**
 * polypack's cache directory: `$POLYPACK_CACHE_DIR`, else `$XDG_CACHE_HOME/polypack`, else
 * `~/.cache/polypack`. Empty values count as unset, and a relative XDG_CACHE_HOME is ignored as the
 * XDG base directory specification asks.
 */
export function defaultCacheHome(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const own = env["POLYPACK_CACHE_DIR"];
  if (own !== undefined && own !== "") return resolve(own);
  const xdg = env["XDG_CACHE_HOME"];
  if (xdg !== undefined && xdg !== "" && isAbsolute(xdg)) return join(xdg, "polypack");
  return join(home, ".cache", "polypack");
}

/** Where downloaded dependencies live inside the cache home: `<home>/dependencies`. */
export function defaultDependencyCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(defaultCacheHome(env), "dependencies");
}
