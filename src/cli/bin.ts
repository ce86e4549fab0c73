#!/usr/bin/env node
import { main } from "./main.js";

// A reader that goes away early (`polypack --help | head`) closes the pipe: stop quietly, as other
// command-line tools do, instead of failing with an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv.slice(2), { exitOnSignal: true });
