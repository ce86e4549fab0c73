import { spawn } from "node:child_process";

/** Wall time and peak memory of one command run to completion. */
export interface Measurement {
  command: string;
  seconds: number;
  peakRssMiB: number;
}

/**
 * Runs a command under GNU time (`/usr/bin/time -f`), which reports the peak resident set size of
 * the process tree's largest process, so polypack and its peers are measured the same way.
 */
export async function measure(
  program: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Measurement> {
  const started = process.hrtime.bigint();
  const stderr = await new Promise<string>((resolve, reject) => {
    const child = spawn("/usr/bin/time", ["-f", "POLYPACK_BENCH %M", program, ...args], {
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let text = "";
    child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(text);
      else reject(new Error(`${program} ${args.join(" ")} exited with ${code}:\n${text}`));
    });
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const match = /POLYPACK_BENCH (\d+)/.exec(stderr);
  const peakRssMiB = match ? Number(match[1]) / 1024 : Number.NaN;
  return { command: [program, ...args].join(" "), seconds, peakRssMiB };
}

/** The faster of `runs` measurements (the usual way to damp noise from a shared machine). */
export async function best(runs: number, once: (run: number) => Promise<Measurement>): Promise<Measurement> {
  let result: Measurement | undefined;
  for (let run = 0; run < runs; run++) {
    const m = await once(run);
    if (!result || m.seconds < result.seconds)
      result = { ...m, peakRssMiB: Math.max(m.peakRssMiB, result?.peakRssMiB ?? 0) };
  }
  return result!;
}
