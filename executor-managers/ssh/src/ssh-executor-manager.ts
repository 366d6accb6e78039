import type {
  ExecutorFleetEntry,
  ExecutorHandle,
  ExecutorManager,
  ExecutorStartContext,
  ExecutorStatus,
  Logger,
  Manifest,
} from '@horde/core';
import type { SshHostConfig } from './config.js';
import { NoFreeHostError } from './errors.js';
import { configuredDevices, gpuListCommand, parseNvidiaSmiList } from './gpu-list.js';
import {
  anyHostKey,
  describeTarget,
  SshConnectError,
  pinnedHostKeys,
  readPrivateKey,
  SshLauncher,
  type RemoteAgent,
  type SshTarget,
} from '@horde/ssh-launcher';

export interface SshExecutorManagerOptions {
  readonly hosts: readonly SshHostConfig[];
  /** Seconds for TCP connect + handshake + authentication (ComputeHorde: 15). */
  readonly connectTimeoutSeconds: number;
  /** Seconds between SSH keepalives (ComputeHorde: 30). */
  readonly keepaliveSeconds: number;
  /** Milliseconds between SIGTERM and SIGKILL when killing an executor. */
  readonly killGraceMs: number;
  readonly logger: Logger;
  /** Seconds between health probes of each host; 0 or unset: no probes (every host counts as healthy). */
  readonly healthCheckSeconds?: number;
  /** Seconds one probe may take (default 10). */
  readonly healthCheckTimeoutSeconds?: number;
  /** Failed probes in a row before a host counts as dead (default 2). */
  readonly unhealthyAfterFailures?: number;
}

/** What the probes know about one host. */
export interface HostHealth {
  state: 'healthy' | 'dead';
  /** Failed probes in a row. */
  failures: number;
  lastError: string | null;
  checkedAt: number | null;
}

class ProbeTimeoutError extends Error {}

/** One executor place: a host, and the GPU its jobs are pinned to (null: not pinned, one per host). */
interface Slot {
  readonly host: number;
  readonly gpu: string | null;
}

const slotKey = (slot: Slot): string => `${slot.host}/${slot.gpu ?? '-'}`;

/** What we keep per started executor. The handle the runtime holds is just `{ id }`. */
interface SshExecutor {
  readonly agent: RemoteAgent;
  readonly host: SshHostConfig;
  readonly slot: Slot;
}

/**
 * Runs executor agents on a fleet of SSH hosts (ComputeHorde's `DockerExecutorManager` in ssh
 * mode), one agent per GPU of a host (`gpus`), or one per host at a time when no GPUs are listed.
 * The manifest counts the executors of the healthy hosts per class; `start` takes the free slot of
 * the class that has waited longest (round-robin), starts the agent there over SSH in its own
 * process group with its GPU pinned, and the slot is free again once that group is gone.
 */
