import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";

// The repository root, from dist/test/integration: the built package that users import by name.
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** What each entry point must offer at run time (types are checked by the consumer below). */
const REQUIRED: Record<string, readonly string[]> = {
  polypack: [
    "PolypackError",
    "isPolypackError",
    "Digest",
    "Digester",
    "Platform",
    "MediaType",
    "descriptorFor",
    "parseManifest",
    "verifyingStream",
    "readArtifact",
    "mutateImage",
    "emptyImage",
    "newIndex",
    "editIndex",
    "write",
    "writeMissing",
    "spooledLayer",
    "parseEndpoint",
    "openSource",
    "openTarget",
    "registryAccess",
    "copy",
    "inspect",
    "joinImages",
  ],
  "polypack/layer": [
    "writeLayer",
    "writeLayerFile",
    "readLayer",
    "readEntryContent",
    "collectDirectory",
    "putLayer",
  ],
  "polypack/registry": [
    "RegistryClient",
    "RegistrySource",
    "RegistryTarget",
    "Reference",
    "RegistryError",
    "defaultCredentialProvider",
    "StaticCredentialProvider",
    "ChainCredentialProvider",
  ],
  "polypack/layout": ["OciLayout", "LayoutSource", "LayoutTarget", "CnbSource", "CnbTarget"],
  "polypack/buildpack": [
    "parseBuildpackToml",
    "parseExtensionToml",
    "checkDescriptor",
    "parsePackageToml",
    "resolveDependency",
  ],
  "polypack/package": ["packageBuildpack", "includeCompositeLayers"],
};

/** Internals the entry points used to re-export, and must not any more. */
const INTERNAL = [
  "Limiter",
  "mapLimit",
  "planGraph",
  "parseLabels",
  "chooseOutput",
  "encodeGoJSON",
  "createTransport",
  "readTextFileIfExists",
  "runCredentialHelper",
  "planPackage",
  "buildPackage",
  "deliverPackage",
  "DependencyCache",
  "readCapped",
  "indexOf",
  "entryFor",
  "planWrite",
  "LayerSpool",
];

/** The named exports of `specifier` as a separate Node process imports it, from the repository root. */
async function exportsOf(specifier: string): Promise<string[]> {
  const script = `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m)));`;
  const out = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT });
  return JSON.parse(out) as string[];
}

test("each entry point imports by package name and offers what a library user needs, not the internals", async () => {
  for (const [specifier, names] of Object.entries(REQUIRED)) {
    const exported = await exportsOf(specifier);
    for (const name of names) assert.ok(exported.includes(name), `${specifier} exports ${name}`);
    for (const name of INTERNAL) assert.ok(!exported.includes(name), `${specifier} does not export ${name}`);
  }
  // Anything beyond the entry points is closed to importers.
  await assert.rejects(exportsOf("polypack/dist/src/util/concurrency.js"), /ERR_PACKAGE_PATH_NOT_EXPORTED/);
});

test("every entry point and its types are in the published files", async () => {
  const manifest = JSON.parse(
    await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT }),
  ) as {
    files: { path: string }[];
  }[];
  const files = new Set(manifest[0]!.files.map((file) => file.path));
  const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
    exports: Record<string, string | { types: string; import: string }>;
  };
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const paths = typeof target === "string" ? [target] : [target.types, target.import];
    for (const path of paths)
      assert.ok(files.has(path.replace(/^\.\//, "")), `${subpath}: ${path} is published`);
  }
});

test("a TypeScript consumer type-checks against the published declarations", async () => {
  const project = await tempDir();
  await mkdir(join(project, "node_modules"));
  await symlink(ROOT, join(project, "node_modules", "polypack"), "dir");
  await symlink(join(ROOT, "node_modules", "@types"), join(project, "node_modules", "@types"), "dir");
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "consumer", type: "module" }));
  await writeFile(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "NodeNext",
        moduleResolution: "NodeNext",
        target: "ES2022",
        strict: true,
        noEmit: true,
        types: ["node"],
      },
      files: ["consumer.ts"],
    }),
  );
  await writeFile(join(project, "consumer.ts"), CONSUMER);
  assert.deepEqual(await typeCheck(project), { code: 0, stdout: "" });
  // And the check is not vacuous: a wrong use of the same API is refused.
  await writeFile(
    join(project, "consumer.ts"),
    `${CONSUMER}\nexport const wrong: string = Platform.parse("linux/amd64");\n`,
  );
  const refused = await typeCheck(project);
  assert.equal(refused.code, 2);
  assert.match(refused.stdout, /consumer\.ts.*TS2322/);
});

/** Runs tsc on a project; its diagnostics go to stdout. */
function typeCheck(project: string): Promise<{ code: number; stdout: string }> {
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, "-p", project], (error, stdout) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout });
    });
  });
}

/** A small program using every entry point the way the README describes. */
const CONSUMER = `
import { Platform, PolypackError, emptyImage, mutateImage, newIndex, readArtifact, write, type Image, type Layer } from "polypack";
import { writeLayerFile, type LayerEntry, type WrittenLayer } from "polypack/layer";
import { Reference, RegistryClient, RegistrySource, RegistryTarget, defaultCredentialProvider } from "polypack/registry";
import { CnbTarget, OciLayout } from "polypack/layout";
import { parseBuildpackToml, resolveDependency, type BuildpackDescriptor, type Target } from "polypack/buildpack";
import { packageBuildpack, type PackageOptions, type PackageResult } from "polypack/package";

export async function demo(): Promise<string> {
  const platform = Platform.parse("linux/arm64");
  const entries: LayerEntry[] = [{ type: "file", path: "hello.txt", content: Buffer.from("hi") }];
  const written: WrittenLayer = await writeLayerFile(entries, "/tmp/layer.tgz");
  const base: Image = emptyImage(platform.toJSON());
  const layers: Layer[] = [];
  const image = mutateImage(base, { labels: { a: "b" }, add: layers.map((layer) => ({ layer })) });
  const client = new RegistryClient({ credentials: defaultCredentialProvider() });
  const reference = Reference.parse("registry.example.com/team/app:1");
  const source = new RegistrySource(client, reference);
  const root = await readArtifact(source);
  const report = await write(newIndex([{ artifact: image }, { artifact: root }]), new RegistryTarget(client, reference));
  const layout: OciLayout = await OciLayout.open("/tmp/layout");
  const cnb: (path: string) => Promise<CnbTarget> = (path) => CnbTarget.create(path);
  const descriptor: BuildpackDescriptor = parseBuildpackToml("api = '0.10'");
  const target: Target | undefined = descriptor.targets[0];
  const chosen = target ? resolveDependency(descriptor.metadata.dependencies, { id: "x", target }) : undefined;
  const options: PackageOptions = { dryRun: true };
  const result: PackageResult = await packageBuildpack(options);
  const failed = new PolypackError("PATH_NOT_FOUND", "example");
  return [written.diffID, report.root.digest, layout.path, typeof cnb, chosen?.dependency.version, result.plan, failed.code].join();
}
`;
