import { Help, type Command, type Option } from "commander";

// The help conventions every command follows: two or three examples at the end of its --help, and
// a mistyped flag or command answered with commander's "Did you mean ...?" and one line pointing at
// the command's --help instead of the whole help text. New commands call `addExamples` where they
// are registered; `applyHelpConventions` (run once on the finished tree) does the rest.

/** One example of a command: what it does, and the command line that does it. */
export interface Example {
  /** What the example does, in a few words. */
  readonly does: string;
  /** The whole command line, starting with `polypack`. */
  readonly run: string;
}

const examplesOf = new WeakMap<Command, readonly Example[]>();

/** Adds examples to `command`'s --help (give two or three). Returns the command, for chaining. */
export function addExamples(command: Command, examples: readonly Example[]): Command {
  examplesOf.set(command, examples);
  command.addHelpText("after", () => renderExamples(examples));
  return command;
}

/** The examples `addExamples` gave `command` (none when it gave none). */
export function examples(command: Command): readonly Example[] {
  return examplesOf.get(command) ?? [];
}

/** The "Examples:" block of a help text. */
export function renderExamples(examples: readonly Example[]): string {
  const lines = examples.flatMap(({ does, run }) => [`  # ${does}`, `  ${run}`]);
  return `\nExamples:\n${lines.join("\n")}\n`;
}

/** A command's full name as typed, such as `polypack buildpack package`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(" ");
}

/**
 * Applies the conventions to every command of the tree: usage errors start with their code
 * (`error[COMMAND_LINE_INVALID]:`) and end with one line naming the command's --help, suggestions for mistyped flags and commands stay on, and a repeatable flag's
 * help shows no `(default: [])`.
 */
export function applyHelpConventions(program: Command): void {
  for (const command of walk(program)) {
    command.showSuggestionAfterError(true);
    command.showHelpAfterError(`(run \`${commandPath(command)} --help\` for usage and examples)`);
    // The parser's refusals carry their code, as every other error does.
    command.configureOutput({
      outputError: (text, write) => write(text.replace(/^error: /, "error[COMMAND_LINE_INVALID]: ")),
    });
    command.configureHelp({ optionDescription });
  }
}

// commander's description, without the `(default: [])` of a repeatable flag: the empty list it
// starts from is no default a user chooses, and the description already says what none means.
function optionDescription(this: Help, option: Option): string {
  return Help.prototype.optionDescription.call(this, option).replace(/ \(default: \[\]\)$/, "");
}

/** Every command of the tree, the root first. */
export function walk(program: Command): Command[] {
  return [program, ...program.commands.flatMap((command) => walk(command))];
}

/**
 * Replaces commander's `help [command]`, which only looks one level down, with one that follows the
 * whole path: `polypack help buildpack package` prints the help of `buildpack package`.
 */
export function addHelpCommand(program: Command): void {
  program.helpCommand(false);
  program
    .command("help")
    .description("show the help of a command, such as `polypack help buildpack package`")
    .argument("[command...]", "the command's words")
    .action((words: string[]) => {
      let command: Command = program;
      for (const word of words) {
        const next = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
        if (next === undefined) {
          const known = command.commands.map((c) => c.name()).join(", ");
          command.error(
            `error: ${commandPath(command)} has no command '${word}'${known ? ` (it has: ${known})` : ""}`,
            { code: "commander.unknownCommand", exitCode: 2 },
          );
        }
        command = next;
      }
      command.outputHelp();
    });
}
