import { fileURLToPath } from 'node:url';
import { agentSnapshot, agentSnapshotBlob } from '../../bin/agent-build.js';
import type { ExecutorLaunch } from '../contracts/index.js';
import type { ExecutorSection } from '../config/sections/executor.js';
import { AGENT_EXTRA_CA_ENV } from '../net/extra-ca.js';

/** How long one answer of `defaultExecutorCommand` stands (see there). */
export const EXECUTOR_COMMAND_RECHECK_MS = 1_000;

let lastCommand: { readonly command: string[]; readonly at: number } | null = null;

/** This installation's CLI; the same relative path from src/miner (tests) and dist/miner (installed). */
const HORDE_BIN = fileURLToPath(new URL('../../bin/horde.js', import.meta.url));

/**
 * How the miner starts `horde executor` by default: `node --snapshot-blob <agent.blob>`, the agent's
 * startup snapshot (scripts/agent-snapshot.mjs; ~50 ms faster to connect), when the build made one
 * that is current and fits this node and environment (bin/agent-build.js); else `node <this
 * installation's bin/horde.js>`. Asked again once its last answer is a second old, so that a
 * rebuild (or a deleted snapshot) while the miner runs is followed within a second (an agent
 * launched within that second can still be given the old snapshot's path), and a busy
 * miner does not read four build files per launch (0.11 ms of every accept: 100 ms in a 10 s
 * profile of miner-validators' steady load). `now` is for the tests.
 */
export function defaultExecutorCommand(now = Date.now()): string[] {
  if (lastCommand !== null && now >= lastCommand.at && now - lastCommand.at < EXECUTOR_COMMAND_RECHECK_MS) return [...lastCommand.command];
  const snapshot = agentSnapshot();
  const command = snapshot ? [process.execPath, '--snapshot-blob', snapshot] : [process.execPath, HORDE_BIN];
  lastCommand = { command, at: now };
  return [...command];
}

export interface ExecutorLaunchSettings {
  /** Program and leading arguments that run the `horde` CLI. */
  readonly command: readonly string[];
  /** ws:// base URL the executor connects back to. */
  readonly executorAddress: string;
  readonly startupTimeLimitSeconds: number;
  /** The miner's `executor` config section: the agent runs with exactly these settings. */
  readonly executor: ExecutorSection;
}

/**
 * The command line and environment of one executor agent, handed to the executor manager:
 * `horde executor --miner-url U --token T --startup-time-limit S --runner R`, with the miner's
 * `executor` settings in `HORDE_EXECUTOR` (JSON; the config loader reads it like any `HORDE_*`
 * override), and ComputeHorde's `MINER_ADDRESS` / `EXECUTOR_TOKEN` for managers that start
 * agents their own way.
 */
export function executorLaunch(token: string, settings: ExecutorLaunchSettings): ExecutorLaunch {
  return {
    argv: [
      ...settings.command,
      'executor',
      '--miner-url',
      settings.executorAddress,
      '--token',
      token,
      '--startup-time-limit',
      String(settings.startupTimeLimitSeconds),
      '--runner',
      settings.executor.runner,
    ],
    env: {
      MINER_ADDRESS: settings.executorAddress,
      EXECUTOR_TOKEN: token,
      HORDE_EXECUTOR: JSON.stringify(settings.executor),
    },
  };
}

/** Whether `argv` runs this installation's own agent, as `defaultExecutorCommand` starts it. */
function runsOwnAgent(argv: readonly string[]): boolean {
  if (argv[0] !== process.execPath) return false;
  return argv[1] === HORDE_BIN || (argv[1] === '--snapshot-blob' && argv[2] === agentSnapshotBlob());
}

/**
 * The environment of an agent started on the miner's own machine: `env` (the miner's) with the
 * launch's variables over it, and NODE_EXTRA_CA_CERTS deferred where it can be.
 *
 * node 20 reads the NODE_EXTRA_CA_CERTS file, and builds its whole root-certificate store with it,
 * when the process starts, before any script runs: 60–100 ms of every agent start on the benchmark
 * machine (Debian's bundle of ~140 certificates; `node -e 0` 98 ms with it, 37 ms without), a third
 * of a cold job, paid by agents that make no TLS connection at all. This installation's agent is
 * given the file as HORDE_EXTRA_CA_CERTS instead, with NODE_EXTRA_CA_CERTS empty (node ignores an
 * empty one), and reads it at its first HTTPS transfer (net/extra-ca.ts). The variable is passed on
 * untouched when that would not trust the same: another program (`miner.executorCommand`), node
 * told to use OpenSSL's store (`--use-openssl-ca` in NODE_OPTIONS), or an agent that makes a TLS
 * connection of another kind (a `wss://` miner URL, a Docker engine reached over TCP).
 */
export function localAgentEnv(launch: ExecutorLaunch, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...env, ...launch.env };
  // One the miner itself was given means nothing to its agents.
  delete merged[AGENT_EXTRA_CA_ENV];
  const extraCa = merged.NODE_EXTRA_CA_CERTS;
  if (!extraCa || !runsOwnAgent(launch.argv) || !onlyTransfersUseTls(merged)) return merged;
  return { ...merged, NODE_EXTRA_CA_CERTS: '', [AGENT_EXTRA_CA_ENV]: extraCa };
}

function onlyTransfersUseTls(env: NodeJS.ProcessEnv): boolean {
  const minerUrl = env.MINER_ADDRESS ?? '';
  const dockerHost = env.DOCKER_HOST ?? '';
  return (
    minerUrl.startsWith('ws://') &&
    (dockerHost === '' || dockerHost.startsWith('unix://')) &&
    !env.DOCKER_CERT_PATH &&
    !(env.NODE_OPTIONS ?? '').includes('--use-openssl-ca')
  );
}
