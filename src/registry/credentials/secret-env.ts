/**
 * The environment variables polypack reads secrets from. Child processes (pre-package scripts,
 * credential helpers) never need them, so they are taken out of every environment polypack hands on.
 */
export const SECRET_ENV_NAMES: readonly string[] = [
  "POLYPACK_REGISTRY_USERNAME",
  "POLYPACK_REGISTRY_PASSWORD",
  "POLYPACK_SRC_CREDS",
  "POLYPACK_DEST_CREDS",
];

// Any other POLYPACK_ variable whose name suggests a secret is dropped too, so that a credential
// variable added later is not leaked because this list was not updated.
const SECRET_LOOKING = /PASSWORD|PASSWD|SECRET|TOKEN|CREDS|CREDENTIAL|AUTH|KEY/;

/** A copy of `env` without polypack's own secret variables; everything else is kept. */
export function withoutPolypackSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    const upper = name.toUpperCase();
    if (SECRET_ENV_NAMES.includes(upper)) continue;
    if (upper.startsWith("POLYPACK_") && SECRET_LOOKING.test(upper)) continue;
    kept[name] = value;
  }
  return kept;
}
