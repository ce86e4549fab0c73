import { Command, CommanderError } from "commander";
import { registerBuilderCreate } from "./commands/builder-create.js";
import { registerBuildpackPackage } from "./commands/buildpack-package.js";
import { registerCopy } from "./commands/copy.js";
import { registerDependencyResolve } from "./commands/dependency-resolve.js";
import { registerManifestCreate } from "./commands/manifest-create.js";
import { registerManifestInspect } from "./commands/manifest-inspect.js";
import { registerTest } from "./commands/test.js";
import { createContext, type CliContext } from "./context.js";
import { secondsFlag } from "./flag-parsers.js";
import { exitOnInterrupt } from "./interrupt.js";
import { USAGE_EXIT_STATUS } from "../errors/index.js";
import { Output } from "./output.js";
import { polypackVersion } from "../version.js";

interface GlobalOptions {
  json?: boolean;
  insecureRegistry: string[];
  caFile?: string;
  username?: string;
  password?: string;
  registryTimeout?: number;
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
    .showHelpAfterError()
    .exitOverride();

  const context = (): CliContext => {
    const options = program.opts<GlobalOptions>();
    const ctx = createContext(new Output(options.json ?? false), {
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
  registerCopy(program, context);
  const buildpack = program.command("buildpack").description("package buildpacks");
  registerBuildpackPackage(buildpack, context);
  const extension = program.command("extension").description("package image extensions");
  registerBuildpackPackage(extension, context, "extension");
  const builder = program.command("builder").description("create multi-arch builders");
  registerBuilderCreate(builder, context);
  const dependency = program.command("dependency").description("work with a buildpack's dependencies");
  registerDependencyResolve(dependency, context);
  registerTest(program, context);
  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

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
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    process.stdout.write(`${polypackVersion()}\n`);
    return 0;
  }
  const contexts: CliContext[] = [];
  const program = buildProgram(contexts);
  const json = (): boolean => program.opts<GlobalOptions>().json ?? false;
  const stopSignals = options.exitOnSignal
    ? exitOnInterrupt((error) => new Output(json()).error(error))
    : undefined;
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : USAGE_EXIT_STATUS;
    }
    return new Output(json()).error(error);
  } finally {
    stopSignals?.();
    await Promise.all(contexts.map((ctx) => ctx.close()));
  }
}
