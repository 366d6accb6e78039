import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Store } from '../contracts/index.js';
import type { LocalChain } from '../chain/local/local-chain.js';
import { resolvePluginModule } from '../plugin/resolve-module.js';
import { openStore } from '../store/index.js';
import { ValidatorStore } from '../validator/store.js';
import { setupChain } from './chain-setup.js';
import {
  chainSettings,
  minerConfig,
  processLayout,
  sqliteStores,
  validatorConfig,
  writeProcessConfig,
  type ConfigContext,
  type ProcessLayout,
  type StoreFor,
  type StoreInput,
} from './configs.js';
import { prepareDocker } from './docker.js';
import { DevnetInterruptedError, DevnetPreflightError, DevnetRunError } from './errors.js';
import { hashCrackScripts } from './job-scripts.js';
import { devnetKeys, type DevnetKeys } from './keys.js';
import type { DevnetOptions } from './options.js';
import { inspectMinerPlugin, validatorClassIds } from './plugins.js';
import { freePorts, freePortsIn } from './ports.js';
import { createDatabases, planDatabases } from './postgres.js';
import { liveView, plainView, type MinerTally, type ProgressView } from './progress.js';
import { buildSummary, formatSummary, unpaidHonestMiners, type DevnetSummary } from './summary.js';
import { DevnetDashboard } from './dashboard.js';
import { createLogger } from '../logging/index.js';
import { killMarkedProcesses, ProcessSupervisor, type SupervisedProcess } from './supervisor.js';
import { parseValidatorEvent, type ValidatorEvent } from './validator-events.js';
import { sleep } from '../time/clock.js';
import { deferred } from '../time/deferred.js';

/** Environment variable every devnet process carries (executor agents inherit it): the data dir. */
export const DEVNET_MARKER_ENV = 'HORDE_DEVNET_DATA_DIR';

/** How long the processes may take to come up. */
const STARTUP_TIMEOUT_MS = 60_000;

export interface DevnetIO {
  /** The run's answer (progress, table). */
  readonly write: (text: string) => void;
  /** Whether stdout is a terminal (live view by default). */
  readonly isTTY: boolean;
  /** Aborted by SIGINT/SIGTERM: everything is stopped and the run ends with `DevnetInterruptedError`. */
  readonly signal?: AbortSignal;
}

/**
 * `node --import <parent-watch> <this installation's bin/horde.js>`: every process stops when the
 * devnet is gone (see parent-watch.ts). The paths are the same from src/devnet and dist/devnet.
 */
function hordeCommand(): string[] {
  const watch = fileURLToPath(new URL('./parent-watch.js', import.meta.url));
  return [
    process.execPath,
    ...(existsSync(watch) ? ['--import', pathToFileURL(watch).href] : []),
    fileURLToPath(new URL('../../bin/horde.js', import.meta.url)),
  ];
}

function checkDataDir(dataDir: string): void {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new DevnetPreflightError(
      `--data-dir ${dataDir} is not empty; give a new or empty directory (the devnet never reuses or deletes files)`,
    );
  }
}

/** The data dir: the one given (it must be empty or new), or a fresh temp dir. */
function prepareDataDir(dataDir: string | null): string {
  if (dataDir === null) return mkdtempSync(join(tmpdir(), 'horde-devnet-'));
  checkDataDir(dataDir);
  mkdirSync(dataDir, { recursive: true });
  return dataDir;
}

