import { Option, type Command } from "commander";

/** A user name and password from `--src-creds` / `--dest-creds`. */
export interface SideCreds {
  username: string;
  password: string;
}

/** Adds skopeo's `--src-creds` and `--dest-creds` (or POLYPACK_SRC_CREDS / POLYPACK_DEST_CREDS). */
export function addCredsOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--src-creds <user:password>", "credentials for the source registry only").env(
        "POLYPACK_SRC_CREDS",
      ),
    )
    .addOption(
      new Option("--dest-creds <user:password>", "credentials for the destination registry only").env(
        "POLYPACK_DEST_CREDS",
      ),
    );
}

/**
 * Splits a `USER:PASSWORD` value at its first colon (passwords may hold colons). A value without
 * one is a usage error, reported without the value, which may be a password typed on its own.
 */
export function parseCreds(command: Command, flag: string, value: string | undefined): SideCreds | undefined {
  if (value === undefined) return undefined;
  const colon = value.indexOf(":");
  if (colon <= 0 || colon === value.length - 1) {
    command.error(`error: ${flag} expects USER:PASSWORD (the value given is not shown)`, {
      exitCode: 2,
      code: "polypack.invalidCreds",
    });
  }
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}
