import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { checkModuleReference } from "../buildpack/module-id.js";
import type { ModuleKind } from "../buildpack/descriptor-types.js";
import { parseTomlDocument, type KeyPath, type TomlTable } from "../buildpack/toml-document.js";
import { TomlFields } from "../buildpack/toml-fields.js";
import { PolypackError } from "../errors/index.js";
import { userPathError } from "../util/path-error.js";

/** A `[[buildpacks]]` or `[[extensions]]` entry: where a module comes from. */
export interface BuilderModuleSource {
  id?: string;
  version?: string;
  /** `uri` or `image`, as written. */
  location: string;
  /** Whether it was given as `image` (always a registry reference). */
  isImage: boolean;
  /** Where it sits in the file, for messages: `[[buildpacks]][0]`. */
  key: string;
}

/** An `[[order.group]]` (or system pre/post) entry. */
export interface BuilderGroupEntry {
  id: string;
  version?: string;
  optional?: boolean;
}

/** One `[[order]]` or `[[order-extensions]]` group. */
export interface BuilderOrderEntry {
  group: BuilderGroupEntry[];
}

/** A `[[build.env]]` entry. */
export interface BuildEnvEntry {
  name: string;
  value: string;
  /** `override`, `default`, `prepend` or `append` (none: as `override`). */
  suffix?: string;
  delim?: string;
}

/** A run image and its mirrors. */
export interface RunImageConfig {
  image: string;
  mirrors: string[];
}

/** A `[[targets]]` entry. */
export interface BuilderTargetConfig {
  os: string;
  arch: string;
  variant?: string;
  distros: { name: string; version?: string }[];
}

/** builder.toml as pack reads it, checked. */
export interface BuilderConfig {
  file: string;
  /** Relative `uri`s are read from here. */
  dir: string;
  description: string;
  buildpacks: BuilderModuleSource[];
  extensions: BuilderModuleSource[];
  order: BuilderOrderEntry[];
  orderExtensions: BuilderOrderEntry[];
  lifecycle: { version?: string; uri?: string };
  buildImage: string;
  buildEnv: BuildEnvEntry[];
  runImages: RunImageConfig[];
  /** The legacy `[stack] id`, kept for the io.buildpacks.stack.id check. */
  stackId?: string;
  system: { pre: BuilderGroupEntry[]; post: BuilderGroupEntry[] };
  targets: BuilderTargetConfig[];
  /** Keys pack does not know, to warn about. */
  unknownKeys: string[];
}

const TOP_KEYS = [
  "description",
  "buildpacks",
  "extensions",
  "order",
  "order-extensions",
  "lifecycle",
  "build",
  "run",
  "stack",
  "system",
  "targets",
];
const ENV_SUFFIXES = ["override", "default", "prepend", "append"];
const CODE = "BUILDER_CONFIG_INVALID";

/** Reads and checks a builder.toml; every problem found is reported at once, naming file, line and key. */
export async function readBuilderConfig(file: string): Promise<BuilderConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw userPathError(error, {
      path: file,
      operation: "read the builder config",
      code: (error as { code?: string }).code === "ENOENT" ? "PATH_NOT_FOUND" : "PATH_UNREADABLE",
    });
  }
  return parseBuilderConfig(text, resolve(file));
}

