import { z } from '@horde/core';
import { isEnvName, privateKeyFields } from '@horde/ssh-launcher';

/** `SHA256:` + 43 base64 characters (a SHA-256), as `ssh-keygen -lf` prints it; the prefix and padding are optional. */
const FINGERPRINT = /^(SHA256:)?[A-Za-z0-9+/]{43}=?$/i;

function exactlyOneKey(value: { privateKeyPath?: string | undefined; privateKey?: string | undefined }, ctx: z.RefinementCtx): void {
  if ((value.privateKeyPath === undefined) === (value.privateKey === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'set exactly one of privateKeyPath and privateKey', path: ['privateKeyPath'] });
  }
}

/** One machine of the fleet: one executor per GPU (`gpus`), or one at a time when `gpus` is not set. */
export const sshHostSchema = z
  .strictObject({
    /** DNS name or IP address. */
    host: z.string().min(1),
    port: z.number().int().min(1).max(65_535).default(22),
    username: z.string().min(1),
    ...privateKeyFields,
    /** Executor class this machine provides (e.g. `always_on.llm.a6000`). */
    executorClass: z.string().min(1),
    /**
     * Argv prefix that runs the horde CLI on the host; it replaces the miner's own command in front of
     * `executor …` (e.g. `["/opt/node/bin/node", "/opt/horde/core/bin/horde.js"]`). Default `["horde"]`
     * (found through the login PATH).
     */
    remoteCommand: z.array(z.string().min(1)).min(1).default(['horde']),
    /** Extra environment for agents on this host (e.g. `DOCKER_HOST`); the runtime's own variables win. */
    env: z
      .record(z.string().refine(isEnvName, 'environment variable names are letters, digits and _ (not starting with a digit)'), z.string())
      .default({}),
    /**
     * The host key fingerprint(s) to trust, as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`
     * prints them (`SHA256:…`). A connection presenting any other key is refused.
     */
    hostKeySha256: z.union([z.string().regex(FINGERPRINT), z.array(z.string().regex(FINGERPRINT)).min(1)]).optional(),
    /** Trust whatever host key the server presents. Only for disposable test hosts: it allows a man in the middle. */
    insecureAcceptAnyHostKey: z.boolean().default(false),
    /**
     * GPUs of the host, one executor each, every job pinned to its own GPU (`CUDA_VISIBLE_DEVICES`
     * in the agent's environment; the docker runner turns it into `--gpus device=N`). A number N:
     * devices 0..N-1. `detect`: the GPUs `nvidia-smi -L` lists on the host, asked again at every
     * health probe (a GPU that falls off the bus leaves the manifest). Not set: one executor at a
     * time, not pinned (a CPU host, or one executor for the whole machine).
     */
    gpus: z.union([z.number().int().min(1).max(64), z.literal('detect')]).optional(),
    /** The `nvidia-smi` the `detect` probe runs on the host (a path, when it is not on the login PATH). */
    nvidiaSmiCommand: z.string().min(1).default('nvidia-smi'),
  })
  .superRefine((host, ctx) => {
    exactlyOneKey(host, ctx);
    if (host.hostKeySha256 === undefined && !host.insecureAcceptAnyHostKey) {
      ctx.addIssue({
        code: 'custom',
        path: ['hostKeySha256'],
        message: `no host key for ${host.host}: set hostKeySha256 to the output of \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` on the host (or insecureAcceptAnyHostKey: true for a throwaway test host)`,
      });
    }
  });

export type SshHostConfig = z.output<typeof sshHostSchema>;

/** The `@horde/executor-manager-ssh` config section. */
export const sshManagerConfigSchema = z.strictObject({
  /** The fleet. Manifest = executors of the healthy hosts per class: one per GPU (`gpus`), else one per host. */
  hosts: z.array(sshHostSchema).min(1),
  /** Seconds for TCP connect + handshake + authentication (ComputeHorde: 15). */
  connectTimeoutSeconds: z.number().positive().default(15),
  /** Seconds between SSH keepalives; three unanswered ones count as a lost connection (ComputeHorde: 30). */
  keepaliveSeconds: z.number().positive().default(30),
  /** Milliseconds between SIGTERM and SIGKILL when an executor is killed. */
  killGraceMs: z.number().int().min(0).default(5_000),
  /**
   * Seconds between health probes of each host (a `true` run over SSH); 0 turns probing off. A host
   * that fails `unhealthyAfterFailures` probes in a row leaves the manifest and its running executor
   * is reported lost; it is re-admitted when a probe succeeds again. So a dead host leaves within
   * about healthCheckSeconds × unhealthyAfterFailures + healthCheckTimeoutSeconds.
   */
  healthCheckSeconds: z.number().min(0).default(30),
  /** Seconds one probe may take (connect included). */
  healthCheckTimeoutSeconds: z.number().positive().default(10),
  /** Failed probes in a row before a host counts as dead. */
  unhealthyAfterFailures: z.number().int().min(1).default(2),
});

export type SshManagerConfig = z.output<typeof sshManagerConfigSchema>;
