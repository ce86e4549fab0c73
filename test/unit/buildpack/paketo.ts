import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The three real Paketo buildpack.toml files the buildpack tests read. */
export type PaketoFixture = "go-dist" | "node-engine" | "bellsoft-liberica";

/** Every fixture name, for table tests. */
export const PAKETO_FIXTURES: readonly PaketoFixture[] = ["go-dist", "node-engine", "bellsoft-liberica"];

// The fixtures live in the shared reference folder until the lead copies them into test/fixtures.
const FOLDERS = [
  process.env["POLYPACK_FIXTURES"],
  join(process.cwd(), "test", "fixtures"),
  "/work/shared/fixtures",
].filter((folder): folder is string => folder !== undefined);

/** The text of `<name>.buildpack.toml`. */
export function paketo(name: PaketoFixture): string {
  for (const folder of FOLDERS) {
    const file = join(folder, "paketo", `${name}.buildpack.toml`);
    if (existsSync(file)) return readFileSync(file, "utf8");
  }
  throw new Error(`fixture ${name}.buildpack.toml not found in ${FOLDERS.join(", ")}`);
}
