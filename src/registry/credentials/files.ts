import { readFile } from "node:fs/promises";
import { PolypackError } from "../../errors/index.js";

/** Reads a text file, resolving to undefined when it does not exist; injectable so tests need no disk. */
export type ReadTextFile = (path: string) => Promise<string | undefined>;

/** The real {@link ReadTextFile}: a missing file (or missing parent folder) is not an error. */
export const readTextFileIfExists: ReadTextFile = async (path) => {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new PolypackError(
      "PATH_UNREADABLE",
      `cannot read credentials file ${path}: ${code ?? String(error)}`,
      {
        hint: "Check the file's permissions, or point DOCKER_CONFIG / REGISTRY_AUTH_FILE elsewhere.",
        cause: error,
      },
    );
  }
};
