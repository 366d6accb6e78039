import { InvalidArgumentError, type Command } from 'commander';
import type { CollateralContract } from '../../collateral/client.js';
import type { HordeConfig } from '../../config/index.js';
import type { Chain } from '../../contracts/index.js';
import type { Hotkey } from '../../keys/index.js';
import { formatTable } from './shared.js';

/**
 * `horde collateral show|list|deposit|reclaim|finalize|associate|publish|deploy`: miner collateral in a validator's contract on
 * the subtensor EVM (ComputeHorde's bactensor/collateral-contracts scripts). The contract, RPC URL
 * and chain id default to the config's `validator.collateral`, each can be given as a flag (a
 * miner names the contract of the validator it deposits for).
 */

interface EndpointOptions {
  config?: string;
  contract?: string;
  validator?: string;
  rpcUrl?: string;
  chainId?: number;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a whole number > 0');
  return n;
}

/** TAO as a decimal ("0.01") into wei, exactly (18 decimals). */
async function taoToWei(value: string): Promise<bigint> {
  const { CollateralError } = await import('../../collateral/errors.js');
  if (!/^\d+(\.\d{1,18})?$/.test(value.trim()))
    throw new CollateralError('HORDE_COLLATERAL_BAD_INPUT', `${JSON.stringify(value)} is not an amount of TAO (e.g. 0.01)`);
  const { parseEther } = await import('viem');
  return parseEther(value.trim());
}

async function formatTao(wei: bigint): Promise<string> {
  const { formatEther } = await import('viem');
  return `${formatEther(wei)} TAO`;
}

function addEndpointOptions(command: Command): Command {
  return command
    .option('-c, --config <path>', 'config file (default: searched from the current directory)')
    .option('--contract <address>', 'collateral contract (default: validator.collateral.contractAddress)')
    .option('--validator <hotkey>', 'use the contract this validator published in its commitment (horde collateral publish)')
    .option('--rpc-url <url>', 'EVM JSON-RPC URL (default: validator.collateral.rpcUrl)')
    .option('--chain-id <id>', 'chain id the RPC must serve (default: validator.collateral.chainId)', positiveInteger);
}

async function loadConfigFrom(path: string | undefined): Promise<HordeConfig> {
  const { loadConfig } = await import('../../config/index.js');
  return loadConfig(path ? { configPath: path } : {});
}

async function contractFor(options: EndpointOptions, config: HordeConfig): Promise<CollateralContract> {
  const [{ CollateralContract }, { CollateralError }] = await Promise.all([
    import('../../collateral/client.js'),
    import('../../collateral/errors.js'),
  ]);
  const settings = config.validator.collateral;
  let address = options.contract ?? settings.contractAddress;
  if (options.validator && !options.contract) {
    const { contractFromCommitment } = await import('../../collateral/commitment.js');
    const validator = options.validator;
    address = await withChain(config, null, async (chain) =>
      contractFromCommitment(await chain.commitment(config.chain.netuid, validator), validator),
    );
  }
  if (!address)
    throw new CollateralError(
      'HORDE_COLLATERAL_BAD_INPUT',
      'no collateral contract: pass --contract or --validator, or set validator.collateral.contractAddress',
    );
  return new CollateralContract({
    rpcUrl: options.rpcUrl ?? settings.rpcUrl,
    chainId: options.chainId ?? settings.chainId,
    contractAddress: address,
    timeoutMs: settings.rpcTimeoutSeconds * 1000,
  });
}

/** Opens the config's chain (and the store a LocalChain lives in) for `fn`. */
async function withChain<T>(config: HordeConfig, hotkey: Hotkey | null, fn: (chain: Chain) => Promise<T>): Promise<T> {
  const [{ openStore }, { storeOptions }, { openChain }] = await Promise.all([
    import('../../store/index.js'),
    import('../../config/index.js'),
    import('../../chain/open-chain.js'),
  ]);
  const store = await openStore(storeOptions(config));
  try {
    const chain = await openChain(config.chain, hotkey, store);
    try {
      return await fn(chain);
    } finally {
      await chain.close();
    }
  } finally {
    await store.close();
  }
}