export class SshExecutorManager implements ExecutorManager {
  private readonly launcher: SshLauncher;
  private readonly executors = new Map<string, SshExecutor>();
  /** Slot keys running an agent. */
  private readonly busy = new Set<string>();
  /** When each slot was last freed (a sequence number): the longest-free slot goes first. */
  private readonly freedAt = new Map<string, number>();
  private freedSeq = 0;
  private readonly classes: ReadonlySet<string>;
  /**
   * Per host (same index as `hosts`): the GPU devices it offers, or null for a host with no
   * `gpus` (one unpinned executor). `detect` hosts start with none until their first probe.
   */
  private readonly devices: (string[] | null)[];
  /** Why a `detect` host offers no GPU (nvidia-smi failed or listed none), per host. */
  private readonly gpuProblems: (string | null)[];
  /** Resolves once every `detect` host was asked for its GPUs (the first manifest waits for it). */
  private readonly detected: Promise<void>;
  private nextId = 1;
  /** Per host (same index as `hosts`). */
  readonly health: HostHealth[];
  private readonly probeTimer: NodeJS.Timeout | null;
  private probing: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly options: SshExecutorManagerOptions) {
    this.launcher = new SshLauncher(options);
    this.classes = new Set(options.hosts.map((host) => host.executorClass));
    this.devices = options.hosts.map((host) =>
      host.gpus === undefined ? null : host.gpus === 'detect' ? [] : configuredDevices(host.gpus),
    );
    this.gpuProblems = options.hosts.map((host) => (host.gpus === 'detect' ? 'GPUs not detected yet' : null));
    this.health = options.hosts.map(() => ({ state: 'healthy', failures: 0, lastError: null, checkedAt: null }));
    const every = options.healthCheckSeconds ?? 0;
    this.probeTimer = every > 0 ? setInterval(() => void this.probeAll(), every * 1000) : null;
    this.probeTimer?.unref();
    // Hosts that detect their GPUs offer nothing until asked: ask at once, not a probe interval later.
    this.detected = options.hosts.some((host) => host.gpus === 'detect') ? this.probeAll() : Promise.resolve();
  }

  /** The executor places of host `index` as things stand (its detected or configured GPUs). */
  private slotsOf(index: number): Slot[] {
    const devices = this.devices[index]!;
    return devices === null ? [{ host: index, gpu: null }] : devices.map((gpu) => ({ host: index, gpu }));
  }

  async manifest(): Promise<Manifest> {
    await this.detected;
    // One executor per GPU of every host (one per host without GPUs), less the hosts found dead:
    // a validator is never offered an executor on a host that does not answer, nor more
    // executors than a host has GPUs.
    const counts: Manifest = Object.fromEntries([...this.classes].map((executorClass) => [executorClass, 0]));
    this.options.hosts.forEach((host, index) => {
      if (this.health[index]!.state === 'healthy')
        counts[host.executorClass] = (counts[host.executorClass] ?? 0) + this.slotsOf(index).length;
    });
    return counts;
  }

  /** Every host with its health, its executors and how many of them run (the miner's dashboard). */
  fleet(): readonly ExecutorFleetEntry[] {
    return this.options.hosts.map((host, index) => {
      const health = this.health[index]!;
      const slots = this.slotsOf(index);
      const running = slots.filter((slot) => this.busy.has(slotKey(slot))).length;
      const state = health.state === 'dead' ? 'dead' : slots.length > 0 && running === slots.length ? 'busy' : 'healthy';
      const gpus = this.devices[index] ?? null;
      const detail =
        health.state === 'dead' && health.lastError
          ? health.lastError
          : gpus === null
            ? null
            : gpus.length === 0
              ? this.gpuProblems[index]
              : `GPUs ${gpus.join(',')}; ${running} busy`;
      return {
        id: describeTarget(host),
        executorClass: host.executorClass,
        state,
        executors: slots.length,
        ...(detail ? { detail } : {}),
      };
    });
  }

  /** Probes every host once (the timer calls it; tests may too). Overlapping calls share one round. */
  probeAll(): Promise<void> {
    this.probing ??= Promise.all(this.options.hosts.map((_, index) => this.probe(index))).then(
      () => {
        this.probing = null;
      },
      () => {
        this.probing = null;
      },
    );
    return this.probing;
  }

  private async probe(index: number): Promise<void> {
    if (this.closed) return;
    const host = this.options.hosts[index]!;
    const health = this.health[index]!;
    const timeoutMs = (this.options.healthCheckTimeoutSeconds ?? 10) * 1000;
    const where = describeTarget(host);
    let timer: NodeJS.Timeout | null = null;
    try {
      const target = await this.target(host);
      const detect = host.gpus === 'detect';
      const answer = await Promise.race([
        this.runProbe(target, detect ? gpuListCommand(host.nvidiaSmiCommand) : 'true'),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new ProbeTimeoutError(`no answer to the health probe within ${timeoutMs / 1000} s`)), timeoutMs);
        }),
      ]);
      health.checkedAt = Date.now();
      if (health.state === 'dead')
        this.options.logger.info({ host: where, downFor: health.failures }, 'ssh host answers again: back in the manifest');
      health.state = 'healthy';
      health.failures = 0;
      health.lastError = null;
      if (detect) this.updateDetectedGpus(index, answer);
    } catch (error) {
      if (this.closed) return;
      health.checkedAt = Date.now();
      health.failures += 1;
      health.lastError = (error as Error).message;
      const threshold = this.options.unhealthyAfterFailures ?? 2;
      if (health.state === 'healthy' && health.failures >= threshold) {
        health.state = 'dead';
        this.options.logger.warn(
          { host: where, failures: health.failures, err: error },
          'ssh host is not answering: out of the manifest, its executors reported lost',
        );
        // Drop the connection now: every executor still running there is reported exited (lost) at
        // once, and the miner fails their jobs as horde failures instead of waiting for the deadlines.
        await this.launcher.drop(await this.target(host)).catch(() => undefined);
      } else {
        this.options.logger.debug({ host: where, failures: health.failures, err: error }, 'ssh health probe failed');
      }
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /**
   * What `nvidia-smi -L` answered on a `detect` host. The host answered, so it is alive either way;
   * a failing nvidia-smi (no driver, a GPU fallen off the bus) leaves it with the GPUs it lists,
   * possibly none. A running job on a GPU that disappeared keeps running; its slot is not offered.
   */
  private updateDetectedGpus(index: number, answer: ProbeAnswer): void {
    const before = this.devices[index]!;
    const found = answer.code === 0 ? parseNvidiaSmiList(answer.stdout) : [];
    const problem =
      answer.code !== 0
        ? `${this.options.hosts[index]!.nvidiaSmiCommand} -L exited with ${answer.code}${answer.stderr.trim() ? `: ${answer.stderr.trim().slice(0, 200)}` : ''}`
        : found.length === 0
          ? 'nvidia-smi -L lists no GPU'
          : null;
    this.devices[index] = found;
    this.gpuProblems[index] = problem;
    if (before.join(',') !== found.join(',')) {
      const log = { host: describeTarget(this.options.hosts[index]!), gpus: found, before, ...(problem ? { problem } : {}) };
      if (problem) this.options.logger.warn(log, 'ssh host offers no GPU executor');
      else this.options.logger.info(log, 'ssh host GPUs detected: one executor each');
    }
  }

  /** Runs `command` over the host's connection; rejects when the channel cannot be opened. */
  private async runProbe(target: SshTarget, command: string): Promise<ProbeAnswer> {
    const connection = await this.launcher.connect(target);
    const channel = await connection.exec(command);
    return await new Promise<ProbeAnswer>((resolve, reject) => {
      let code: number | null = null;
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let bytes = 0;
      const keep = (into: Buffer[]) => (chunk: Buffer) => {
        // nvidia-smi -L of a large machine is a few KB; never hold more than 64 KB of a probe.
        if (bytes < 65_536) into.push(chunk);
        bytes += chunk.length;
      };
      channel.on('data', keep(stdout));
      channel.stderr.on('data', keep(stderr));
      channel.on('exit', (exitCode: number | null) => {
        code = exitCode;
      });
      channel.on('close', () => {
        const answer = { code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
        // `true` must answer 0; a detect probe's nvidia-smi may fail without the host being dead.
        if (command === 'true' && code !== 0) reject(new SshConnectError(`the health probe exited with ${code}`));
        else resolve(answer);
      });
    });
  }

  async start(token: string, executorClass: string, ctx: ExecutorStartContext): Promise<ExecutorHandle> {
    await this.detected;
    const slot = this.takeFreeSlot(executorClass);
    const key = slotKey(slot);
    const host = this.options.hosts[slot.host]!;
    const id = `ssh-${host.host}:${host.port}-${slot.gpu === null ? '' : `gpu${slot.gpu}-`}${this.nextId++}`;
    const logger = ctx.logger.child({ executor: id });
    const free = () => {
      this.busy.delete(key);
      this.freedAt.set(key, ++this.freedSeq);
    };
    let agent: RemoteAgent;
    try {
      agent = await this.launcher.launch(
        await this.target(host),
        // The GPU pin goes last, so it wins over the host's env (the launcher puts launch.env over it).
        slot.gpu === null ? ctx.launch : { ...ctx.launch, env: { ...ctx.launch.env, CUDA_VISIBLE_DEVICES: slot.gpu } },
        {
          remoteCommand: host.remoteCommand,
          env: host.env,
          logger,
          // Free the slot the moment its process group is gone, before `poll` can report the exit.
          onGone: free,
        },
      );
    } catch (error) {
      free();
      throw error;
    }
    this.executors.set(id, { agent, host, slot });
    logger.info({ token, host: describeTarget(host), gpu: slot.gpu, pgid: agent.pgid }, 'executor agent started over ssh');
    return { id };
  }

  async poll(handle: ExecutorHandle): Promise<ExecutorStatus> {
    const executor = this.executors.get(handle.id);
    if (!executor) return { state: 'exited', exitCode: null, reason: 'unknown executor' };
    const status = executor.agent.status();
    // Keep nothing for an executor that is gone: `kill` after this is a no-op anyway.
    if (status.state === 'exited') this.executors.delete(handle.id);
    return status;
  }

  async kill(handle: ExecutorHandle): Promise<void> {
    const executor = this.executors.get(handle.id);
    if (!executor) return;
    await executor.agent.kill();
    this.executors.delete(handle.id);
  }

  async publicAddress(handle: ExecutorHandle): Promise<string | null> {
    return this.executors.get(handle.id)?.host.host ?? null;
  }

  /** The GPU an executor's jobs are pinned to (null: not pinned, or not ours). */
  gpuOf(handle: ExecutorHandle): string | null {
    return this.executors.get(handle.id)?.slot.gpu ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    await Promise.all([...this.executors.keys()].map((id) => this.kill({ id })));
    await this.launcher.close();
  }

  private takeFreeSlot(executorClass: string): Slot {
    if (!this.classes.has(executorClass)) {
      throw new NoFreeHostError(`no ssh host is configured for executor class ${executorClass}`);
    }
    let best: Slot | null = null;
    let bestFreedAt = Infinity;
    this.options.hosts.forEach((host, index) => {
      if (host.executorClass !== executorClass || this.health[index]!.state !== 'healthy') return;
      for (const slot of this.slotsOf(index)) {
        const key = slotKey(slot);
        if (this.busy.has(key)) continue;
        const freedAt = this.freedAt.get(key) ?? 0;
        if (freedAt < bestFreedAt) {
          best = slot;
          bestFreedAt = freedAt;
        }
      }
    });
    if (best === null) throw new NoFreeHostError(`every ssh executor of class ${executorClass} is busy or its host is not answering`);
    this.busy.add(slotKey(best));
    return best;
  }

  private async target(host: SshHostConfig): Promise<SshTarget> {
    return {
      host: host.host,
      port: host.port,
      username: host.username,
      privateKey: host.privateKey ?? (await readPrivateKey(host.privateKeyPath!)),
      ...(host.passphrase !== undefined ? { passphrase: host.passphrase } : {}),
      verifyHostKey: host.insecureAcceptAnyHostKey
        ? anyHostKey()
        : pinnedHostKeys(typeof host.hostKeySha256 === 'string' ? [host.hostKeySha256] : (host.hostKeySha256 ?? [])),
    };
  }
}

/** What a probe command answered. */
interface ProbeAnswer {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}
