import { exportLines, shellQuote, shellQuoteArgv } from './shell-quote.js';

/**
 * The horde CLI subcommand the runtime's launch argv carries: `<local command…> executor <options…>`
 * (see core's `executorLaunch`).
 */
const AGENT_SUBCOMMAND = 'executor';

/**
 * Turns the launch argv the runtime built for THIS machine into the argv to run on the remote host.
 *
 * The runtime's argv is `<local horde command…> executor <options…>`, where the local command is
 * `[node, /path/to/horde.js]` or the miner's `executorCommand`. Everything before the first element
 * that is exactly `executor` is replaced by the host's `remoteCommand` (default `["horde"]`); the
 * subcommand and its options are kept as they are:
 *
 *   [/usr/bin/node, /srv/horde/core/bin/horde.js, executor, --miner-url, ws://…, --token, T, …]
 *   → [horde, executor, --miner-url, ws://…, --token, T, …]
 *
 * An argv with no `executor` element is not a horde agent launch (e.g. a test program) and runs
 * unchanged.
 */
export function remoteArgv(launchArgv: readonly string[], remoteCommand: readonly string[]): string[] {
  const subcommand = launchArgv.indexOf(AGENT_SUBCOMMAND);
  if (subcommand < 0) return [...launchArgv];
  return [...remoteCommand, ...launchArgv.slice(subcommand)];
}

/** First line the launch wrapper prints: `horde-pgid <n>`, the agent's process group. */
export const PGID_MARKER = /^horde-pgid (\d+)$/;
/** Exit code of the wrapper when the remote shell cannot give the agent its own process group. */
export const NO_PROCESS_GROUP_EXIT = 125;

/**
 * The wrapper that runs the agent on the remote host. It runs as the command of its SSH session:
 * sshd starts every session command (without a pty) in a new session, so the wrapper's PID is also
 * the process group id of everything it starts, and signalling `-PGID` reaches the agent and all
 * its children (the local manager's `detached: true`, over SSH). In order, it
 *  1. checks that it leads its process group (or refuses to go on), then prints `horde-pgid $$`;
 *  2. reads the environment from stdin — exactly N bytes of `export NAME='value'` lines — so env
 *     values (tokens, settings) never appear in a command line that `ps` shows to other users;
 *  3. starts a watchdog that ignores SIGTERM and waits for the rest of stdin to close, then
 *     SIGKILLs the whole group. The miner closes stdin when the agent exited (to take leftovers
 *     with it) and when a kill's grace is over; sshd closes it when the connection drops, so a lost
 *     miner leaves nothing running. While the watchdog lives, the group id cannot be reused, so a
 *     signal to `-PGID` never reaches a stranger;
 *  4. runs the agent (stdin from /dev/null, stdout/stderr to the channel) and exits with its
 *     status. It catches SIGTERM only to keep waiting: a kill's SIGTERM to the group must not end
 *     the wrapper (its exit tells the miner the agent is done) before the agent has cleaned up.
 * Works in any POSIX sh (dash, bash, busybox); `kill -0 -N`, not `kill -0 -- -N`: dash has no `--`.
 */
const LAUNCH_SCRIPT = [
  `kill -0 -"$$" 2>/dev/null || { echo 'horde: the remote command does not lead its own process group (is this OpenSSH sshd?)' >&2; exit ${NO_PROCESS_GROUP_EXIT}; }`,
  `printf 'horde-pgid %s\\n' "$$"`,
  `horde_env_bytes=$1`,
  `shift`,
  `horde_env=$(dd bs=1 count="$horde_env_bytes" 2>/dev/null) || exit ${NO_PROCESS_GROUP_EXIT}`,
  `eval "$horde_env"`,
  `unset horde_env horde_env_bytes`,
  // Background jobs of a non-interactive shell get /dev/null as stdin unless redirected: keep the
  // channel's stdin on fd 3 for the watchdog.
  `exec 3<&0`,
  `(trap '' TERM INT HUP; cat >/dev/null; kill -KILL 0) <&3 >/dev/null 2>&1 &`,
  // A caught signal is reset to the default in the agent (an ignored one would be inherited).
  `trap : TERM INT HUP`,
  `"$@" </dev/null 3<&- &`,
  `horde_agent=$!`,
  // \`wait\` returns early when a trapped signal arrives: wait again until the agent is really gone.
  `while :; do wait "$horde_agent"; horde_status=$?; kill -0 "$horde_agent" 2>/dev/null || exit "$horde_status"; done`,
].join('\n');

export interface LaunchCommand {
  /** The SSH exec request's command string. */
  readonly command: string;
  /** What to write to the channel's stdin (and NOT close: closing it kills the agent). */
  readonly stdin: Buffer;
}

/** The exec command and stdin that run `argv` with `env` on a remote host (see `LAUNCH_SCRIPT`). */
export function launchCommand(argv: readonly string[], env: Readonly<Record<string, string>>): LaunchCommand {
  if (argv.length === 0) throw new TypeError('empty executor command line');
  const stdin = Buffer.from(exportLines(env), 'utf8');
  // `exec` keeps the session leader's PID: the remote login shell becomes the wrapper.
  const command = `exec sh -c ${shellQuote(LAUNCH_SCRIPT)} horde-executor ${stdin.length} ${shellQuoteArgv(argv)}`;
  return { command, stdin };
}

/**
 * SIGTERM to a process group: the agent then stops its job container and cleans up, and the
 * wrapper exits once it is gone. Whatever ignores SIGTERM dies when the miner closes the wrapper's
 * stdin after the grace (the watchdog's SIGKILL). Harmless for a group that is already gone.
 */
export function killCommand(pgid: number): string {
  // Never signal a group we did not parse from our own marker: 0 and 1 would be the caller's own
  // group and init.
  if (!Number.isInteger(pgid) || pgid <= 1) throw new RangeError(`refusing to signal process group ${pgid}`);
  return `kill -TERM -${pgid} 2>/dev/null; exit 0`;
}
