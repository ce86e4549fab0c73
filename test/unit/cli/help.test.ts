import assert from "node:assert/strict";
import { test } from "node:test";
import type { Command } from "commander";
import { buildProgram } from "../../../src/cli/main.js";
import { commandPath, examples, walk } from "../../../src/cli/help.js";

function helpText(command: Command): string {
  let text = "";
  command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  command.outputHelp();
  return text;
}

test("every command's --help ends with two or three examples, each a polypack command line", () => {
  const program = buildProgram();
  const commands = walk(program);
  assert.ok(commands.length >= 14, `only ${commands.length} commands`);
  for (const command of commands) {
    const name = commandPath(command);
    const given = examples(command);
    assert.ok(given.length >= 2 && given.length <= 3, `${name}: ${given.length} examples`);
    const text = helpText(command);
    assert.match(text, /\nExamples:\n/, name);
    for (const example of given) {
      assert.match(example.run, /(^|\s)polypack /, `${name}: ${example.run}`);
      assert.ok(text.includes(`  ${example.run}\n`), `${name} shows ${example.run}`);
    }
  }
});