/** Everything that can be checked before a file is written or a process started. */
async function preflight(options: DevnetOptions) {
  if (options.json !== null && !existsSync(dirname(options.json))) {
    throw new DevnetPreflightError(`--json ${options.json}: the directory ${dirname(options.json)} does not exist`);
  }
  for (const [flag, names] of [
    ['--plugin', options.plugins],
    ['--validator-plugin', options.validatorPlugins],
  ] as const) {
    for (const name of names) {
      const location = resolvePluginModule(name, process.cwd());
      if (!location.found) throw new DevnetPreflightError(`${flag} ${name}: ${location.reason}`);
    }
  }
  const minerPlugins = await Promise.all(options.minerPlugins.map((name) => inspectMinerPlugin(name, process.cwd())));
  const managers = minerPlugins.filter((plugin) => plugin.executorManager);
  if (managers.length > 1) {
    throw new DevnetPreflightError(
      `--miner-plugin: ${managers.map((plugin) => plugin.name).join(' and ')} each provide an ExecutorManager, and a miner uses exactly one; give one of them`,
    );
  }
  const validatorClasses = await validatorClassIds(
    ['@horde/plugin-hardware-classes', ...options.plugins, ...options.validatorPlugins],
    process.cwd(),
  );
  const scripts = await hashCrackScripts();
  if (options.docker) await prepareDocker(scripts.image, scripts.crack);
  // Last: this one creates the databases.
  const databases = options.postgres === null ? null : planDatabases(options.postgres, ['chain', ...processNames(options.miners)]);
  if (databases) await createDatabases(options.postgres!, databases);
  return { scripts, databases, minerExecutorManager: managers[0]?.name ?? null, validatorClasses };
}

/** Which plugins the run adds to which process, for the first lines and the summary. */
export function pluginLines(
  options: Pick<DevnetOptions, 'plugins' | 'minerPlugins' | 'validatorPlugins'>,
  minerExecutorManager: string | null,
): string[] {
  const lines: string[] = [];
  if (options.plugins.length) lines.push(`Plugins of the validator and every miner: ${options.plugins.join(', ')}`);
  if (options.minerPlugins.length) {
    lines.push(
      `Plugins of every miner: ${options.minerPlugins.join(', ')}${minerExecutorManager ? ` (executor manager ${minerExecutorManager}, instead of @horde/executor-manager-local; the trusted miner keeps the local one)` : ''}`,
    );
  }
  if (options.validatorPlugins.length) lines.push(`Plugins of the validator: ${options.validatorPlugins.join(', ')}`);
  return lines;
}

/** The devnet's processes, by name (also the names of their files and databases). */
function processNames(miners: number): string[] {
  return ['validator', 'trusted-miner', ...Array.from({ length: miners }, (_, i) => `miner-${i + 1}`)];
}

/** Waits `ms`, or less when `signal` aborts (then it resolves: the caller checks the signal). */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return sleep(ms, signal).catch(() => undefined);
}

async function healthy(port: number): Promise<boolean> {
  try {
    const reply = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1_000) });
    return reply.ok;
  } catch {
    return false;
  }
}

/**
 * The devnet: a LocalChain, a validator with its trusted miner, and `--miners` miners with
 * `--executors` executors each, as separate `horde` processes on 127.0.0.1, for `--cycles` cycles.
 * Returns the summary once the last cycle's weights are revealed on the chain; stops every process
 * whatever happens.
 */