async function evmKeyFrom(file: string): Promise<string> {
  const { readEvmKeyFile } = await import('../../collateral/association.js');
  return readEvmKeyFile(file);
}

export function register(program: Command): void {
  const collateral = program.command('collateral').description("miner collateral in a validator's contract on the subtensor EVM");

  addEndpointOptions(
    collateral
      .command('show')
      .description("a miner's associated EVM address and deposit, against the validator's minimum")
      .argument('[hotkey]', 'miner hotkey (ss58; default: the config hotkey)')
      .option('--evm-address <h160>', 'read this EVM address instead of resolving a hotkey on chain')
      .option('--json', 'print JSON'),
  ).action(async (hotkeyArg: string | undefined, options: EndpointOptions & { evmAddress?: string; json?: boolean }) => {
    const config = await loadConfigFrom(options.config);
    const contract = await contractFor(options, config);
    const { CollateralError } = await import('../../collateral/errors.js');
    let hotkey: string | null = null;
    let uid: number | null = null;
    let evmAddress: string | null = options.evmAddress ?? null;
    if (evmAddress === null) {
      const { loadHotkey } = await import('../../keys/index.js');
      hotkey = hotkeyArg ?? (await loadHotkey(config.hotkey)).ss58;
      const resolved = await withChain(config, null, async (chain) => {
        const metagraph = await chain.metagraph(config.chain.netuid);
        const neuron = metagraph.neurons.find((n) => n.hotkey === hotkey);
        if (!neuron)
          throw new CollateralError(
            'HORDE_COLLATERAL_NO_EVM_ADDRESS',
            `hotkey ${hotkey} is not registered on subnet ${config.chain.netuid}`,
          );
        if (!chain.associatedEvmAddresses)
          throw new CollateralError('HORDE_COLLATERAL_NO_ASSOCIATIONS', 'this chain client cannot read EVM key associations');
        return { uid: neuron.uid, address: (await chain.associatedEvmAddresses(config.chain.netuid)).get(neuron.uid) ?? null };
      });
      uid = resolved.uid;
      evmAddress = resolved.address;
    }
    const minimum = BigInt(config.validator.collateral.minimumWei);
    const wei = evmAddress ? await contract.collateralOf(evmAddress) : 0n;
    const result = {
      hotkey,
      uid,
      evmAddress,
      contract: contract.address,
      collateralWei: wei.toString(),
      minimumWei: minimum.toString(),
      eligible: wei >= minimum,
    };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `${formatTable([
        ['hotkey', hotkey ?? '-'],
        ['uid', uid === null ? '-' : String(uid)],
        ['EVM address', evmAddress ?? 'none associated (horde collateral associate)'],
        ['contract', contract.address],
        ['collateral', `${await formatTao(wei)} (${wei} wei)`],
        ['minimum', `${await formatTao(minimum)} (${minimum} wei)`],
        ['gets organic jobs', wei >= minimum ? 'yes' : 'no: below the minimum'],
      ])}\n`,
    );
  });

  addEndpointOptions(
    collateral
      .command('list')
      .description("every metagraph miner's associated EVM address and deposit (what the validator routes by)")
      .option('--json', 'print JSON'),
  ).action(async (options: EndpointOptions & { json?: boolean }) => {
    const config = await loadConfigFrom(options.config);
    const contract = await contractFor(options, config);
    const [{ CollateralBook }, { SystemClock }, { silentLogger }] = await Promise.all([
      import('../../collateral/book.js'),
      import('../../time/clock.js'),
      import('../../logging/index.js'),
    ]);
    const minimum = BigInt(config.validator.collateral.minimumWei);
    const snapshot = await withChain(config, null, (chain) =>
      new CollateralBook({ chain, netuid: config.chain.netuid, contract, clock: new SystemClock(), logger: silentLogger() }).refresh(),
    );
    const miners = [...snapshot.miners.values()].sort((a, b) =>
      b.wei > a.wei ? 1 : b.wei < a.wei ? -1 : a.hotkey.localeCompare(b.hotkey),
    );
    if (options.json) {
      const rows = miners.map((m) => ({
        hotkey: m.hotkey,
        evmAddress: m.evmAddress,
        collateralWei: m.wei.toString(),
        eligible: m.wei >= minimum,
      }));
      process.stdout.write(`${JSON.stringify({ contract: contract.address, minimumWei: minimum.toString(), miners: rows }, null, 2)}\n`);
      return;
    }
    const rows: string[][] = [['HOTKEY', 'EVM ADDRESS', 'COLLATERAL', 'ORGANIC JOBS']];
    for (const m of miners) rows.push([m.hotkey, m.evmAddress ?? '-', await formatTao(m.wei), m.wei >= minimum ? 'yes' : 'no']);
    process.stdout.write(`${formatTable(rows)}\nminimum ${await formatTao(minimum)}, contract ${contract.address}\n`);
  });

  addEndpointOptions(
    collateral
      .command('deposit')
      .description("deposits TAO from the miner's EVM key into the contract")
      .argument('<amount>', 'TAO to deposit, e.g. 0.01')
      .requiredOption('--evm-key-file <path>', 'JSON file {"private_key": "0x…"} of the EVM key associated with the hotkey'),
  ).action(async (amount: string, options: EndpointOptions & { evmKeyFile: string }) => {
    const config = await loadConfigFrom(options.config);
    const contract = await contractFor(options, config);
    const key = await evmKeyFrom(options.evmKeyFile);
    const { evmAccount } = await import('../../collateral/client.js');
    const from = evmAccount(key).address;
    const tx = await contract.deposit(key, await taoToWei(amount));
    const total = await contract.collateralOf(from);
    process.stdout.write(
      `deposited ${amount} TAO from ${from} in ${tx.hash} (block ${tx.blockNumber}); collateral now ${await formatTao(total)}\n`,
    );
  });

  addEndpointOptions(
    collateral
      .command('reclaim')
      .description(
        "starts taking collateral back; `finalize` pays it once the contract's decision timeout has passed, unless the trustee denies it",
      )
      .argument('<amount>', 'TAO to take back, e.g. 0.01')
      .requiredOption('--evm-key-file <path>', 'JSON file {"private_key": "0x…"} of the EVM key that deposited')
      .option('--reason <text>', 'why (a URL, stored with its MD5, or plain text)', 'reclaim'),
  ).action(async (amount: string, options: EndpointOptions & { evmKeyFile: string; reason: string }) => {
    const config = await loadConfigFrom(options.config);
    const contract = await contractFor(options, config);
    const tx = await contract.reclaim(await evmKeyFrom(options.evmKeyFile), await taoToWei(amount), options.reason);
    process.stdout.write(
      `reclaim ${tx.reclaimId} of ${amount} TAO started in ${tx.hash}; run horde collateral finalize ${tx.reclaimId} after the decision timeout\n`,
    );
  });

  addEndpointOptions(
    collateral
      .command('finalize')
      .description('pays out a reclaim whose decision timeout has passed')
      .argument('<reclaim-id>', 'the id `reclaim` printed', (value) => {
        if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a reclaim id (a whole number)');
        return value;
      })
      .requiredOption('--evm-key-file <path>', 'JSON file {"private_key": "0x…"} of a funded EVM key (any account may finalize)'),
  ).action(async (reclaimId: string, options: EndpointOptions & { evmKeyFile: string }) => {
    const config = await loadConfigFrom(options.config);
    const contract = await contractFor(options, config);
    const tx = await contract.finalizeReclaim(await evmKeyFrom(options.evmKeyFile), BigInt(reclaimId));
    process.stdout.write(`reclaim ${reclaimId} finalized in ${tx.hash}\n`);
  });

  collateral
    .command('associate')
    .description("associates an EVM key with the config's hotkey on chain (associate_evm_key), so validators find its deposit")
    .option('-c, --config <path>', 'config file (default: searched from the current directory)')
    .requiredOption('--evm-key-file <path>', 'JSON file {"private_key": "0x…"} of the EVM key')
    .action(async (options: { config?: string; evmKeyFile: string }) => {
      const config = await loadConfigFrom(options.config);
      const [{ loadHotkey }, { signAssociation }, { CollateralError }] = await Promise.all([
        import('../../keys/index.js'),
        import('../../collateral/association.js'),
        import('../../collateral/errors.js'),
      ]);
      const hotkey = await loadHotkey(config.hotkey);
      const key = await evmKeyFrom(options.evmKeyFile);
      await withChain(config, hotkey, async (chain) => {
        if (!chain.associateEvmKey)
          throw new CollateralError('HORDE_COLLATERAL_NO_ASSOCIATIONS', 'this chain client cannot associate EVM keys');
        const block = await chain.currentBlock();
        const signed = await signAssociation(key, hotkey.publicKey, block);
        await chain.associateEvmKey(config.chain.netuid, signed.evmAddress, block, signed.signature);
        process.stdout.write(`associated ${signed.evmAddress} with ${hotkey.ss58} on subnet ${config.chain.netuid}\n`);
      });
    });

  collateral
    .command('publish')
    .description(
      'puts the config\'s collateral contract in this validator\'s commitment, {"contract": {"address": …}}, where miners look it up',
    )
    .option('-c, --config <path>', 'config file (default: searched from the current directory)')
    .option('--contract <address>', 'collateral contract (default: validator.collateral.contractAddress)')
    .action(async (options: { config?: string; contract?: string }) => {
      const config = await loadConfigFrom(options.config);
      const [{ loadHotkey }, { contractCommitment }, { CollateralError }] = await Promise.all([
        import('../../keys/index.js'),
        import('../../collateral/commitment.js'),
        import('../../collateral/errors.js'),
      ]);
      const address = options.contract ?? config.validator.collateral.contractAddress;
      if (!address)
        throw new CollateralError(
          'HORDE_COLLATERAL_BAD_INPUT',
          'no collateral contract: pass --contract or set validator.collateral.contractAddress',
        );
      const hotkey = await loadHotkey(config.hotkey);
      const data = contractCommitment(address);
      await withChain(config, hotkey, (chain) => chain.setCommitment(config.chain.netuid, data));
      process.stdout.write(`published ${data} as the commitment of ${hotkey.ss58} on subnet ${config.chain.netuid}\n`);
    });

  collateral
    .command('deploy')
    .description('deploys a collateral contract whose trustee is this EVM key (a validator does this once)')
    .option('-c, --config <path>', 'config file (default: searched from the current directory)')
    .option('--rpc-url <url>', 'EVM JSON-RPC URL (default: validator.collateral.rpcUrl)')
    .option('--chain-id <id>', 'chain id the RPC must serve (default: validator.collateral.chainId)', positiveInteger)
    .requiredOption('--evm-key-file <path>', 'JSON file {"private_key": "0x…"} of the validator\'s EVM key (the trustee)')
    .option('--min-increase <tao>', 'smallest deposit or partial reclaim', '0.001')
    .option('--decision-timeout <seconds>', 'seconds the trustee has to deny a reclaim', positiveInteger, 3600)
    .action(
      async (options: {
        config?: string;
        rpcUrl?: string;
        chainId?: number;
        evmKeyFile: string;
        minIncrease: string;
        decisionTimeout: number;
      }) => {
        const config = await loadConfigFrom(options.config);
        const settings = config.validator.collateral;
        const [{ deployCollateralContract, evmAccount }] = await Promise.all([import('../../collateral/client.js')]);
        const key = await evmKeyFrom(options.evmKeyFile);
        const trustee = evmAccount(key).address;
        const deployed = await deployCollateralContract(
          {
            rpcUrl: options.rpcUrl ?? settings.rpcUrl,
            chainId: options.chainId ?? settings.chainId,
            timeoutMs: settings.rpcTimeoutSeconds * 1000,
          },
          key,
          {
            netuid: config.chain.netuid,
            trustee,
            minCollateralIncreaseWei: await taoToWei(options.minIncrease),
            decisionTimeoutSeconds: options.decisionTimeout,
          },
        );
        process.stdout.write(
          `deployed the collateral contract at ${deployed.address} (trustee ${trustee}, tx ${deployed.tx.hash}); set validator.collateral.contractAddress to it\n`,
        );
      },
    );
}
