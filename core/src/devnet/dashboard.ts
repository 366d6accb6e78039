import type { Logger, Store } from '../contracts/index.js';
import type { LocalChain } from '../chain/local/local-chain.js';
import { cachedFor } from '../dashboard/cached.js';
import { startDashboardServer, type DashboardServer } from '../dashboard/server.js';
import { keyCell, type Cell, type DashboardPage, type Section } from '../dashboard/view.js';
import { createMetricsRegistry } from '../metrics/index.js';
import { minerJobsSections, type MinerJobsSource } from '../miner/dashboard-page.js';
import { createMinerStore } from '../miner/store/index.js';
import { SystemClock } from '../time/clock.js';
import { openStore } from '../store/index.js';
import {
  batchesSection,
  failuresSection,
  receiptSourcesSection,
  scoresSection,
  validatorJobPage,
  weightsChartSection,
} from '../validator/dashboard-page.js';
import { TransferredReceiptsRepository } from '../validator/receipts/store.js';
import { ValidatorStore } from '../validator/store.js';
import type { ProcessLayout, StoreInput } from './configs.js';
import type { DevnetKeys } from './keys.js';
import type { MinerTally } from './progress.js';

export interface DevnetDashboardDeps {
  readonly keys: DevnetKeys;
  readonly tallies: readonly MinerTally[];
  readonly layouts: ReadonlyMap<string, ProcessLayout>;
  readonly chain: LocalChain;
  readonly netuid: number;
  /** Dashboards of the processes, by process name (`validator`, `miner-1`, …). */
  readonly processDashboards: ReadonlyMap<string, string>;
  /** Block, cycle, cycles done and the phase, as the live view shows them. */
  readonly status: (block: number) => { block: number; cycle: number; cyclesDone: number; cyclesTotal: number; phase: string };
  readonly summary: string;
  readonly logger: Logger;
}

function storeOptionsOf(store: StoreInput) {
  return store.client === 'sqlite'
    ? { client: 'sqlite' as const, filename: store.filename }
    : { client: 'postgres' as const, url: store.url };
}

/**
 * The devnet's own dashboard (`--dashboard`): every miner with its tally, the jobs of every miner
 * moving through their stages (read from the miners' stores), and the validator's batches, scores,
 * failures and weights chart (from its store). The stores are opened read-side once their process
 * is up, so the devnet never races a process's migrations.
 */
export class DevnetDashboard {
  private server: DashboardServer | null = null;
  private readonly minerStores = new Map<string, Store>();
  private validatorStore: Store | null = null;
  private readonly clock = new SystemClock();
  private readonly metagraph;

  constructor(private readonly deps: DevnetDashboardDeps) {
    this.metagraph = cachedFor(
      2_000,
      () => this.clock.now(),
      () => deps.chain.metagraph(deps.netuid),
    );
  }

  async start(port: number): Promise<string> {
    this.server = await startDashboardServer({
      settings: { host: '127.0.0.1', port, token: null, refreshMs: 1_000 },
      page: () => this.page(),
      // The validator's jobs, linked from its failures table.
      details: {
        jobs: async (jobUuid) => (this.validatorStore ? validatorJobPage(this.validatorRepository()!, jobUuid, this.clock.now()) : null),
      },
      metrics: createMetricsRegistry({ defaultMetrics: false, labels: { role: 'devnet' } }),
      logger: this.deps.logger,
      clock: this.clock,
    });
    return this.server.url;
  }

  /** The miners answer /healthz: their stores are migrated and can be read. */
  async minersUp(): Promise<void> {
    for (const miner of this.deps.keys.miners) {
      if (this.minerStores.has(miner.name)) continue;
      this.minerStores.set(miner.name, await openStore(storeOptionsOf(this.deps.layouts.get(miner.name)!.store)));
    }
  }

  /** The validator said it is ready: its store is migrated. */
  async validatorUp(): Promise<void> {
    this.validatorStore ??= await openStore(storeOptionsOf(this.deps.layouts.get('validator')!.store));
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.server = null;
    for (const store of this.minerStores.values()) await store.close().catch(() => undefined);
    this.minerStores.clear();
    await this.validatorStore?.close().catch(() => undefined);
    this.validatorStore = null;
  }

