import { createHash } from 'node:crypto';
import {
  BaseError,
  ContractFunctionRevertedError,
  HttpRequestError,
  TimeoutError,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  isAddress,
  isHex,
  type Address,
  type Chain as ViemChain,
  type Hash,
  type Hex,
  type PublicClient,
} from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { COLLATERAL_ABI, COLLATERAL_BYTECODE } from './contract/artifact.js';
import { DEFAULT_EVM_RPC_TIMEOUT_MS } from './defaults.js';
import { CollateralError } from './errors.js';

/** Where the contract is: the EVM's JSON-RPC URL, the chain id it must serve, the contract's address. */
export interface CollateralEndpoint {
  readonly rpcUrl: string;
  /** The chain id the RPC must report (subtensor EVM: 964 on finney, 945 on testnet). */
  readonly chainId: number;
  readonly contractAddress: string;
  /** Per-request timeout of the RPC (ms). */
  readonly timeoutMs?: number;
}

/** A transaction that was mined and succeeded. */
export interface CollateralTx {
  readonly hash: Hash;
  readonly blockNumber: bigint;
}

/** The contract's constructor arguments (ComputeHorde's `deploy.sh`). */
export interface CollateralDeployment {
  readonly netuid: number;
  /** H160 of the validator that may slash and deny reclaims. */
  readonly trustee: string;
  readonly minCollateralIncreaseWei: bigint;
  readonly decisionTimeoutSeconds: number;
}

const ZERO_MD5: Hex = `0x${'00'.repeat(16)}`;
const REASON_FETCH_TIMEOUT_MS = 10_000;
/** A transaction's receipt is awaited this many request timeouts (60 s by default: several 12 s blocks). */
const RECEIPT_WAIT_FACTOR = 6;

/** A checked H160 address, or HORDE_COLLATERAL_BAD_INPUT naming `what`. */
export function evmAddress(value: string, what: string): Address {
  if (!isAddress(value, { strict: false }))
    throw new CollateralError('HORDE_COLLATERAL_BAD_INPUT', `${what} is not an EVM (H160) address: ${JSON.stringify(value)}`);
  return getAddress(value);
}

/** A viem account from a 32-byte hex private key, or HORDE_COLLATERAL_BAD_INPUT. */
export function evmAccount(privateKey: string): PrivateKeyAccount {
  const key = privateKey.startsWith('0x') ? privateKey : `0x${privateKey}`;
  if (!isHex(key) || key.length !== 66)
    throw new CollateralError('HORDE_COLLATERAL_BAD_INPUT', 'the EVM private key must be 32 bytes of hex');
  return privateKeyToAccount(key);
}

/**
 * The 16-byte checksum the contract stores beside a reason URL: MD5 of the URL's content when it is
 * an http(s) URL (fetched, as the original does), zero otherwise (a plain reason such as
 * `job … cheated`, which is what ComputeHorde's validator sends).
 */
