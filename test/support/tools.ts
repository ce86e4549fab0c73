import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Runs a program and returns its stdout; fails with stderr in the message. */
export async function run(
  program: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileAsync(program, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${program} ${args.join(" ")} failed: ${e.stderr ?? e.message}`, { cause: error });
  }
}

/** Whether slow tests are skipped (`npm run test:quick`); `npm test` runs everything. */
export const quick = process.env["POLYPACK_TEST_QUICK"] === "1";