/** Parses builder.toml text (pure; `file` names it in messages and anchors relative URIs). */
export function parseBuilderConfig(text: string, file: string): BuilderConfig {
  const document = parseTomlDocument(text, file, CODE);
  const fields = new TomlFields(file, text, CODE);
  const modules = (kind: ModuleKind, key: string): BuilderModuleSource[] =>
    fields.tables(document, key, []).flatMap((entry, i) => {
      const path: KeyPath = [key, i];
      const id = fields.string(entry, "id", path);
      const version = fields.string(entry, "version", path);
      const uri = fields.string(entry, "uri", path);
      const image = fields.string(entry, "image", path);
      checkReference(fields, kind, path, id, version);
      if ((uri === undefined) === (image === undefined)) {
        fields.report(
          CODE,
          path,
          "give exactly one of uri and image",
          `for example uri = "docker://registry/buildpack:1.0"`,
        );
        return [];
      }
      return [
        {
          ...(id !== undefined ? { id } : {}),
          ...(version !== undefined ? { version } : {}),
          location: (uri ?? image)!,
          isImage: image !== undefined,
          key: `[[${key}]][${i}]`,
        },
      ];
    });
  const group = (kind: ModuleKind, table: TomlTable, key: string, path: KeyPath): BuilderGroupEntry[] =>
    fields.tables(table, key, path).flatMap((entry, i) => {
      const at: KeyPath = [...path, key, i];
      const id = fields.string(entry, "id", at);
      const version = fields.string(entry, "version", at);
      const optional = fields.boolean(entry, "optional", at);
      if (id === undefined) {
        fields.report(CODE, at, "id is required");
        return [];
      }
      checkReference(fields, kind, at, id, version);
      return [{ id, ...(version !== undefined ? { version } : {}), ...(optional ? { optional } : {}) }];
    });
  const order = (kind: ModuleKind, key: string): BuilderOrderEntry[] =>
    fields.tables(document, key, []).map((entry, i) => ({ group: group(kind, entry, "group", [key, i]) }));

  const lifecycleTable = fields.table(document, "lifecycle", []) ?? {};
  const lifecycleVersion = fields.string(lifecycleTable, "version", ["lifecycle"]);
  const lifecycleUri = fields.string(lifecycleTable, "uri", ["lifecycle"]);
  if (lifecycleVersion !== undefined && lifecycleUri !== undefined) {
    fields.report(CODE, ["lifecycle"], "give either version or uri, not both");
  }

  const build = fields.table(document, "build", []) ?? {};
  const stack = fields.table(document, "stack", []) ?? {};
  const buildImage =
    fields.string(build, "image", ["build"]) ?? fields.string(stack, "build-image", ["stack"]);
  if (buildImage === undefined) {
    fields.report(CODE, ["build"], "no build image", 'add [build] image = "registry/build-image:tag"');
  }
  const buildEnv = fields.tables(build, "env", ["build"]).flatMap((entry, i): BuildEnvEntry[] => {
    const at: KeyPath = ["build", "env", i];
    const name = fields.string(entry, "name", at);
    const value = fields.string(entry, "value", at);
    const suffix = fields.string(entry, "suffix", at);
    const delim = fields.string(entry, "delim", at);
    if (name === undefined || value === undefined) {
      fields.report(CODE, at, "name and value are required");
      return [];
    }
    if (name === "" || name.includes("/") || name.includes(".") || name.includes("\0")) {
      fields.report(CODE, [...at, "name"], `${JSON.stringify(name)} is not a variable name`);
      return [];
    }
    if (suffix !== undefined && !ENV_SUFFIXES.includes(suffix)) {
      fields.report(
        CODE,
        [...at, "suffix"],
        `${JSON.stringify(suffix)} is not one of ${ENV_SUFFIXES.join(", ")}`,
      );
      return [];
    }
    if ((suffix === "prepend" || suffix === "append") && delim === undefined) {
      fields.report(CODE, [...at, "delim"], `a ${suffix} variable needs a delim`);
    }
    return [
      { name, value, ...(suffix !== undefined ? { suffix } : {}), ...(delim !== undefined ? { delim } : {}) },
    ];
  });

  const run = fields.table(document, "run", []) ?? {};
  const runImages: RunImageConfig[] = fields.tables(run, "images", ["run"]).flatMap((entry, i) => {
    const image = fields.string(entry, "image", ["run", "images", i]);
    if (image === undefined) {
      fields.report(CODE, ["run", "images", i], "image is required");
      return [];
    }
    return [{ image, mirrors: fields.strings(entry, "mirrors", ["run", "images", i]) }];
  });
  const legacyRun = fields.string(stack, "run-image", ["stack"]);
  if (runImages.length === 0 && legacyRun !== undefined) {
    runImages.push({ image: legacyRun, mirrors: fields.strings(stack, "run-image-mirrors", ["stack"]) });
  }
  if (runImages.length === 0) {
    fields.report(CODE, ["run"], "no run image", 'add [[run.images]] image = "registry/run-image:tag"');
  }

  const system = fields.table(document, "system", []) ?? {};
  const systemPart = (key: "pre" | "post"): BuilderGroupEntry[] => {
    const table = fields.table(system, key, ["system"]);
    return table ? group("buildpack", table, "buildpacks", ["system", key]) : [];
  };

  const targets = fields.tables(document, "targets", []).flatMap((entry, i): BuilderTargetConfig[] => {
    const at: KeyPath = ["targets", i];
    const os = fields.string(entry, "os", at) ?? "linux";
    const arch = fields.string(entry, "arch", at);
    const variant = fields.string(entry, "variant", at);
    if (arch === undefined) {
      fields.report(CODE, at, "arch is required");
      return [];
    }
    const distros = fields.tables(entry, "distros", at).flatMap((d, j) => {
      const name = fields.string(d, "name", [...at, "distros", j]);
      const version = fields.string(d, "version", [...at, "distros", j]);
      return name === undefined ? [] : [{ name, ...(version !== undefined ? { version } : {}) }];
    });
    return [{ os, arch, ...(variant ? { variant } : {}), distros }];
  });

  const stackId = fields.string(stack, "id", ["stack"]);
  const config: BuilderConfig = {
    file,
    dir: dirname(file),
    description: fields.string(document, "description", []) ?? "",
    buildpacks: modules("buildpack", "buildpacks"),
    extensions: modules("extension", "extensions"),
    order: order("buildpack", "order"),
    orderExtensions: order("extension", "order-extensions"),
    lifecycle: {
      ...(lifecycleVersion !== undefined ? { version: lifecycleVersion } : {}),
      ...(lifecycleUri !== undefined ? { uri: lifecycleUri } : {}),
    },
    buildImage: buildImage ?? "",
    buildEnv,
    runImages,
    ...(stackId !== undefined ? { stackId } : {}),
    system: { pre: systemPart("pre"), post: systemPart("post") },
    targets,
    unknownKeys: Object.keys(document).filter((key) => !TOP_KEYS.includes(key)),
  };
  if (config.order.length === 0 && fields.problems.length === 0) {
    fields.report(
      CODE,
      [],
      "no [[order]]",
      "add [[order]] with [[order.group]] entries naming the buildpacks",
    );
  }
  if (fields.problems.length === 1) throw fields.problems[0]!;
  if (fields.problems.length > 1) {
    throw new PolypackError(
      CODE,
      `${file} has ${fields.problems.length} problems:\n  ${fields.problems.map((p) => p.message).join("\n  ")}`,
      {
        hint: "fix each line named above",
      },
    );
  }
  return config;
}

function checkReference(
  fields: TomlFields,
  kind: ModuleKind,
  path: KeyPath,
  id: string | undefined,
  version: string | undefined,
): void {
  if (id === undefined) return;
  for (const problem of checkModuleReference(kind, id, version)) {
    fields.report(problem.code, [...path, problem.key], problem.reason, problem.hint);
  }
}