export async function runDevnet(options: DevnetOptions, io: DevnetIO): Promise<DevnetSummary> {
  const started = Date.now();
  // The data dir is checked first and made last: a refused run leaves nothing behind.
  if (options.dataDir !== null) checkDataDir(options.dataDir);
  const { scripts, databases, minerExecutorManager, validatorClasses } = await preflight(options);
  const dataDir = prepareDataDir(options.dataDir);
  const say = (text: string) => io.write(`${text}\n`);
  const executorsText = minerExecutorManager ? `executors from ${minerExecutorManager}` : `${options.executors} executors`;
  say(
    `horde devnet: ${options.miners} miners × ${executorsText} (${options.cheaters} cheating, ${options.dancers} dancing${options.farmers > 0 ? `, ${options.farmers} farming` : ''}), ${options.cycles} cycle${options.cycles === 1 ? '' : 's'}; data dir ${dataDir}`,
  );
  for (const line of pluginLines(options, minerExecutorManager)) say(line);
  if (options.validatorWorkers > 1)
    say(
      `Validator: ${options.validatorWorkers} worker processes sharing its PostgreSQL database (horde validator --workers ${options.validatorWorkers})`,
    );

  const keys = await devnetKeys(options);
  const names = processNames(options.miners);
  let storeFor: StoreFor = sqliteStores();
  let chainStoreInput: StoreInput = { client: 'sqlite', filename: join(dataDir, 'chain.sqlite') };
  if (databases) {
    storeFor = databases.storeFor;
    chainStoreInput = { client: 'postgres', url: databases.urlOf('chain') };
    say(`PostgreSQL databases: ${[...databases.names.values()].join(', ')}`);
  }
  const layouts = new Map(names.map((name) => [name, processLayout(dataDir, name, storeFor)]));
  const layout = (name: string): ProcessLayout => layouts.get(name)!;

  const chain = chainSettings(options);
  const ctx: ConfigContext = { options, chain, chainStore: chainStoreInput, scripts, minerExecutorManager, validatorClasses };
  const portCount = keys.miners.length + 1;
  // --dashboard: one dashboard per process (validator first, then the miners), beside the devnet's own.
  const [trustedPort, ...otherPorts] = options.ports
    ? await freePortsIn(options.ports, portCount * (options.dashboard ? 2 : 1))
    : await freePorts(portCount * (options.dashboard ? 2 : 1));
  const minerPorts = otherPorts.slice(0, keys.miners.length);
  const dashboardPorts = options.dashboard ? otherPorts.slice(keys.miners.length) : null;
  writeProcessConfig(
    layout('trusted-miner'),
    minerConfig(
      {
        layout: layout('trusted-miner'),
        port: trustedPort!,
        keys: null,
        trustedKey: keys.trustedMiner,
        localModeValidator: keys.validator.hotkey.ss58,
      },
      ctx,
    ),
  );
  keys.miners.forEach((miner, i) =>
    writeProcessConfig(
      layout(miner.name),
      minerConfig(
        {
          layout: layout(miner.name),
          port: minerPorts[i]!,
          keys: miner,
          ...(dashboardPorts ? { dashboardPort: dashboardPorts[i + 1]! } : {}),
        },
        ctx,
      ),
    ),
  );
  writeProcessConfig(
    layout('validator'),
    validatorConfig(
      {
        layout: layout('validator'),
        keys,
        trustedMinerPort: trustedPort!,
        ...(dashboardPorts ? { dashboardPort: dashboardPorts[0]! } : {}),
      },
      ctx,
    ),
  );

  const chainStore: Store = await openStore(chainStoreInput);
  const supervisor = new ProcessSupervisor();
  let view: ProgressView | null = null;
  let localChain: LocalChain | null = null;
  let statusTimer: NodeJS.Timeout | null = null;
  let dashboard: DevnetDashboard | null = null;
  try {
    localChain = await setupChain(chainStore, chain, keys);
    const run = new DevnetRun({
      options,
      io,
      keys,
      dataDir,
      layouts,
      supervisor,
      chain: localChain,
      netuid: chain.netuid,
      cycleBlocks: chain.cycleBlocks,
      minerPorts: minerPorts,
      trustedPort: trustedPort!,
    });
    const tallies = run.tallies;
    if (dashboardPorts) {
      const processDashboards = new Map<string, string>([
        ['validator', `http://127.0.0.1:${dashboardPorts[0]}/`],
        ...keys.miners.map((m, i) => [m.name, `http://127.0.0.1:${dashboardPorts[i + 1]}/`] as [string, string]),
      ]);
      dashboard = new DevnetDashboard({
        keys,
        tallies,
        layouts,
        chain: localChain,
        netuid: chain.netuid,
        processDashboards,
        status: (block) => run.status(block),
        summary: `${options.miners} miners × ${options.executors} executors · ${options.cycles} cycles · ${dataDir}`,
        logger: createLogger({ level: 'warn', destination: join(dataDir, 'logs', 'devnet-dashboard.log') }),
      });
      const opened = dashboard;
      run.onMinersUp = () => opened.minersUp();
      run.onValidatorReady = () => opened.validatorUp();
      say(
        `Dashboard: ${await dashboard.start(options.dashboardPort)}  (validator: ${processDashboards.get('validator')}, /metrics on each)`,
      );
    }
    view =
      (options.progress ?? io.isTTY)
        ? await liveView({ miners: tallies, notTerminal: !io.isTTY })
        : plainView({ miners: tallies, write: io.write });
    run.view = view;
    const activeView = view;
    const activeChain = localChain;
    statusTimer = setInterval(() => {
      void activeChain.currentBlock().then(
        (block) => activeView.status(run.status(block)),
        () => undefined,
      );
    }, 250);

    const outcome = await run.execute();
    clearInterval(statusTimer);
    statusTimer = null;
    view.stop();
    view = null;
    say('Stopping the devnet processes…');
    await supervisor.stopAll();

    const validatorStore = await openStore(storeOptionsOf(layout('validator').store));
    try {
      const summary = await buildSummary({
        keys,
        store: new ValidatorStore(validatorStore, keys.validator.hotkey.ss58),
        chain: localChain,
        netuid: chain.netuid,
        cycleIndexes: outcome.cycles,
        revealedAtBlock: outcome.revealedAtBlock,
        logs: Object.fromEntries(names.map((name) => [name, layout(name).logFile])),
        configs: Object.fromEntries(names.map((name) => [name, layout(name).configFile])),
        dataDir,
        settings: {
          miners: options.miners,
          executors: options.executors,
          cheaters: options.cheaters,
          dancers: options.dancers,
          farmers: options.farmers,
          blockTimeMs: chain.blockTimeMs,
          cycleBlocks: chain.cycleBlocks,
          tempo: chain.tempo,
          weightsRateLimit: chain.weightsRateLimit,
          netuid: chain.netuid,
          runner: options.docker ? 'docker' : 'process',
          store: options.postgres !== null ? 'postgres' : 'sqlite',
          validatorWorkers: options.validatorWorkers,
          plugins: options.plugins,
          minerPlugins: options.minerPlugins,
          validatorPlugins: options.validatorPlugins,
          executorManager: minerExecutorManager ?? '@horde/executor-manager-local',
          ...(options.ports ? { ports: `${options.ports.from}-${options.ports.to}` } : {}),
        },
        plugins: pluginLines(options, minerExecutorManager),
        wallSeconds: (Date.now() - started) / 1000,
      });
      if (options.json !== null) writeFileSync(options.json, `${JSON.stringify(summary, null, 2)}\n`);
      io.write(formatSummary(summary));
      if (options.json !== null) say(`JSON summary: ${options.json}`);
      const unpaid = unpaidHonestMiners(summary);
      if (unpaid.length > 0) {
        const which = unpaid
          .map(
            (u) =>
              `${u.name} in cycle ${u.cycle} (${u.jobs.correct} correct, ${u.jobs.rejected} declined, ${u.jobs.failed} failed over the run)`,
          )
          .join('; ');
        throw new DevnetRunError(
          `an honest miner got no weight in a counted cycle: ${which}. Its jobs were declined, failed or never scored; see the validator and miner logs in ${join(dataDir, 'logs')}`,
        );
      }
      return summary;
    } finally {
      await validatorStore.close();
    }
  } finally {
    if (statusTimer) clearInterval(statusTimer);
    view?.stop();
    await dashboard?.close();
    await supervisor.stopAll();
    // Executor agents of a miner that died without stopping them would outlive the devnet.
    const leftovers = killMarkedProcesses(DEVNET_MARKER_ENV, dataDir);
    if (leftovers.length > 0)
      say(`Killed ${leftovers.length} leftover process${leftovers.length === 1 ? '' : 'es'} (${leftovers.join(', ')}).`);
    await localChain?.close();
    await chainStore.close();
  }
}

