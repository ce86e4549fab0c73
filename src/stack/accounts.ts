import { PolypackError } from "../errors/index.js";

/** The CNB user and group to add to an image. */
export interface CnbAccount {
  userName: string;
  groupName: string;
  uid: number;
  gid: number;
  /** The home directory, absolute. */
  home: string;
  shell: string;
}

/** One `name:password:id:...` line of /etc/passwd or /etc/group. */
interface AccountLine {
  name: string;
  id: number;
  gid?: number;
}

/** Reads the names and ids of /etc/passwd (name, uid, gid) or /etc/group (name, gid) lines. */
function parseLines(text: string, kind: "passwd" | "group"): AccountLine[] {
  const lines: AccountLine[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const fields = line.split(":");
    const id = Number(fields[2]);
    if (fields.length < 3 || !Number.isInteger(id)) continue;
    lines.push({ name: fields[0]!, id, ...(kind === "passwd" ? { gid: Number(fields[3]) } : {}) });
  }
  return lines;
}

/**
 * /etc/passwd and /etc/group with the CNB user and group appended (each file keeps its own lines
 * as they were). An entry that is already there with the same name and ids is kept, not added
 * twice, so decorating an image twice changes nothing. A name or id another user or group has is
 * refused with STACK_USER_CONFLICT naming it and the file, since the CNB user must be the one
 * that owns its uid. `name` names the image for messages.
 */
export function addCnbAccount(
  files: { passwd: string; group: string },
  account: CnbAccount,
  name: string,
): { passwd: string; group: string } {
  const conflict = (message: string, flag: string): PolypackError =>
    new PolypackError("STACK_USER_CONFLICT", `${name}: ${message}`, {
      hint: `choose a free ${flag}`,
    });
  const users = parseLines(files.passwd, "passwd");
  const sameUser = users.find((u) => u.name === account.userName);
  if (sameUser && (sameUser.id !== account.uid || sameUser.gid !== account.gid)) {
    throw conflict(
      `/etc/passwd already has a user ${account.userName} with uid ${sameUser.id} and gid ${sameUser.gid ?? "?"}, not ${account.uid}:${account.gid}`,
      "--user-id and --group-id, or a free --user-name",
    );
  }
  const uidTaken = users.find((u) => u.id === account.uid && u.name !== account.userName);
  if (uidTaken) {
    throw conflict(`uid ${account.uid} belongs to user ${uidTaken.name} in /etc/passwd`, "--user-id");
  }
  const groups = parseLines(files.group, "group");
  const sameGroup = groups.find((g) => g.name === account.groupName);
  if (sameGroup && sameGroup.id !== account.gid) {
    throw conflict(
      `/etc/group already has a group ${account.groupName} with gid ${sameGroup.id}, not ${account.gid}`,
      "--group-id",
    );
  }
  const gidTaken = groups.find((g) => g.id === account.gid && g.name !== account.groupName);
  if (gidTaken) {
    throw conflict(`gid ${account.gid} belongs to group ${gidTaken.name} in /etc/group`, "--group-id");
  }
  const passwd = sameUser
    ? files.passwd
    : appendLine(
        files.passwd,
        `${account.userName}:x:${account.uid}:${account.gid}:CNB user:${account.home}:${account.shell}`,
      );
  const group = sameGroup ? files.group : appendLine(files.group, `${account.groupName}:x:${account.gid}:`);
  return { passwd, group };
}

function appendLine(text: string, line: string): string {
  const separator = text === "" || text.endsWith("\n") ? "" : "\n";
  return `${text}${separator}${line}\n`;
}
