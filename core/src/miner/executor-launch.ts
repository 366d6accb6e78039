import { fileURLToPath } from 'node:url';
import { agentSnapshot } from '../../bin/agent-build.js';
import type { ExecutorLaunch } from '../contracts/index.js';
import type { ExecutorSection } from '../config/sections/executor.js';

/** How long one answer of `defaultExecutorCommand` stands (see there). */
export const EXECUTOR_COMMAND_RECHECK_MS = 1_000;

let lastCommand: { readonly command: string[]; readonly at: number } | null = null;

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
  const command = snapshot
    ? [process.execPath, '--snapshot-blob', snapshot]
    : // The same relative path from src/miner (tests) and dist/miner (installed).
      [process.execPath, fileURLToPath(new URL('../../bin/horde.js', import.meta.url))];
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
