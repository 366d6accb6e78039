import { InvalidArgumentError, type Command } from 'commander';
import type { HordeConfig } from '../../config/index.js';
import type { LocalChain } from '../../chain/local/local-chain.js';
import type { Store } from '../../contracts/index.js';
import { axonEndpoint, commitRevealModeLabel, weightsSection } from './chain-show-remote.js';
import { formatTable } from './shared.js';
import { definedFields } from '../../object/defined-fields.js';

/**
 * `horde chain init|register|stake|show`: manage the embedded LocalChain (config `chain.network:
 * local`), which lives in the configured store so every horde process using that store shares it.
 * `show` also reads any subtensor network (`--network`, or a config whose chain.network is not local).
 */

interface CommonOptions {
  config?: string;
  netuid?: number;
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}

function amount(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

async function loadLocalConfig(configPath: string | undefined): Promise<HordeConfig> {
  const { loadConfig } = await import('../../config/index.js');
  const { ChainConfigError } = await import('../../chain/errors.js');
  const config = await loadConfig(configPath ? { configPath } : {});
  if (config.chain.network !== 'local') {
    throw new ChainConfigError(
      `horde chain manages the embedded LocalChain, but chain.network is ${JSON.stringify(config.chain.network)}; set chain.network to "local" (or HORDE_CHAIN__NETWORK=local)`,
    );
  }
  return config;
}

/** Opens the store the chain lives in: `chain.local.store` when set, else the process's store. */
async function withStore<T>(config: HordeConfig, fn: (store: Store) => Promise<T>): Promise<T> {
  const [{ openStore }, { storeOptions }, { localChainStoreOptions }] = await Promise.all([
    import('../../store/index.js'),
    import('../../config/index.js'),
    import('../../chain/open-chain.js'),
  ]);
  const store = await openStore(localChainStoreOptions(config.chain) ?? storeOptions(config));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function withChain<T>(configPath: string | undefined, fn: (chain: LocalChain, config: HordeConfig) => Promise<T>): Promise<T> {
  const config = await loadLocalConfig(configPath);
  const { LocalChain } = await import('../../chain/local/local-chain.js');
  return withStore(config, async (store) => {
    const chain = await LocalChain.open({ store, netuid: config.chain.netuid });
    try {
      return await fn(chain, config);
    } finally {
      await chain.close();
    }
  });
}

/**
 * An account given on the command line: an ss58 address, a dev URI (`//Alice`) or a mnemonic;
 * without one, the config's own hotkey.
 */
async function resolveAccount(value: string | undefined, config: HordeConfig, what: string): Promise<string> {
  const { loadHotkey } = await import('../../keys/index.js');
  if (value === undefined) return (await loadHotkey(config.hotkey)).ss58;
  if (value.startsWith('//') || value.startsWith('0x') || value.trim().includes(' ')) return (await loadHotkey({ uri: value })).ss58;
  const { decodeAddress } = await import('@polkadot/util-crypto');
  try {
    decodeAddress(value);
  } catch {
    const { InvalidAddressError } = await import('../../chain/errors.js');
    throw new InvalidAddressError(value, what);
  }
  return value;
}

function short(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}

function fixed(n: number, digits = 4): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

export function register(program: Command): void {
  const chain = program.command('chain').description('manage the embedded LocalChain (chain.network: local) the devnet and tests use');

  chain
    .command('init')
    .description('create the LocalChain in the configured store: genesis now, one subnet (chain.netuid) with the chain.local settings')
    .option('-c, --config <file>', 'config file (default: search the working directory, or HORDE_CONFIG)')
    .option('--netuid <n>', 'subnet to create (default: chain.netuid)', wholeNumber)
    .option('--block-time-ms <ms>', 'milliseconds per block (default: chain.local.blockTimeMs)', wholeNumber)
    .option('--tempo <blocks>', 'epoch length minus one (default: chain.local.tempo)', wholeNumber)
    .option('--weights-rate-limit <blocks>', 'blocks between weight submissions (default: chain.local.weightsRateLimit)', wholeNumber)
    .option('--commit-reveal', 'commit-reveal weights on')
    .option('--no-commit-reveal', 'commit-reveal weights off (plain set_weights)')
    .option('--reveal-period <epochs>', 'epochs between commit and reveal (default: chain.local.revealPeriodEpochs)', wholeNumber)
    .option('--reset', 'replace a LocalChain that already exists in the store')
    .action(
      async (
        options: CommonOptions & {
          blockTimeMs?: number;
          tempo?: number;
          weightsRateLimit?: number;
          commitReveal?: boolean;
          revealPeriod?: number;
          reset?: boolean;
        },
      ) => {
        const config = await loadLocalConfig(options.config);
        const { LocalChain } = await import('../../chain/local/local-chain.js');
        const { localChainInitOptions } = await import('../../chain/open-chain.js');
        const base = localChainInitOptions(config.chain, { reset: options.reset ?? false });
        const subnet = {
          ...base.subnets[0]!,
          ...definedFields({
            netuid: options.netuid,
            tempo: options.tempo,
            weightsRateLimit: options.weightsRateLimit,
            commitRevealEnabled: options.commitReveal,
            revealPeriodEpochs: options.revealPeriod,
          }),
        };
        const init = { ...base, ...definedFields({ blockTimeMs: options.blockTimeMs }), subnets: [subnet] };
        await withStore(config, async (store) => {
          await LocalChain.init(store, init);
        });
        process.stdout.write(
          `LocalChain created: subnet ${subnet.netuid}, ${init.blockTimeMs} ms blocks, tempo ${subnet.tempo}, weights rate limit ${subnet.weightsRateLimit}, commit-reveal ${subnet.commitRevealEnabled ? `on (reveal after ${subnet.revealPeriodEpochs} epoch${subnet.revealPeriodEpochs === 1 ? '' : 's'})` : 'off'}\n`,
        );
      },
    );

  chain
    .command('register')
    .description('register a hotkey on the subnet (uids are handed out in order)')
    .option('-c, --config <file>', 'config file (default: search the working directory, or HORDE_CONFIG)')
    .option('--netuid <n>', 'subnet (default: chain.netuid)', wholeNumber)
    .option('--hotkey <account>', 'ss58 address, dev URI (//Alice) or mnemonic (default: the config hotkey)')
    .option('--coldkey <account>', 'owning coldkey (default: the hotkey itself)')
    .option('--stake <alpha>', 'alpha stake', amount, 0)
    .option('--tao-stake <tao>', 'root TAO stake (counts at TaoWeight)', amount, 0)
    .option('--validator-permit', 'give the neuron a validator permit')
    .action(
      async (
        options: CommonOptions & { hotkey?: string; coldkey?: string; stake: number; taoStake: number; validatorPermit?: boolean },
      ) => {
        await withChain(options.config, async (local, config) => {
          const hotkey = await resolveAccount(options.hotkey, config, 'hotkey');
          const coldkey = options.coldkey === undefined ? hotkey : await resolveAccount(options.coldkey, config, 'coldkey');
          const netuid = options.netuid ?? config.chain.netuid;
          const { uid, block } = await local.registerNeuron({
            netuid,
            hotkey,
            coldkey,
            stake: options.stake,
            taoStake: options.taoStake,
            validatorPermit: options.validatorPermit ?? false,
          });
          process.stdout.write(
            `Registered ${hotkey} on subnet ${netuid} as uid ${uid} at block ${block}${options.validatorPermit ? ' (validator permit)' : ''}\n`,
          );
        });
      },
    );

  chain
    .command('stake')
    .description("add (or, with a negative amount, remove) a registered hotkey's stake")
    .option('-c, --config <file>', 'config file (default: search the working directory, or HORDE_CONFIG)')
    .option('--netuid <n>', 'subnet (default: chain.netuid)', wholeNumber)
    .option('--hotkey <account>', 'ss58 address, dev URI (//Alice) or mnemonic (default: the config hotkey)')
    .requiredOption('--amount <n>', 'stake to add', amount)
    .option('--tao', 'the amount is root TAO stake rather than alpha')
    .action(async (options: CommonOptions & { hotkey?: string; amount: number; tao?: boolean }) => {
      await withChain(options.config, async (local, config) => {
        const hotkey = await resolveAccount(options.hotkey, config, 'hotkey');
        const netuid = options.netuid ?? config.chain.netuid;
        const stake = await local.addStake({ netuid, hotkey, ...(options.tao ? { tao: options.amount } : { alpha: options.amount }) });
        process.stdout.write(`Stake of ${hotkey} on subnet ${netuid}: ${fixed(stake.alpha)} alpha, ${fixed(stake.tao)} TAO\n`);
      });
    });

  chain
    .command('show')
    .description(
      'print the current block, the metagraph, the weights and the commitments of a subnet (LocalChain or any subtensor network)',
    )
    .option('-c, --config <file>', 'config file (default: search the working directory, or HORDE_CONFIG)')
    .option('--netuid <n>', 'subnet (default: chain.netuid)', wholeNumber)
    .option('--network <name-or-url>', 'local, finney, test or a ws(s):// node URL (default: chain.network)')
    .option('--json', 'print JSON instead of tables')
    .action(async (options: CommonOptions & { json?: boolean; network?: string }) => {
      const { loadConfig } = await import('../../config/index.js');
      const loaded = await loadConfig(options.config ? { configPath: options.config } : {});
      const network = options.network ?? loaded.chain.network;
      if (network !== 'local') {
        const { showRemoteChain } = await import('./chain-show-remote.js');
        await showRemoteChain(network, options.netuid ?? loaded.chain.netuid, options.json === true);
        return;
      }
      await withChain(options.config, async (local, config) => {
        const netuid = options.netuid ?? config.chain.netuid;
        const [graph, hyper, weights, emissions] = await Promise.all([
          local.metagraph(netuid),
          local.hyperparameters(netuid),
          local.weights(netuid),
          local.ledger.emissions(netuid),
        ]);
        const commitments = new Map<string, string>();
        const pendingCommits = new Map<string, number>();
        for (const neuron of graph.neurons) {
          const text = await local.commitment(netuid, neuron.hotkey);
          if (text !== null) commitments.set(neuron.hotkey, text);
          const queued = (await local.ledger.onChainCommits(netuid, neuron.hotkey)).length;
          if (queued > 0) pendingCommits.set(neuron.hotkey, queued);
        }
        const { epochIndex } = await import('../../chain/epochs.js');
        const epoch = epochIndex(netuid, hyper.tempo, graph.block);

        if (options.json) {
          const out = {
            netuid,
            block: graph.block,
            epoch,
            hyperparameters: hyper,
            neurons: graph.neurons.map((n) => ({
              ...n,
              ...emissions.get(n.uid),
              commitment: commitments.get(n.hotkey) ?? null,
              unrevealedCommits: pendingCommits.get(n.hotkey) ?? 0,
            })),
            weights: Object.fromEntries([...weights].map(([uid, row]) => [uid, row])),
          };
          process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
          return;
        }

        const lines: string[] = [];
        lines.push(
          `LocalChain subnet ${netuid} at block ${graph.block} (epoch ${epoch}; tempo ${hyper.tempo}, weights rate limit ${hyper.weightsRateLimit}, commit-reveal ${hyper.commitRevealEnabled ? `on, reveal after ${hyper.revealPeriodEpochs} epoch(s)` : 'off'})`,
          `commit-reveal: ${commitRevealModeLabel(hyper)}`,
        );
        if (graph.neurons.length === 0) {
          lines.push('', 'No neurons registered (horde chain register --hotkey //Alice --stake 1000 --validator-permit).');
        } else {
          lines.push(
            '',
            formatTable([
              [
                'UID',
                'HOTKEY',
                'COLDKEY',
                'STAKE',
                'PERMIT',
                'ACTIVE',
                'AXON',
                'INCENTIVE',
                'DIVIDENDS',
                'EMISSION',
                'LAST UPDATE',
                'COMMITS',
                'COMMITMENT',
              ],
              ...graph.neurons.map((n) => {
                const e = emissions.get(n.uid);
                return [
                  String(n.uid),
                  n.hotkey,
                  short(n.coldkey),
                  fixed(n.stake.total),
                  n.validatorPermit ? 'yes' : 'no',
                  n.active ? 'yes' : 'no',
                  axonEndpoint(n.axon),
                  fixed(n.incentive),
                  fixed(e?.dividends ?? 0),
                  fixed(e?.emission ?? 0),
                  String(n.lastUpdate),
                  String(pendingCommits.get(n.hotkey) ?? 0),
                  commitments.get(n.hotkey) ?? '-',
                ];
              }),
            ]),
          );
        }
        lines.push(...weightsSection(weights));
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });
}
