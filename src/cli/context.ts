import { registryAccess, type RegistryAccess, type RegistrySettings } from "../endpoints/registry-access.js";
import type { Output } from "./output.js";

export type { RegistrySettings };

/** What every command gets: how to print, and how to reach registries (see RegistryAccess). */
export interface CliContext extends RegistryAccess {
  output: Output;
  registry: RegistrySettings;
}

/** Builds the context from global flags; registries are reached only when a command asks. */
export function createContext(output: Output, registry: RegistrySettings): CliContext {
  return { output, registry, ...registryAccess(registry) };
}
