import { InvalidArgumentError } from "commander";

// Every numeric and enumerated flag goes through these parsers. commander turns the
// InvalidArgumentError into a usage error naming the flag and value, which the entry point exits
// with status 2, instead of the value reaching the library as NaN, 0 or an unknown word.

/** A commander option parser for a whole number from `min` to `max`, written in decimal digits. */
export function integerFlag(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/**
 * A commander option parser for a positive duration in seconds, fractions allowed (`0.5`, `90`), up
 * to `max`. The bound matters: Node's timers take at most 2^31-1 ms and fire at once beyond that.
 */
export function secondsFlag(max: number): (value: string) => number {
  return (value) => {
    const seconds = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > max) {
      throw new InvalidArgumentError(`Expected a positive number of seconds, at most ${max}.`);
    }
    return seconds;
  };
}

/** A commander option parser for one of `choices`, spelled exactly. */
export function choiceFlag<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    const choice = choices.find((c) => c === value);
    if (choice === undefined) throw new InvalidArgumentError(`Expected one of ${choices.join(", ")}.`);
    return choice;
  };
}