function storeOptionsOf(store: StoreInput) {
  return store.client === 'sqlite'
    ? { client: 'sqlite' as const, filename: store.filename }
    : { client: 'postgres' as const, url: store.url };
}

interface DevnetRunDeps {
  readonly options: DevnetOptions;
  readonly io: DevnetIO;
  readonly keys: DevnetKeys;
  readonly dataDir: string;
  readonly layouts: ReadonlyMap<string, ProcessLayout>;
  readonly supervisor: ProcessSupervisor;
  readonly chain: LocalChain;
  readonly netuid: number;
  readonly cycleBlocks: number;
  readonly minerPorts: readonly number[];
  readonly trustedPort: number;
}

interface RunOutcome {
  /** The chain cycles the devnet counted, in order. */
  readonly cycles: number[];
  readonly revealedAtBlock: number | null;
}

/** One run's moving parts: the processes, the validator's events, and when to stop. */
class DevnetRun {
  readonly tallies: MinerTally[];
  view: ProgressView | null = null;
  /** Every miner answers /healthz (the dashboard opens their stores then). */
  onMinersUp: (() => Promise<void>) | null = null;
  /** The validator is up (the dashboard opens its store then). */
  onValidatorReady: (() => Promise<void>) | null = null;
  private readonly byHotkey = new Map<string, MinerTally>();
  private readonly done = deferred<RunOutcome>();
  private stopping = false;
  /** `ready` arrives once per validator worker (`--validator-workers`); the first one counts. */
  private validatorUp = false;
  private phase = 'starting the processes';
  private readonly scored: number[] = [];
  /**
   * The cycles the devnet counts: the first `--cycles` whose batch started. A cycle with no batch
   * (the one before ran over it, on a loaded machine) is skipped rather than waited for.
   */
  private readonly countedCycles: number[] = [];
  /** The last counted cycle's weights: block of the commit, once known. */
  private lastCommit: { cycle: number; block: number } | null = null;

