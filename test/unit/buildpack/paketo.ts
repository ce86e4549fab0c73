import { readFileSync } from "node:fs";
import { fixture } from "../../support/fixtures.js";

/** The three real Paketo buildpack.toml files the buildpack tests read. */
export type PaketoFixture = "go-dist" | "node-engine" | "bellsoft-liberica";

/** Every fixture name, for table tests. */
export const PAKETO_FIXTURES: readonly PaketoFixture[] = ["go-dist", "node-engine", "bellsoft-liberica"];

/** The text of `<name>.buildpack.toml`. */
export function paketo(name: PaketoFixture): string {
  return readFileSync(fixture(`paketo/${name}.buildpack.toml`), "utf8");
}
