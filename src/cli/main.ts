import { Command, CommanderError } from "commander";
import { registerBuilderCreate } from "./commands/builder-create.js";
import { registerBuildpackNew } from "./commands/buildpack-new.js";
import { registerBuildpackPackage } from "./commands/buildpack-package.js";
import { registerCopy } from "./commands/copy.js";
import { registerDependencyAdd } from "./commands/dependency-add.js";
import { registerDependencyCoverage } from "./commands/dependency-coverage.js";
import { registerDependencyResolve } from "./commands/dependency-resolve.js";
import { registerDependencyUpdate } from "./commands/dependency-update.js";
import { registerManifestAdd } from "./commands/manifest-add.js";
import { registerManifestAnnotate } from "./commands/manifest-annotate.js";
import { registerManifestCreate } from "./commands/manifest-create.js";
import { registerManifestPush } from "./commands/manifest-push.js";
import { registerManifestRemove } from "./commands/manifest-remove.js";
import { registerManifestRm } from "./commands/manifest-rm.js";
import { registerManifestInspect } from "./commands/manifest-inspect.js";
import { registerStackCreate } from "./commands/stack-create.js";
import { registerStackPublish } from "./commands/stack-publish.js";
import { registerSbom } from "./commands/sbom.js";
import { registerVerify } from "./commands/verify.js";
import { registerTest } from "./commands/test.js";
import { createContext, type CliContext } from "./context.js";
import { collect, secondsFlag } from "./flag-parsers.js";
import { exitOnInterrupt } from "./interrupt.js";
import { USAGE_EXIT_STATUS } from "../errors/index.js";
import { Output, type OutputStyle } from "./output.js";
import { addExamples, addHelpCommand, applyHelpConventions } from "./help.js";
import { GROUP_EXAMPLES } from "./group-examples.js";
import { PolypackError } from "../errors/index.js";
import { polypackVersion } from "../version.js";

interface GlobalOptions {
  json?: boolean;
  insecureRegistry: string[];
  caFile?: string;
  username?: string;
  password?: string;
  registryTimeout?: number;
  verbose?: boolean;
  quiet?: boolean;
  color: boolean;
  forceColor?: boolean;
  timestamps?: boolean;
}

/** Builds the command tree. Exported for tests. */
export function buildProgram(contexts: CliContext[] = []): Command {
  const program = new Command("polypack")
    .description("package and publish multi-architecture Cloud Native Buildpacks without a Docker daemon")
    .option("--json", "print machine-readable JSON on stdout")
    .option(
      "--insecure-registry <host>",
      "allow plain HTTP and unverified TLS for this registry (repeatable)",
      collect,
      [],
    )
    .option("--ca-file <pem>", "trust the certificate authorities in this PEM file")
    .option("--username <name>", "registry user name (or POLYPACK_REGISTRY_USERNAME)")
    .option("--password <secret>", "registry password or token (or POLYPACK_REGISTRY_PASSWORD)")
    .option(
      "--registry-timeout <seconds>",
      "give up on a registry connection silent this long, then retry (default 60)",
      secondsFlag("--registry-timeout", 24 * 60 * 60),
    )
    .option("-v, --verbose", "say more about each step")
    .option("-q, --quiet", "print only results, warnings and errors (no progress)")
    .option("--no-color", "never colour the output (as does NO_COLOR)")
    .option("--force-color", "colour the output even when it is not a terminal")
    .option("--timestamps", "start every line on stderr with the time")
    .exitOverride();
  addExamples(program, [
    {
      does: "package the buildpack in ./my-buildpack for its targets as one multi-arch .cnb",
      run: "polypack buildpack package my-buildpack.cnb --path ./my-buildpack --format file",
    },
    {
      does: "package it and push the multi-arch index to a registry",
      run: "polypack buildpack package registry.example.com/me/my-buildpack:1.0.0 --path ./my-buildpack --publish",
    },
    { does: "show the help of a command", run: "polypack help buildpack package" },
  ]);

  const context = (): CliContext => {
    const options = program.opts<GlobalOptions>();
    const ctx = createContext(new Output(options.json ?? false, undefined, undefined, outputStyle(options)), {
      insecure: options.insecureRegistry,
      ...(options.caFile ? { caFile: options.caFile } : {}),
      ...(options.username ? { username: options.username } : {}),
      ...(options.password ? { password: options.password } : {}),
      ...(options.registryTimeout ? { timeoutMs: Math.round(options.registryTimeout * 1000) } : {}),
    });
    contexts.push(ctx);
    return ctx;
  };

  const manifest = program.command("manifest").description("inspect and create image indexes");
  registerManifestInspect(manifest, context);
  registerManifestCreate(manifest, context);
  registerManifestAdd(manifest, context);
  registerManifestAnnotate(manifest, context);
  registerManifestRm(manifest, context);
  registerManifestRemove(manifest, context);
  registerManifestPush(manifest, context);
  registerCopy(program, context);
  const buildpack = program.command("buildpack").description("package buildpacks");
  registerBuildpackPackage(buildpack, context);
  registerBuildpackNew(buildpack, context);
  const extension = program.command("extension").description("package image extensions");
  registerBuildpackPackage(extension, context, "extension");
  registerBuildpackNew(extension, context, "extension");
  const builder = program.command("builder").description("create multi-arch builders");
  registerBuilderCreate(builder, context);
  const dependency = program.command("dependency").description("work with a buildpack's dependencies");
  registerDependencyResolve(dependency, context);
  registerDependencyAdd(dependency, context);
  registerDependencyUpdate(dependency, context);
  registerDependencyCoverage(dependency, context);
  const stack = program.command("stack").description("make and publish CNB build and run images (stacks)");
  registerStackCreate(stack, context);
  registerStackPublish(stack, context);
  registerVerify(program, context);
  registerSbom(program, context);
  registerTest(program, context);
  addHelpCommand(program);
  for (const [group, examples] of Object.entries(GROUP_EXAMPLES)) {
    const command = program.commands.find((c) => c.name() === group);
    if (command) addExamples(command, examples);
  }
  applyHelpConventions(program);
  return program;
}

