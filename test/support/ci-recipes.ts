// Reading the CI recipes (docs/ci.md, examples/ci/github-actions/*.yml) as a shell would, enough
// to find every `polypack` command line in them: the unit test parses each with the real CLI, the
// end-to-end test runs the matrix recipe's own lines against a registry.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the nearest folder above this file with a package.json and docs/ (works from dist/ too). */
export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) || !existsSync(join(dir, "docs"))) dir = dirname(dir);
  return dir;
}

/** What the shell expansions in a recipe stand for. */
export interface Expansions {
  /** `$NAME` and `${NAME}`; unknown names become "value". */
  variables: Record<string, string>;
  /** `${{ expression }}` of GitHub Actions. */
  expression: (expression: string) => string;
  /** The words a `$(...)` command substitution gives. */
  substitution: (command: string) => string[];
}

/** Sample values: enough for the parser to judge a line. */
export const SAMPLE_DIGEST = `sha256:${"0".repeat(64)}`;
export const SAMPLE_EXPANSIONS: Expansions = {
  variables: { IMAGE: "ghcr.io/me/bp", VERSION: "1.2.3", digest: SAMPLE_DIGEST },
  expression: (expression) => (/target|platform/.test(expression) ? "linux/arm64" : "value"),
  substitution: () => [`ghcr.io/me/bp@${SAMPLE_DIGEST}`],
};

/** The shell text of a workflow: `run: CMD` lines and the lines of `run: |` blocks. */
export function workflowShell(text: string): string[] {
  const out: string[] = [];
  let blockIndent = -1;
  for (const line of text.split("\n")) {
    const indent = line.length - line.trimStart().length;
    if (blockIndent >= 0 && (line.trim() === "" || indent > blockIndent)) {
      out.push(line.trim());
      continue;
    }
    blockIndent = -1;
    const run = /^(\s*)(?:- )?run:\s*(.*)$/.exec(line);
    if (run === null) continue;
    if (run[2] === "|" || run[2] === "|-") blockIndent = (run[1] ?? "").length;
    else out.push(run[2] ?? "");
  }
  return out;
}

/** The shell text of a Markdown file: the lines of its ```sh fenced blocks. */
export function markdownShell(text: string): string[] {
  const out: string[] = [];
  let inside = false;
  for (const line of text.split("\n")) {
    if (/^\s*```/.test(line)) {
      inside = !inside && /```(sh|bash|shell)\s*$/.test(line);
      continue;
    }
    if (inside) out.push(line.trim());
  }
  return out;
}

/**
 * The argument lists of every `polypack` invocation in shell lines, including those inside
 * `$(...)`. Quotes are honoured; `$VAR`, `${{ expr }}` and `$(...)` are replaced by sample values;
 * an invocation ends at an unquoted `|`, `;`, `&&`, `>` or the `)` closing its substitution.
 */
export function polypackInvocations(
  lines: readonly string[],
  expansions: Expansions = SAMPLE_EXPANSIONS,
): string[][] {
  const text = lines.join("\n").replace(/\\\n/g, " ");
  const found: string[][] = [];
  for (const line of text.split("\n")) {
    for (const match of line.matchAll(/(?:^|[\s(;&|])polypack\s/g)) {
      const start = (match.index ?? 0) + match[0].indexOf("polypack") + "polypack".length;
      found.push(words(line.slice(start), expansions));
    }
  }
  return found;
}

function words(rest: string, expansions: Expansions): string[] {
  const out: string[] = [];
  let word = "";
  let inWord = false;
  let quote = "";
  const push = (): void => {
    if (inWord) out.push(word);
    word = "";
    inWord = false;
  };
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i] ?? "";
    const tail = rest.slice(i);
    if (quote === "'") {
      if (ch === "'") quote = "";
      else word += ch;
      continue;
    }
    if (tail.startsWith("${{")) {
      const end = tail.indexOf("}}");
      const expression = tail.slice(3, end).trim();
      word += expansions.expression(expression);
      inWord = true;
      i += end + 1;
      continue;
    }
    if (tail.startsWith("$(")) {
      let depth = 0;
      let j = 0;
      for (; j < tail.length; j++) {
        if (tail[j] === "(") depth++;
        else if (tail[j] === ")" && --depth === 0) break;
      }
      // Unquoted, as the recipes write it: each word of the output is an argument.
      const [first, ...more] = expansions.substitution(tail.slice(2, j));
      word += first ?? "";
      inWord = true;
      for (const extra of more) {
        push();
        word = extra;
        inWord = true;
      }
      i += j;
      continue;
    }
    const variable = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/.exec(tail);
    if (variable !== null) {
      word += expansions.variables[variable[1] ?? ""] ?? "value";
      inWord = true;
      i += variable[0].length - 1;
      continue;
    }
    if (quote === '"') {
      if (ch === '"') quote = "";
      else word += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) push();
    else if ("|;)>#".includes(ch) || tail.startsWith("&&")) break;
    else {
      word += ch;
      inWord = true;
    }
  }
  push();
  return out;
}
