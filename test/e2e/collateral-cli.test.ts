/**
 * `horde collateral` as an operator runs it (core/dist: `npm run build` first), against a real
 * local EVM node and a LocalChain in the config's store: the validator deploys its contract, the
 * miner associates its EVM key with its hotkey, shows its (empty) collateral, deposits, shows it
 * again above the minimum, reclaims part of it, and finds the validator's contract by its hotkey.
 * Bad amounts and an RPC that is down end with one clear message.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../core/src/chain/local/local-chain.js';
import { loadHotkey } from '../../core/src/keys/index.js';
import { openStore } from '../../core/src/store/index.js';
import { startEvmNode, type EvmNode } from '../support/evm-node.js';
import { requireBuiltCli } from '../support/miner-harness.js';

const CLI = fileURLToPath(new URL('../../core/bin/horde.js', import.meta.url));
const run = (args: string[]) =>
  promisify(execFile)('node', [CLI, ...args], { timeout: 60_000 }).then(
    (out) => ({ ...out, code: 0 }),
    (error: { stdout: string; stderr: string; code: number }) => error,
  );

const NETUID = 12;
const TAO = 10n ** 18n;
let dir: string;
let evm: EvmNode;
let configFile: string;
let validatorConfigFile: string;
let validatorSs58: string;
let validatorKeyFile: string;
let minerKeyFile: string;
const validatorKey = generatePrivateKey();
const minerKey = generatePrivateKey();
let endpoint: string[];

beforeAll(async () => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'horde-collateral-cli-'));
  evm = await startEvmNode();
  await evm.fund(privateKeyToAccount(validatorKey).address, TAO);
  await evm.fund(privateKeyToAccount(minerKey).address, TAO);
  validatorKeyFile = join(dir, 'validator-h160.json');
  minerKeyFile = join(dir, 'miner-h160.json');
  writeFileSync(validatorKeyFile, JSON.stringify({ private_key: validatorKey }));
  writeFileSync(minerKeyFile, JSON.stringify({ private_key: minerKey }));
  const filename = join(dir, 'horde.sqlite');
  configFile = join(dir, 'horde.config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      hotkey: '//ColCliMiner',
      chain: { network: 'local', netuid: NETUID },
      store: { client: 'sqlite', filename },
      plugins: [],
    }),
  );
  validatorConfigFile = join(dir, 'validator.config.json');
  writeFileSync(
    validatorConfigFile,
    JSON.stringify({
      hotkey: '//ColCliValidator',
      chain: { network: 'local', netuid: NETUID },
      store: { client: 'sqlite', filename },
      plugins: [],
    }),
  );
  const store = await openStore({ client: 'sqlite', filename });
  await LocalChain.init(store, { blockTimeMs: 250, subnets: [{ netuid: NETUID }] });
  const chain = await LocalChain.open({ store });
  const miner = await loadHotkey({ uri: '//ColCliMiner' });
  await chain.ledger.registerNeuron({ netuid: NETUID, hotkey: miner.ss58, coldkey: miner.ss58 });
  const validator = await loadHotkey({ uri: '//ColCliValidator' });
  validatorSs58 = validator.ss58;
  await chain.ledger.registerNeuron({
    netuid: NETUID,
    hotkey: validator.ss58,
    coldkey: validator.ss58,
    stake: 1000,
    validatorPermit: true,
  });
  await chain.close();
  await store.close();
}, 120_000);

afterAll(async () => {
  await evm?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('horde collateral', () => {
  it('deploys, associates, shows and deposits for a miner', async () => {
    const node = ['--rpc-url', evm.url, '--chain-id', String(evm.chainId)];
    const deployed = await run(['collateral', 'deploy', '-c', configFile, ...node, '--evm-key-file', validatorKeyFile]);
    expect(deployed.stderr).toBe('');
    const address = /deployed the collateral contract at (0x[0-9a-fA-F]{40})/.exec(deployed.stdout)?.[1];
    expect(address).toBeDefined();
    endpoint = [...node, '--contract', address!];

    const before = await run(['collateral', 'show', '-c', configFile, ...endpoint]);
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/none associated/);

    const associated = await run(['collateral', 'associate', '-c', configFile, '--evm-key-file', minerKeyFile]);
    expect(associated.stdout).toContain(`associated ${privateKeyToAccount(minerKey).address}`);

    const empty = JSON.parse((await run(['collateral', 'show', '-c', configFile, ...endpoint, '--json'])).stdout);
    expect(empty).toMatchObject({
      uid: 0,
      evmAddress: privateKeyToAccount(minerKey).address,
      collateralWei: '0',
      minimumWei: '10000000000000000',
      eligible: false,
    });

    const deposit = await run(['collateral', 'deposit', '0.02', '-c', configFile, ...endpoint, '--evm-key-file', minerKeyFile]);
    expect(deposit.stdout).toMatch(/deposited 0\.02 TAO from 0x[0-9a-fA-F]{40} in 0x[0-9a-f]{64} .*collateral now 0\.02 TAO/);

    const after = JSON.parse((await run(['collateral', 'show', '-c', configFile, ...endpoint, '--json'])).stdout);
    expect(after).toMatchObject({ collateralWei: '20000000000000000', eligible: true });
    const table = await run(['collateral', 'show', '-c', configFile, ...endpoint]);
    expect(table.stdout).toMatch(/gets organic jobs\s+yes/);

    // The validator's view: every metagraph miner (the validator has no EVM key associated).
    const list = JSON.parse((await run(['collateral', 'list', '-c', validatorConfigFile, ...endpoint, '--json'])).stdout);
    expect(list.miners).toEqual([
      {
        hotkey: (await loadHotkey({ uri: '//ColCliMiner' })).ss58,
        evmAddress: privateKeyToAccount(minerKey).address,
        collateralWei: '20000000000000000',
        eligible: true,
      },
      { hotkey: validatorSs58, evmAddress: null, collateralWei: '0', eligible: false },
    ]);

    // Taking part of it back: a reclaim, paid once the decision timeout (3600 s) has passed.
    const reclaim = await run(['collateral', 'reclaim', '0.005', '-c', configFile, ...endpoint, '--evm-key-file', minerKeyFile]);
    const reclaimId = /reclaim (\d+) of 0\.005 TAO started/.exec(reclaim.stdout)?.[1];
    expect(reclaimId).toBeDefined();
    const early = await run(['collateral', 'finalize', reclaimId!, '-c', configFile, ...endpoint, '--evm-key-file', minerKeyFile]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/BeforeDenyTimeout/);
    await evm.advance(3601);
    const finalized = await run(['collateral', 'finalize', reclaimId!, '-c', configFile, ...endpoint, '--evm-key-file', minerKeyFile]);
    expect(finalized.stdout).toContain(`reclaim ${reclaimId} finalized`);
    expect(JSON.parse((await run(['collateral', 'show', '-c', configFile, ...endpoint, '--json'])).stdout)).toMatchObject({
      collateralWei: '15000000000000000',
    });

    // The validator publishes its contract in its commitment; the miner finds it by the validator's hotkey.
    const published = await run(['collateral', 'publish', '-c', validatorConfigFile, '--contract', address!]);
    expect(published.stdout).toContain(`published {"contract":{"address":"${address}"}}`);
    const byValidator = JSON.parse(
      (await run(['collateral', 'show', '-c', configFile, ...node, '--validator', validatorSs58, '--json'])).stdout,
    );
    expect(byValidator).toMatchObject({ contract: address, collateralWei: '15000000000000000' });
  }, 120_000);

  it('ends with one clear message for a bad amount, a deposit below the minimum increase and an RPC that is down', async () => {
    const bad = await run(['collateral', 'deposit', 'lots', '-c', configFile, ...endpoint, '--evm-key-file', minerKeyFile]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^horde: "lots" is not an amount of TAO/);
    const small = await run(['collateral', 'deposit', '0.0000001', '-c', configFile, ...endpoint, '--evm-key-file', minerKeyFile]);
    expect(small.code).toBe(1);
    expect(small.stderr).toMatch(/^horde: .*the contract refused \(InsufficientAmount\)/);
    const down = await run([
      'collateral',
      'show',
      '-c',
      configFile,
      '--evm-address',
      privateKeyToAccount(minerKey).address,
      '--rpc-url',
      'http://127.0.0.1:9',
      '--chain-id',
      '31337',
      '--contract',
      endpoint.at(-1)!,
    ]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^horde: .*the EVM RPC did not answer/);
    expect(down.stderr).not.toMatch(/unexpected error/);
    // A hotkey that published no contract.
    const miner = await loadHotkey({ uri: '//ColCliMiner' });
    const none = await run([
      'collateral',
      'show',
      '-c',
      configFile,
      '--rpc-url',
      evm.url,
      '--chain-id',
      String(evm.chainId),
      '--validator',
      miner.ss58,
    ]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^horde: validator 5\w+ has no commitment, so no published collateral contract/);
  }, 120_000);
});