  private validatorRepository(): ValidatorStore | null {
    return this.validatorStore ? new ValidatorStore(this.validatorStore, this.deps.keys.validator.hotkey.ss58) : null;
  }

  private async page(): Promise<DashboardPage> {
    const now = this.clock.now();
    const block = await this.deps.chain.currentBlock();
    const status = this.deps.status(block);
    const metagraph = await this.metagraph();
    const neuronOf = new Map(metagraph?.neurons.map((n) => [n.hotkey, n]) ?? []);
    const totals = this.deps.tallies.reduce(
      (sum, t) => ({ ok: sum.ok + t.ok, wrong: sum.wrong + t.wrong, failed: sum.failed + t.failed }),
      { ok: 0, wrong: 0, failed: 0 },
    );
    const minerRows = this.deps.keys.miners.flatMap((miner, i) =>
      miner.hotkeys.map((hotkey, h): Cell[] => {
        const neuron = neuronOf.get(hotkey.ss58);
        const tally = this.deps.tallies[i]!;
        return [
          h === 0 ? miner.name : `${miner.name} (2nd hotkey)`,
          miner.behaviour,
          keyCell(hotkey.ss58),
          neuron?.uid ?? null,
          neuron?.axon ? { text: `${neuron.axon.ip}:${neuron.axon.port}`, tone: 'ok' } : { text: 'not announced', tone: 'warn' },
          h === 0 ? { text: String(tally.ok), tone: tally.ok > 0 ? 'ok' : 'muted' } : null,
          h === 0 ? (tally.wrong > 0 ? { text: String(tally.wrong), tone: 'bad' } : '0') : null,
          h === 0 ? (tally.failed > 0 ? { text: String(tally.failed), tone: 'bad' } : '0') : null,
          h === 0 ? (this.deps.processDashboards.get(miner.name) ?? null) : null,
        ];
      }),
    );
    const sources: MinerJobsSource[] = [...this.minerStores].map(([miner, store]) => ({
      miner,
      jobs: createMinerStore(store.db, () => now).jobs,
    }));
    const [live, recent] = await minerJobsSections(sources, now);
    const validator = this.validatorRepository();
    const receipts = this.validatorStore
      ? new TransferredReceiptsRepository(this.validatorStore, this.deps.keys.validator.hotkey.ss58)
      : null;
    const validatorSections: Section[] =
      validator && receipts
        ? await Promise.all([
            weightsChartSection(validator, metagraph),
            batchesSection(validator),
            scoresSection(validator),
            failuresSection(validator, now),
            receiptSourcesSection(receipts, now),
          ])
        : [];
    return {
      title: 'horde devnet',
      subtitle: this.deps.summary,
      tiles: [
        { label: 'Block', value: String(status.block) },
        { label: 'Cycle', value: String(status.cycle) },
        {
          label: 'Cycles scored',
          value: `${status.cyclesDone} / ${status.cyclesTotal}`,
          tone: status.cyclesDone >= status.cyclesTotal ? 'ok' : undefined,
        },
        { label: 'Phase', value: status.phase },
        { label: 'Correct answers', value: String(totals.ok), tone: totals.ok > 0 ? 'ok' : 'muted' },
        { label: 'Wrong / failed', value: `${totals.wrong} / ${totals.failed}`, tone: totals.wrong + totals.failed > 0 ? 'bad' : 'muted' },
      ],
      sections: [
        {
          kind: 'table',
          id: 'miners',
          title: 'Miners',
          note: 'Every miner hotkey on the LocalChain with its jobs in the counted cycles.',
          columns: ['Miner', 'Behaviour', 'Hotkey', 'UID', 'Axon', 'Correct', 'Wrong', 'Failed', 'Dashboard'],
          rows: minerRows,
          empty: 'No miner.',
          wide: true,
        },
        live,
        ...validatorSections,
        recent,
        {
          kind: 'table',
          id: 'processes-wide',
          title: 'Processes',
          note: 'Each process has its own dashboard and /metrics; logs are pino JSON lines.',
          columns: ['Process', 'Dashboard', 'Log'],
          rows: [...this.deps.layouts.values()].map((layout) => [
            layout.name,
            this.deps.processDashboards.get(layout.name) ?? null,
            layout.logFile,
          ]),
          empty: '',
        },
      ],
    };
  }
}
