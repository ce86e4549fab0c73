import { open, lstat, readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parse } from "smol-toml";
import type { Platform } from "../oci/platform.js";
import { classifyProgram, describeProgram, PROGRAM_HEADER_BYTES, runsOn } from "../verify/elf.js";
import { layerTypes, type LayerTypes } from "./invocation.js";

/** One layer a build created, with its `<layer>.toml` types. */
export interface LayerReport {
  name: string;
  types: LayerTypes;
  /** Whether the layer's folder exists (a layer may be metadata only). */
  hasFolder: boolean;
}

/** One `[[processes]]` entry of launch.toml. */
export interface ProcessReport {
  type: string;
  command: string[];
  args: string[];
  default: boolean;
}

/** A program a build wrote that cannot run on its target. */
export interface ArchitectureProblem {
  /** The path inside the layers folder, as `/layers/<escaped id>/...`. */
  path: string;
  /** What the file is, as `describeProgram` puts it. */
  found: string;
}

/** What a buildpack's layers folder holds after `bin/build`. */
export interface LayersReport {
  layers: LayerReport[];
  processes: ProcessReport[];
  /** SBOM files (`<layer>.sbom.<format>.json`, `launch.sbom...`, `build.sbom...`). */
  sbom: string[];
  /** Notes about files that could not be read as the API says (bad TOML, say). */
  warnings: string[];
  /** How many ELF (or other native) programs were checked. */
  programsChecked: number;
  problems: ArchitectureProblem[];
}

const SPECIAL_TOMLS = new Set(["launch.toml", "build.toml", "store.toml"]);
const SBOM = /\.sbom\.(cdx|spdx|syft)\.json$/;

/**
 * Reads a buildpack's layers folder (`hostDir`) after its build: layers and their types, launch.toml
 * processes, SBOM files, and every regular file's first bytes through the one program classifier
 * (src/verify/elf.ts), so a program that does not run on `platform` is named. Symbolic links are
 * not followed: they are checked where they point, if that is inside the folder.
 */
export async function inspectLayers(
  hostDir: string,
  guestDir: string,
  api: string,
  platform: Platform,
): Promise<LayersReport> {
  const report: LayersReport = {
    layers: [],
    processes: [],
    sbom: [],
    warnings: [],
    programsChecked: 0,
    problems: [],
  };
  const names = await readdir(hostDir).catch(() => [] as string[]);
  const present = new Set(names);
  for (const name of [...names].sort()) {
    if (SBOM.test(name)) report.sbom.push(name);
    if (!name.endsWith(".toml") || SPECIAL_TOMLS.has(name)) continue;
    const layer = name.slice(0, -".toml".length);
    const document = await readToml(join(hostDir, name), `${guestDir}/${name}`, report.warnings);
    if (document === undefined) continue;
    report.layers.push({ name: layer, types: layerTypes(api, document), hasFolder: present.has(layer) });
  }
  if (present.has("launch.toml")) {
    const launch = await readToml(join(hostDir, "launch.toml"), `${guestDir}/launch.toml`, report.warnings);
    const processes = launch?.["processes"];
    if (Array.isArray(processes)) report.processes = processes.map(processReport);
  }
  await walk(hostDir, async (path) => {
    if (SBOM.test(path)) {
      const inLayer = relative(hostDir, path);
      if (inLayer.includes("/")) report.sbom.push(inLayer);
    }
    const head = await readHead(path);
    const kind = classifyProgram(head);
    if (kind.kind !== "elf" && kind.kind !== "foreign") return;
    report.programsChecked++;
    if (!runsOn(kind, platform)) {
      report.problems.push({ path: `${guestDir}/${relative(hostDir, path)}`, found: describeProgram(kind) });
    }
  });
  return report;
}

function processReport(value: unknown): ProcessReport {
  const table = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const strings = (v: unknown): string[] =>
    typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : [];
  return {
    type: typeof table["type"] === "string" ? table["type"] : "",
    command: strings(table["command"]),
    args: strings(table["args"]),
    default: table["default"] === true,
  };
}

async function readToml(
  path: string,
  where: string,
  warnings: string[],
): Promise<Record<string, unknown> | undefined> {
  try {
    const info = await lstat(path);
    if (!info.isFile()) return undefined;
    return parse(await readFile(path, "utf8"));
  } catch (error) {
    warnings.push(`${where} could not be read as TOML: ${(error as Error).message}`);
    return undefined;
  }
}

async function readHead(path: string): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(PROGRAM_HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, PROGRAM_HEADER_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function walk(dir: string, visit: (path: string) => Promise<void>): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path, visit);
    else if (entry.isFile()) await visit(path);
  }
}