/** The global look flags as an OutputStyle; --no-color with --force-color is FLAGS_CONFLICT. */
export function outputStyle(options: Partial<GlobalOptions>): OutputStyle {
  if (options.forceColor && options.color === false) {
    throw new PolypackError("FLAGS_CONFLICT", "--no-color and --force-color contradict each other", {
      hint: "give one of them",
    });
  }
  if (options.quiet && options.verbose) {
    throw new PolypackError("FLAGS_CONFLICT", "-q/--quiet and -v/--verbose contradict each other", {
      hint: "give one of them",
    });
  }
  return {
    ...(options.quiet ? { quiet: true } : {}),
    ...(options.verbose ? { verbose: true } : {}),
    ...(options.forceColor ? { color: true } : options.color === false ? { color: false } : {}),
    ...(options.timestamps ? { timestamps: true } : {}),
  };
}

// Global flags without a value, which may stand beside --version (`polypack --json --version`).
const LOOK_FLAGS = new Set([
  "--json",
  "-q",
  "--quiet",
  "-v",
  "--verbose",
  "--no-color",
  "--force-color",
  "--timestamps",
]);

/**
 * Runs the command line and returns the exit code. With `exitOnSignal` (the `polypack` program),
 * SIGINT and SIGTERM clean up and exit 130 or 143 (see exitOnInterrupt).
 */
export async function main(
  argv: readonly string[],
  options: { exitOnSignal?: boolean } = {},
): Promise<number> {
  // Handled here rather than as a program option, so `--version` stays free for subcommands
  // (`dependency resolve --version 1.2.*`).
  const words = argv.filter((word) => !LOOK_FLAGS.has(word));
  if (words.length === 1 && (words[0] === "--version" || words[0] === "-V")) {
    const json = argv.includes("--json");
    process.stdout.write(
      json ? `${JSON.stringify({ version: polypackVersion() })}\n` : `${polypackVersion()}\n`,
    );
    return 0;
  }
  const contexts: CliContext[] = [];
  const program = buildProgram(contexts);
  const output = (): Output => {
    const options = program.opts<GlobalOptions>();
    let style: OutputStyle = {};
    try {
      style = outputStyle(options);
    } catch {
      // The conflict itself is reported through this plain style.
    }
    return new Output(options.json ?? false, undefined, undefined, style);
  };
  const stopSignals = options.exitOnSignal ? exitOnInterrupt((error) => output().error(error)) : undefined;
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0;
      // The parser printed its refusal on stderr; --json still gets its one document on stdout.
      if (program.opts<GlobalOptions>().json) {
        const refusal = new PolypackError("COMMAND_LINE_INVALID", error.message.replace(/^error: /, ""));
        process.stdout.write(JSON.stringify({ error: refusal.toJSON() }, null, 2) + "\n");
      }
      return USAGE_EXIT_STATUS;
    }
    return output().error(error);
  } finally {
    stopSignals?.();
    await Promise.all(contexts.map((ctx) => ctx.close()));
  }
}