export async function reasonChecksum(url: string, fetchImpl: typeof fetch = fetch): Promise<Hex> {
  if (!/^https?:\/\//i.test(url)) return ZERO_MD5;
  const unfetchable = (why: string, cause?: unknown) =>
    new CollateralError('HORDE_COLLATERAL_REASON_URL', `could not fetch the slash reason ${url} for its checksum: ${why}`, { cause });
  let response: Response;
  let body: ArrayBuffer;
  try {
    response = await fetchImpl(url, { signal: AbortSignal.timeout(REASON_FETCH_TIMEOUT_MS) });
    body = await response.arrayBuffer();
  } catch (err) {
    throw unfetchable((err as Error).message, err);
  }
  if (!response.ok) throw unfetchable(`HTTP ${response.status}`);
  return `0x${createHash('md5').update(Buffer.from(body)).digest('hex')}`;
}

/** Turns whatever viem threw into a CollateralError with a stable code. */
export function collateralErrorOf(err: unknown, doing: string): CollateralError {
  if (err instanceof CollateralError) return err;
  if (err instanceof BaseError) {
    const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError) {
      const name = reverted.data?.errorName ?? reverted.reason ?? 'unknown';
      return new CollateralError('HORDE_COLLATERAL_REVERTED', `${doing}: the contract refused (${name})`, { cause: err, revert: name });
    }
    if (err.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError)) {
      return new CollateralError('HORDE_COLLATERAL_RPC_UNREACHABLE', `${doing}: the EVM RPC did not answer (${err.shortMessage})`, {
        cause: err,
      });
    }
    return new CollateralError('HORDE_COLLATERAL_RPC_ERROR', `${doing}: ${err.shortMessage}`, { cause: err });
  }
  return new CollateralError('HORDE_COLLATERAL_RPC_ERROR', `${doing}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

function viemChain(chainId: number, rpcUrl: string): ViemChain {
  return defineChain({
    id: chainId,
    name: `evm-${chainId}`,
    nativeCurrency: { name: 'TAO', symbol: 'TAO', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

function publicClientOf(rpcUrl: string, chainId: number, timeoutMs: number): PublicClient {
  // retryCount 0: the caller decides about retries (routing keeps its last snapshot, slashes retry).
  return createPublicClient({ chain: viemChain(chainId, rpcUrl), transport: http(rpcUrl, { timeout: timeoutMs, retryCount: 0 }) });
}

/** Checks that the RPC serves `chainId`; HORDE_COLLATERAL_WRONG_CHAIN or HORDE_COLLATERAL_RPC_UNREACHABLE otherwise. */
async function checkChainId(client: PublicClient, chainId: number, rpcUrl: string): Promise<void> {
  let served: number;
  try {
    served = await client.getChainId();
  } catch (err) {
    throw collateralErrorOf(err, `reading the chain id of ${rpcUrl}`);
  }
  if (served !== chainId)
    throw new CollateralError(
      'HORDE_COLLATERAL_WRONG_CHAIN',
      `the EVM RPC ${rpcUrl} serves chain id ${served}, the config says ${chainId}`,
    );
}

/** Deploys the contract (a validator does this once, with its EVM key; it becomes the trustee). */
export async function deployCollateralContract(
  endpoint: Omit<CollateralEndpoint, 'contractAddress'>,
  deployerKey: string,
  deployment: CollateralDeployment,
): Promise<{ address: Address; tx: CollateralTx }> {
  const account = evmAccount(deployerKey);
  const timeoutMs = endpoint.timeoutMs ?? DEFAULT_EVM_RPC_TIMEOUT_MS;
  const client = publicClientOf(endpoint.rpcUrl, endpoint.chainId, timeoutMs);
  await checkChainId(client, endpoint.chainId, endpoint.rpcUrl);
  const wallet = createWalletClient({
    account,
    chain: viemChain(endpoint.chainId, endpoint.rpcUrl),
    transport: http(endpoint.rpcUrl, { timeout: timeoutMs, retryCount: 0 }),
  });
  try {
    const hash = await wallet.deployContract({
      abi: COLLATERAL_ABI,
      bytecode: COLLATERAL_BYTECODE,
      args: [
        deployment.netuid,
        evmAddress(deployment.trustee, 'the trustee'),
        deployment.minCollateralIncreaseWei,
        BigInt(deployment.decisionTimeoutSeconds),
      ],
    });
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: timeoutMs * RECEIPT_WAIT_FACTOR });
    if (receipt.status !== 'success' || !receipt.contractAddress)
      throw new CollateralError('HORDE_COLLATERAL_TX_FAILED', `the deployment transaction ${hash} failed`);
    return { address: getAddress(receipt.contractAddress), tx: { hash, blockNumber: receipt.blockNumber } };
  } catch (err) {
    throw collateralErrorOf(err, 'deploying the collateral contract');
  }
}

/**
 * The collateral contract on one chain: reads (a miner's deposit, the trustee, the minimum
 * increase) and the writes a miner or the trustee makes (deposit, slash). Before the first call it
 * checks that the RPC serves the configured chain and that contract code is at the address, so a
 * wrong URL or address fails with its own code instead of reading zeros.
 */
export class CollateralContract {
  readonly address: Address;
  private readonly client: PublicClient;
  private readonly timeoutMs: number;
  private checked: Promise<void> | null = null;

  constructor(readonly endpoint: CollateralEndpoint) {
    this.address = evmAddress(endpoint.contractAddress, 'the collateral contract address');
    this.timeoutMs = endpoint.timeoutMs ?? DEFAULT_EVM_RPC_TIMEOUT_MS;
    this.client = publicClientOf(endpoint.rpcUrl, endpoint.chainId, this.timeoutMs);
  }

  /** Chain id and contract code, checked once; a failed check is tried again on the next call. */
  ready(): Promise<void> {
    this.checked ??= this.check().catch((err: unknown) => {
      this.checked = null;
      throw err;
    });
    return this.checked;
  }

  private async check(): Promise<void> {
    await checkChainId(this.client, this.endpoint.chainId, this.endpoint.rpcUrl);
    let code: Hex | undefined;
    try {
      code = await this.client.getCode({ address: this.address });
    } catch (err) {
      throw collateralErrorOf(err, `reading the code at ${this.address}`);
    }
    if (!code || code === '0x')
      throw new CollateralError(
        'HORDE_COLLATERAL_CONTRACT_MISSING',
        `no contract at ${this.address} on chain ${this.endpoint.chainId} (${this.endpoint.rpcUrl})`,
      );
  }

  private async read<T>(doing: string, call: () => Promise<T>): Promise<T> {
    await this.ready();
    try {
      return await call();
    } catch (err) {
      throw collateralErrorOf(err, doing);
    }
  }

  /** Wei deposited by `miner` (an H160), at the latest block. */
  async collateralOf(miner: string): Promise<bigint> {
    const address = evmAddress(miner, 'the miner address');
    return this.read(`reading the collateral of ${address}`, () =>
      this.client.readContract({ address: this.address, abi: COLLATERAL_ABI, functionName: 'collaterals', args: [address] }),
    );
  }

  trustee(): Promise<Address> {
    return this.read('reading the trustee', () =>
      this.client.readContract({ address: this.address, abi: COLLATERAL_ABI, functionName: 'TRUSTEE' }),
    );
  }

  minCollateralIncrease(): Promise<bigint> {
    return this.read('reading the minimum increase', () =>
      this.client.readContract({ address: this.address, abi: COLLATERAL_ABI, functionName: 'MIN_COLLATERAL_INCREASE' }),
    );
  }

  /** The native balance of `address` (what a miner has left to deposit). */
  async balanceOf(address: string): Promise<bigint> {
    const checked = evmAddress(address, 'the address');
    return this.read(`reading the balance of ${checked}`, () => this.client.getBalance({ address: checked }));
  }

  private async write(
    doing: string,
    account: PrivateKeyAccount,
    send: (wallet: ReturnType<typeof this.walletFor>) => Promise<Hash>,
  ): Promise<CollateralTx> {
    await this.ready();
    const wallet = this.walletFor(account);
    try {
      const hash = await send(wallet);
      const receipt = await this.client.waitForTransactionReceipt({ hash, timeout: this.timeoutMs * RECEIPT_WAIT_FACTOR });
      if (receipt.status !== 'success') throw new CollateralError('HORDE_COLLATERAL_TX_FAILED', `${doing}: transaction ${hash} failed`);
      return { hash, blockNumber: receipt.blockNumber };
    } catch (err) {
      throw collateralErrorOf(err, doing);
    }
  }

  private walletFor(account: PrivateKeyAccount) {
    return createWalletClient({
      account,
      chain: viemChain(this.endpoint.chainId, this.endpoint.rpcUrl),
      transport: http(this.endpoint.rpcUrl, { timeout: this.timeoutMs, retryCount: 0 }),
    });
  }

  /** A miner deposits `amountWei` from the account of `privateKey` (its associated EVM key). */
  async deposit(privateKey: string, amountWei: bigint): Promise<CollateralTx> {
    if (amountWei <= 0n) throw new CollateralError('HORDE_COLLATERAL_BAD_INPUT', 'the deposit must be more than 0 wei');
    const account = evmAccount(privateKey);
    return this.write(`depositing ${amountWei} wei from ${account.address}`, account, async (wallet) => {
      // Simulated first, so a refusal (below MIN_COLLATERAL_INCREASE) comes back with its error name.
      const { request } = await this.client.simulateContract({
        account,
        address: this.address,
        abi: COLLATERAL_ABI,
        functionName: 'deposit',
        value: amountWei,
      });
      return wallet.writeContract(request);
    });
  }

  /**
   * The trustee burns `amountWei` of `miner`'s collateral with the reason `url` (and the MD5 of
   * its content when it is an http(s) URL), as `slashCollateral` in the original's scripts.
   */
  async slash(trusteeKey: string, miner: string, amountWei: bigint, url: string): Promise<CollateralTx> {
    if (amountWei <= 0n) throw new CollateralError('HORDE_COLLATERAL_BAD_INPUT', 'the slash amount must be more than 0 wei');
    const account = evmAccount(trusteeKey);
    const target = evmAddress(miner, 'the miner address');
    const checksum = await reasonChecksum(url);
    return this.write(`slashing ${amountWei} wei of ${target}`, account, async (wallet) => {
      const { request } = await this.client.simulateContract({
        account,
        address: this.address,
        abi: COLLATERAL_ABI,
        functionName: 'slashCollateral',
        args: [target, amountWei, url, checksum],
      });
      return wallet.writeContract(request);
    });
  }

  /**
   * A miner starts taking `amountWei` back (`reclaimCollateral`); it can be finalized after the
   * contract's decision timeout unless the trustee denies it. Returns the reclaim request id.
   */
  async reclaim(privateKey: string, amountWei: bigint, url: string): Promise<CollateralTx & { reclaimId: bigint }> {
    if (amountWei <= 0n) throw new CollateralError('HORDE_COLLATERAL_BAD_INPUT', 'the reclaim must be more than 0 wei');
    const account = evmAccount(privateKey);
    const checksum = await reasonChecksum(url);
    const tx = await this.write(`reclaiming ${amountWei} wei for ${account.address}`, account, async (wallet) => {
      const { request } = await this.client.simulateContract({
        account,
        address: this.address,
        abi: COLLATERAL_ABI,
        functionName: 'reclaimCollateral',
        args: [amountWei, url, checksum],
      });
      return wallet.writeContract(request);
    });
    const logs = await this.read('reading the reclaim request', () =>
      this.client.getContractEvents({
        address: this.address,
        abi: COLLATERAL_ABI,
        eventName: 'ReclaimProcessStarted',
        args: { account: account.address },
        fromBlock: tx.blockNumber,
        toBlock: tx.blockNumber,
      }),
    );
    const started = logs.find((log) => log.transactionHash === tx.hash);
    if (!started?.args.reclaimRequestId)
      throw new CollateralError('HORDE_COLLATERAL_RPC_ERROR', `the reclaim ${tx.hash} landed without its ReclaimProcessStarted event`);
    return { ...tx, reclaimId: started.args.reclaimRequestId };
  }

  /** Pays out a reclaim whose decision timeout has passed (anyone may send it). */
  async finalizeReclaim(privateKey: string, reclaimId: bigint): Promise<CollateralTx> {
    const account = evmAccount(privateKey);
    return this.write(`finalizing reclaim ${reclaimId}`, account, async (wallet) => {
      const { request } = await this.client.simulateContract({
        account,
        address: this.address,
        abi: COLLATERAL_ABI,
        functionName: 'finalizeReclaim',
        args: [reclaimId],
      });
      return wallet.writeContract(request);
    });
  }

  /** The trustee refuses a pending reclaim, saying why at `url`. */
  async denyReclaim(trusteeKey: string, reclaimId: bigint, url: string): Promise<CollateralTx> {
    const account = evmAccount(trusteeKey);
    const checksum = await reasonChecksum(url);
    return this.write(`denying reclaim ${reclaimId}`, account, async (wallet) => {
      const { request } = await this.client.simulateContract({
        account,
        address: this.address,
        abi: COLLATERAL_ABI,
        functionName: 'denyReclaimRequest',
        args: [reclaimId, url, checksum],
      });
      return wallet.writeContract(request);
    });
  }

  /** `Slashed` events of the contract for `miner` (what a miner or an auditor reads back). */
  async slashes(miner: string): Promise<Array<{ amountWei: bigint; url: string; checksum: Hex; tx: Hash; blockNumber: bigint }>> {
    const target = evmAddress(miner, 'the miner address');
    const logs = await this.read(`reading the slashes of ${target}`, () =>
      this.client.getContractEvents({
        address: this.address,
        abi: COLLATERAL_ABI,
        eventName: 'Slashed',
        args: { account: target },
        fromBlock: 0n,
      }),
    );
    return logs.map((log) => ({
      amountWei: log.args.amount ?? 0n,
      url: log.args.url ?? '',
      checksum: log.args.urlContentMd5Checksum ?? ZERO_MD5,
      tx: log.transactionHash,
      blockNumber: log.blockNumber,
    }));
  }
}
