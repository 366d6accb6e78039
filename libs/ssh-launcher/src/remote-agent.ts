import type { ExecutorStatus, Logger } from '@horde/core';
import type { ClientChannel } from 'ssh2';
import { RemoteLaunchError } from './errors.js';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { forwardAgentLine } from '@horde/core';
import { killCommand, launchCommand, NO_PROCESS_GROUP_EXIT, PGID_MARKER } from './remote-command.js';
import { describeTarget, type SshConnection } from './ssh-connection.js';

export interface RemoteAgentOptions {
  /** Milliseconds between SIGTERM and SIGKILL when the agent is killed. */
  readonly killGraceMs: number;
  /** Milliseconds the remote wrapper may take to report the agent's process group. */
  readonly launchTimeoutMs: number;
  /** Gets the agent's output and lifecycle events. */
  readonly logger: Logger;
  /**
   * Called once, synchronously, when the agent and its process group are gone (exit, kill or lost
   * connection), before `status()` turns `exited`: a manager frees the host here, so the host is
   * free by the time the runtime sees the executor exited. Not called when `launch` rejects.
   */
  readonly onGone?: (status: ExecutorStatus) => void;
}

/**
 * One executor agent running on a remote host in its own process group, started by the wrapper in
 * `remote-command.ts` over an SSH exec channel. The channel stays open while the agent runs: its
 * exit status is the agent's, its close means the group is gone, and closing our side of its stdin
 * makes the remote watchdog SIGKILL the group.
 */
export class RemoteAgent {
  private current: ExecutorStatus = { state: 'running' };
  private exitStatus: ExecutorStatus | null = null;
  private started = false;
  private processGroup = 0;
  private readonly stderrBeforeStart: string[] = [];
  private stopWatchingConnection: () => void = () => {};
  private resolveDone!: (status: ExecutorStatus) => void;
  /** Resolves with the final status once the agent and its process group are gone. */
  readonly done: Promise<ExecutorStatus> = new Promise((resolve) => (this.resolveDone = resolve));
  private resolveAgentExited!: () => void;
  /** Resolves when the agent process itself exited (its group may still hold leftovers). */
  private readonly agentExited: Promise<void> = new Promise((resolve) => (this.resolveAgentExited = resolve));
  private readonly where: string;

  private constructor(
    private readonly connection: SshConnection,
    private readonly channel: ClientChannel,
    private readonly options: RemoteAgentOptions,
  ) {
    this.where = describeTarget(connection.target);
  }

  /** The agent's process group on the remote host (= the wrapper's PID). */
  get pgid(): number {
    return this.processGroup;
  }