  constructor(private readonly deps: DevnetRunDeps) {
    this.tallies = deps.keys.miners.map((m) => ({ name: m.name, behaviour: m.behaviour, ok: 0, wrong: 0, failed: 0 }));
    deps.keys.miners.forEach((m, i) => {
      for (const hotkey of m.hotkeys) this.byHotkey.set(hotkey.ss58, this.tallies[i]!);
    });
  }

  /** Polls the LocalChain until the timelocked commit of `commitBlock` is revealed (or dropped: a failure). */
  private async watchTimelockedReveal(commitBlock: number): Promise<void> {
    const pollMs = Math.max(50, this.deps.options.blockTimeMs);
    while (!this.stopping) {
      try {
        const record = (await this.deps.chain.ledger.timelockedCommits(this.deps.netuid)).find((c) => c.commitBlock === commitBlock);
        if (record?.status === 'revealed') {
          this.message(
            `timelocked weights committed at block ${commitBlock} revealed by the chain at block ${record.revealedBlock} (round ${record.revealRound})`,
          );
          this.phase = 'done';
          this.done.resolve({ cycles: [...this.scored], revealedAtBlock: record.revealedBlock });
          return;
        }
        if (record?.status === 'dropped') {
          this.fail(
            new DevnetRunError(
              `the chain dropped the timelocked weights committed at block ${commitBlock}: ${record.reason ?? 'no reason given'}`,
            ),
          );
          return;
        }
      } catch (error) {
        this.message(`reading the timelocked commits failed: ${(error as Error).message}; retrying`);
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  status(block: number) {
    return {
      block,
      cycle: Math.floor(block / this.deps.cycleBlocks),
      cyclesDone: this.scored.length,
      cyclesTotal: this.deps.options.cycles,
      phase: this.phase,
    };
  }

  private message(text: string): void {
    this.view?.message(text);
  }

  private fail(error: Error): void {
    this.done.reject(error);
  }

  private spawn(name: string, args: string[]): SupervisedProcess {
    const layout = this.deps.layouts.get(name)!;
    const child = this.deps.supervisor.spawn({
      name,
      argv: [...hordeCommand(), ...args, '--config', layout.configFile],
      env: { [DEVNET_MARKER_ENV]: this.deps.dataDir },
      logFile: layout.logFile,
      // Progress from the validator; for every process, the way it notices the devnet is gone.
      ipc: true,
    });
    void child.exited.then((code) => {
      if (!this.stopping)
        this.fail(
          new DevnetRunError(
            `${name} exited unexpectedly (${code === null ? 'killed by a signal' : `exit code ${code}`}); see its log: ${layout.logFile}`,
          ),
        );
    });
    return child;
  }

  /** Starts everything, waits for the cycles and the last reveal; rejects on any failure. */
  async execute(): Promise<RunOutcome> {
    const { options } = this.deps;
    const signal = this.deps.io.signal;
    const onAbort = () => this.fail(new DevnetInterruptedError((signal?.reason as NodeJS.Signals | undefined) ?? 'SIGINT'));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const startupAbort = new AbortController();
    try {
      const work = this.startAndWatch(startupAbort.signal);
      work.catch((error: unknown) => this.fail(error as Error));
      // Give up if the cycles take far longer than they should (a stuck batch, a chain problem).
      const cycleMs = this.deps.cycleBlocks * options.blockTimeMs;
      const deadlineMs = STARTUP_TIMEOUT_MS + (options.cycles + 3) * cycleMs;
      const deadline = setTimeout(
        () =>
          this.fail(
            new DevnetRunError(
              `the devnet did not finish within ${Math.round(deadlineMs / 1000)} s (${this.scored.length} of ${options.cycles} cycles scored, ${this.phase}); see the logs in ${join(this.deps.dataDir, 'logs')}`,
            ),
          ),
        deadlineMs,
      );
      try {
        return await this.done.promise;
      } finally {
        clearTimeout(deadline);
      }
    } finally {
      this.stopping = true;
      startupAbort.abort();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async startAndWatch(signal: AbortSignal): Promise<void> {
    const { keys, chain } = this.deps;
    this.spawn('trusted-miner', ['miner']);
    for (const miner of keys.miners) this.spawn(miner.name, ['miner']);
    this.message(`started the trusted miner and ${keys.miners.length} miners; waiting for them to serve`);

    // Ready: each miner answers /healthz and every announcing hotkey has its axon on chain.
    const ports = new Map<string, number>([
      ['trusted-miner', this.deps.trustedPort],
      ...keys.miners.map((m, i) => [m.name, this.deps.minerPorts[i]!] as [string, number]),
    ]);
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    for (;;) {
      if (signal.aborted) return;
      const notHealthy = (await Promise.all([...ports].map(async ([name, port]) => ((await healthy(port)) ? null : name)))).filter(
        (n): n is string => n !== null,
      );
      const graph = await chain.metagraph(this.deps.netuid).catch(() => null);
      const announced = new Set(graph?.neurons.filter((n) => n.axon !== null).map((n) => n.hotkey) ?? []);
      const notAnnounced = keys.miners.filter((m) => m.hotkeys.some((h) => !announced.has(h.ss58))).map((m) => m.name);
      const waiting = [...new Set([...notHealthy, ...notAnnounced])];
      if (waiting.length === 0) break;
      if (Date.now() > deadline) {
        throw new DevnetRunError(
          `${waiting.join(', ')} did not come up within ${STARTUP_TIMEOUT_MS / 1000} s; see ${waiting.map((n) => this.deps.layouts.get(n)!.logFile).join(', ')}`,
        );
      }
      await pause(200, signal);
    }

    await this.onMinersUp?.().catch((error: unknown) =>
      this.message(`dashboard: could not open the miners' stores (${(error as Error).message})`),
    );
    this.phase = 'starting the validator';
    const validator = this.spawn('validator', ['validator']);
    validator.child.on('message', (message) => {
      const parsed = parseValidatorEvent(message);
      if (parsed.ok) this.onValidatorEvent(parsed.event);
      else this.message(`ignored a message from the validator that is not a progress event (${parsed.error})`);
    });
  }

  /** Whether a cycle is one of those the devnet runs (the validator goes on until it is stopped). */
  private counts(cycle: number): boolean {
    return this.countedCycles.includes(cycle);
  }

  private onValidatorEvent(event: ValidatorEvent): void {
    const { options } = this.deps;
    switch (event.type) {
      case 'ready':
        if (this.validatorUp) {
          this.message(`another validator worker of ${event.hotkey} is up`);
          return;
        }
        this.validatorUp = true;
        void this.onValidatorReady?.().catch((error: unknown) =>
          this.message(`dashboard: could not open the validator's store (${(error as Error).message})`),
        );
        this.phase = 'waiting for the batch slot';
        this.message(`validator ${event.hotkey} is up; batches run once per cycle of ${this.deps.cycleBlocks} blocks`);
        return;
      case 'batch-started':
        if (!this.counts(event.cycle) && this.countedCycles.length < options.cycles) this.countedCycles.push(event.cycle);
        if (!this.counts(event.cycle)) {
          this.message(
            `batch of cycle ${event.cycle} started; it is past the ${options.cycles} counted cycle${options.cycles === 1 ? '' : 's'} and stops with the devnet`,
          );
          return;
        }
        this.phase = `batch of cycle ${event.cycle} running`;
        this.view?.batchStarted(event.cycle, event.miners, event.jobs);
        return;
      case 'job-finished': {
        const tally = this.byHotkey.get(event.minerHotkey);
        if (!tally || !this.counts(event.cycle)) return;
        let outcome: string;
        if (event.status === 'completed' && event.correct === true) {
          tally.ok += 1;
          outcome = 'correct';
        } else if (event.status === 'completed') {
          tally.wrong += 1;
          outcome = 'answered wrongly';
        } else {
          tally.failed += 1;
          outcome = event.status;
        }
        this.view?.jobFinished(tally, `${event.jobUuid.slice(0, 8)} ${outcome}`);
        return;
      }
      case 'batch-finished':
        if (!this.counts(event.cycle)) return;
        this.phase = `batch of cycle ${event.cycle} done; scored when cycle ${event.cycle + 1} begins`;
        this.message(
          `batch of cycle ${event.cycle} finished: ${event.jobs} jobs on ${event.miners} miners in ${(event.durationMs / 1000).toFixed(1)} s`,
        );
        return;
      case 'cycle-scored':
        if (!this.counts(event.cycle) || this.scored.length >= options.cycles) return;
        this.scored.push(event.cycle);
        this.phase = `cycle ${event.cycle} scored; setting weights`;
        this.message(`cycle ${event.cycle} scored (${this.scored.length} of ${options.cycles})`);
        return;
      case 'weights-set': {
        const counted = this.scored.length === options.cycles && this.scored.at(-1) === event.cycle;
        const what =
          event.status === 'committed'
            ? `committed at block ${event.block} (reveal due at block ${event.revealBlock})`
            : event.status === 'set'
              ? `set at block ${event.block}`
              : event.status === 'none'
                ? 'not put on chain (no weight earned, or every attempt failed)'
                : 'rate limited';
        this.message(`weights of cycle ${event.cycle} ${what}`);
        if (!counted) {
          this.phase = 'waiting for the next batch';
          return;
        }
        if (event.status === 'committed' && event.block !== null) {
          this.lastCommit = { cycle: event.cycle, block: event.block };
          this.phase = `waiting for the reveal of cycle ${event.cycle}'s weights`;
          // Timelocked commits are revealed by the chain, not by the validator: watch the chain.
          if (this.deps.options.commitReveal === 'timelock') void this.watchTimelockedReveal(event.block);
        } else {
          this.done.resolve({ cycles: [...this.scored], revealedAtBlock: event.status === 'set' ? event.block : null });
        }
        return;
      }
      case 'weights-revealed':
        this.message(`weights committed at block ${event.commitBlock} revealed at block ${event.block ?? '?'}`);
        if (this.lastCommit && event.commitBlock === this.lastCommit.block) {
          this.phase = 'done';
          this.done.resolve({ cycles: [...this.scored], revealedAtBlock: event.block });
        }
        return;
      case 'failure':
        this.message(`validator: ${event.stage} failed: ${event.message}`);
        // A failed batch or scoring leaves a counted cycle without scores: no point waiting.
        if (event.stage === 'batch' || event.stage === 'scoring') {
          this.fail(
            new DevnetRunError(
              `the validator's ${event.stage} failed: ${event.message}; see its log: ${this.deps.layouts.get('validator')!.logFile}`,
            ),
          );
        }
        return;
    }
  }
}
