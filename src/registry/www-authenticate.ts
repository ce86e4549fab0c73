/** One challenge from a WWW-Authenticate header, e.g. Bearer with realm, service and scope. */
export interface Challenge {
  /** Lower-case scheme: `basic`, `bearer`, ... */
  scheme: string;
  /** Parameters with lower-case names; quoted values unescaped. */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const BARE_VALUE = /[^\s,]*/y;
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*/y;

/** A small cursor over the header text. */
class Scanner {
  position = 0;
  constructor(readonly text: string) {}

  skip(pattern: RegExp): void {
    while (this.position < this.text.length && pattern.test(this.text[this.position]!)) this.position++;
  }

  match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.position;
    const found = pattern.exec(this.text);
    if (!found) return undefined;
    this.position += found[0].length;
    return found[0];
  }

  peek(): string | undefined {
    return this.text[this.position];
  }

  quoted(): string {
    let value = "";
    this.position++; // opening quote
    while (this.position < this.text.length) {
      const char = this.text[this.position++]!;
      if (char === '"') return value;
      value += char === "\\" && this.position < this.text.length ? this.text[this.position++]! : char;
    }
    return value;
  }

  /** Whether a `name =` parameter starts here (as opposed to the next challenge's scheme). */
  atParam(): boolean {
    const rest = this.text.slice(this.position);
    return (
      /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*=(?!=*\s*(,|$))/.test(rest) ||
      /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*=\s*"/.test(rest)
    );
  }
}

/**
 * Parses WWW-Authenticate values (several headers or several challenges in one), tolerating the
 * quoted commas registries put into scopes. Unparseable trailing text is ignored.
 */
export function parseWwwAuthenticate(values: string | readonly string[] | undefined): Challenge[] {
  const list = values === undefined ? [] : typeof values === "string" ? [values] : values;
  return list.flatMap(parseOne);
}

function parseOne(text: string): Challenge[] {
  const scanner = new Scanner(text);
  const challenges: Challenge[] = [];
  while (scanner.position < text.length) {
    scanner.skip(/[\s,]/);
    const scheme = scanner.match(TOKEN);
    if (!scheme) break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    scanner.skip(/\s/);
    if (!scanner.atParam()) {
      // A token68 credential form, e.g. `Negotiate abc==`; keep it under an empty name.
      const token68 = scanner.match(TOKEN68);
      if (token68) challenge.params[""] = token68;
    }
    while (scanner.atParam()) {
      const name = scanner.match(TOKEN)!.toLowerCase();
      scanner.skip(/\s/);
      scanner.position++; // "="
      scanner.skip(/\s/);
      // Unquoted values should be tokens; registries also send bare URLs, so read up to the next comma.
      challenge.params[name] = scanner.peek() === '"' ? scanner.quoted() : (scanner.match(BARE_VALUE) ?? "");
      scanner.skip(/\s/);
      if (scanner.peek() !== ",") break;
      scanner.position++;
      scanner.skip(/\s/);
    }
  }
  return challenges;
}