  /**
   * Starts `argv` with `env` on the connection's host. Resolves once the wrapper reported the agent's
   * process group (the agent is being exec'd then); rejects with `RemoteLaunchError` when the
   * wrapper could not start it.
   */
  static async launch(
    connection: SshConnection,
    argv: readonly string[],
    env: Readonly<Record<string, string>>,
    options: RemoteAgentOptions,
  ): Promise<RemoteAgent> {
    const { command, stdin } = launchCommand(argv, env);
    let channel: ClientChannel;
    try {
      channel = await connection.exec(command);
    } catch (error) {
      throw new RemoteLaunchError(`cannot open an ssh session on ${describeTarget(connection.target)}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const agent = new RemoteAgent(connection, channel, options);
    await agent.start(stdin);
    return agent;
  }

  /** Feeds the wrapper its environment and waits for its `horde-pgid` line. */
  private start(stdin: Buffer): Promise<void> {
    const { channel, options } = this;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error: RemoteLaunchError | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!error) return resolve();
        this.stopWatchingConnection();
        channel.close();
        reject(error);
      };
      const fail = (why: string) => {
        const detail = this.stderrBeforeStart.length > 0 ? `: ${this.stderrBeforeStart.slice(-5).join(' | ')}` : '';
        settle(new RemoteLaunchError(`the agent did not start on ${this.where} (${why})${detail}`));
      };
      const timer = setTimeout(() => fail(`no process group reported within ${options.launchTimeoutMs} ms`), options.launchTimeoutMs);

      // Writes fail only when the channel is gone, which 'close' reports.
      channel.on('error', (error: Error) => options.logger.warn({ err: error, host: this.where }, 'ssh channel error'));
      channel.on('exit', (code: number | null | undefined, signal?: string) => {
        this.exitStatus =
          typeof code === 'number'
            ? { state: 'exited', exitCode: code }
            : { state: 'exited', exitCode: null, reason: `killed by ${signal ?? 'a signal'}` };
        this.resolveAgentExited();
        // The agent is done: EOF on the wrapper's stdin makes its watchdog kill anything the agent
        // left in its group, after which the channel closes.
        channel.end();
      });
      // 'close' comes after all output was read, so a missing marker here means no start.
      channel.on('close', () => {
        if (!this.started) {
          const code = this.exitStatus?.state === 'exited' ? this.exitStatus.exitCode : null;
          return fail(
            code === NO_PROCESS_GROUP_EXIT
              ? 'the remote shell cannot give it its own process group'
              : `the wrapper ended with ${code ?? 'no exit status'}`,
          );
        }
        this.finish(this.exitStatus ?? { state: 'exited', exitCode: null, reason: 'ssh channel closed' });
      });
      // sshd closes the wrapper's stdin when the connection drops, and the watchdog kills the group.
      this.stopWatchingConnection = this.connection.onClose(() => {
        if (!this.started) return fail('the ssh connection closed');
        this.finish({ state: 'exited', exitCode: null, reason: 'ssh connection lost' });
      });

      eachLine(channel, (line) => {
        if (this.started) return forwardAgentLine(line, options.logger);
        const marker = PGID_MARKER.exec(line);
        // A login shell's rc files may print before the wrapper runs: log it, look further.
        if (!marker) return options.logger.debug({ output: line, host: this.where }, 'remote shell output');
        this.processGroup = Number(marker[1]);
        this.started = true;
        settle(null);
      });
      eachLine(channel.stderr, (line) => {
        if (this.started) return forwardAgentLine(line, options.logger);
        this.stderrBeforeStart.push(line);
        options.logger.debug({ output: line, host: this.where }, 'remote shell error output');
      });
      channel.write(stdin);
    });
  }

  private finish(status: ExecutorStatus): void {
    if (this.current.state === 'exited') return;
    this.stopWatchingConnection();
    this.options.onGone?.(status);
    this.current = status;
    this.resolveAgentExited();
    this.options.logger.info({ host: this.where, pgid: this.pgid, status }, 'remote executor agent gone');
    this.resolveDone(status);
  }

  status(): ExecutorStatus {
    return this.current;
  }

  /**
   * Stops the agent as the local manager stops a subprocess: SIGTERM to its process group, up to
   * `killGraceMs` for the agent to exit, then SIGKILL for the whole group (by closing the wrapper's
   * stdin: its watchdog does it). Resolves once the group is gone. Harmless when the agent already
   * exited; with the connection gone there is nothing to signal (the watchdog has killed the group).
   */
  async kill(): Promise<void> {
    if (this.current.state === 'exited') return;
    try {
      const killer = await this.connection.exec(killCommand(this.pgid));
      killer.resume();
      killer.stderr.resume();
      await new Promise<void>((resolve) => killer.once('close', () => resolve()));
      await within(this.agentExited, this.options.killGraceMs);
    } catch (error) {
      this.options.logger.warn({ err: error, host: this.where, pgid: this.pgid }, 'could not send SIGTERM over ssh; killing the group');
    }
    this.channel.end();
    if (!(await within(this.done, 5_000))) {
      this.options.logger.warn({ host: this.where, pgid: this.pgid }, 'the remote agent channel did not close after kill; dropping it');
      this.channel.close();
      this.finish({ state: 'exited', exitCode: null, reason: 'killed; the ssh channel did not close' });
    }
  }
}

/** Whether `promise` settled within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Calls `onLine` for every line of `stream`. */
function eachLine(stream: Readable, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}
