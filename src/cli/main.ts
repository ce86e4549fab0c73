import { Command, CommanderError } from "commander";
import { registerCopy } from "./commands/copy.js";
import { registerManifestInspect } from "./commands/manifest-inspect.js";
import { createContext, type CliContext } from "./context.js";
import { Output } from "./output.js";
import { polypackVersion } from "../version.js";

interface GlobalOptions {
  json?: boolean;
  insecureRegistry: string[];
  caFile?: string;
  username?: string;
  password?: string;
}


/** Builds the command tree. Exported for tests. */
export function buildProgram(): Command {
  const program = new Command("polypack")
    .description("package and publish multi-architecture Cloud Native Buildpacks without a Docker daemon")
    .version(polypackVersion())
    .option("--json", "print machine-readable JSON on stdout")
    .option("--insecure-registry <host>", "reach this registry over plain HTTP (repeatable)", collect, [])
    .option("--ca-file <pem>", "trust the certificate authorities in this PEM file")
    .option("--username <name>", "registry user name (or POLYPACK_REGISTRY_USERNAME)")
    .option("--password <secret>", "registry password or token (or POLYPACK_REGISTRY_PASSWORD)")
    .showHelpAfterError()
    .exitOverride();

  const context = (): CliContext => {
    const options = program.opts<GlobalOptions>();
    return createContext(new Output(options.json ?? false), {
      insecure: options.insecureRegistry,
      ...(options.caFile ? { caFile: options.caFile } : {}),
      ...(options.username ? { username: options.username } : {}),
      ...(options.password ? { password: options.password } : {}),
    });
  };

  const manifest = program.command("manifest").description("inspect and create image indexes");
  registerManifestInspect(manifest, context);
  registerCopy(program, context);
  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Runs the command line and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    const json = program.opts<GlobalOptions>().json ?? false;
    return new Output(json).error(error);
  }
}
