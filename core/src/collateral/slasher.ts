import pLimit from 'p-limit';
import type { Logger } from '../contracts/index.js';
import { readEvmKeyFile } from './association.js';
import type { CollateralBook } from './book.js';
import { evmAccount, type CollateralContract, type CollateralTx } from './client.js';
import { CollateralError } from './errors.js';

export interface SlasherSettings {
  readonly amountWei: bigint;
  /** Reason template: `{jobUuid}` and `{minerHotkey}` are filled in. */
  readonly reason: string;
  /** Where the trustee's EVM key is (`{"private_key": …}`); read on the first slash. */
  readonly evmKeyFile: string | null;
  readonly attempts: number;
  /** Wait before attempt n+1 (ms); the original backs off 2, 4, 8 … s up to 120 s. */
  readonly backoffMs?: (attempt: number) => number;
}

export interface SlashDone {
  readonly tx: CollateralTx;
  readonly evmAddress: string;
  readonly amountWei: bigint;
  readonly reason: string;
  readonly attempts: number;
}

const defaultBackoff = (attempt: number) => Math.min(2000 * 2 ** (attempt - 1), 120_000);

/** The reason put on chain for a cheated job. */
export function slashReasonFor(template: string, jobUuid: string, minerHotkey: string): string {
  return template.replaceAll('{jobUuid}', jobUuid).replaceAll('{minerHotkey}', minerHotkey);
}

/**
 * Takes the configured amount from a cheating miner's collateral (ComputeHorde's
 * `slash_collateral_task`): the miner's H160 from the chain's association, `slashCollateral`
 * signed by the trustee's key with the reason. A transient failure (RPC away) is tried again with
 * a growing wait, up to `attempts`; a refusal (`InsufficientAmount`: the miner has less than the
 * amount; `NotTrustee`: the key is not this contract's trustee) is final.
 */
export class CollateralSlasher {
  private key: Promise<string> | null = null;
  // One transaction at a time from the trustee's key: concurrent sends would race for its nonce.
  private readonly oneAtATime = pLimit(1);

  constructor(
    private readonly contract: CollateralContract,
    private readonly book: CollateralBook,
    private readonly settings: SlasherSettings,
    private readonly logger: Logger,
  ) {}

  private trusteeKey(): Promise<string> {
    const file = this.settings.evmKeyFile;
    if (!file)
      return Promise.reject(
        new CollateralError(
          'HORDE_COLLATERAL_BAD_INPUT',
          'validator.collateral.evmKeyFile is not set: the validator has no EVM key to slash with',
        ),
      );
    this.key ??= readEvmKeyFile(file).catch((err: unknown) => {
      this.key = null;
      throw err;
    });
    return this.key;
  }

  /**
   * Checks, before any cheat, that the configured key is the contract's trustee (a wrong key file
   * would otherwise show only when the first slash is refused with `NotTrustee`).
   */
  async verifyTrustee(): Promise<string> {
    const key = await this.trusteeKey();
    const ours = evmAccount(key).address;
    const trustee = await this.contract.trustee();
    if (trustee !== ours) {
      throw new CollateralError(
        'HORDE_COLLATERAL_NOT_TRUSTEE',
        `validator.collateral.evmKeyFile holds ${ours}, but the trustee of ${this.contract.address} is ${trustee}: slashes would be refused`,
      );
    }
    return trustee;
  }

  /**
   * `recheck`: first look for a `Slashed` event with this job's reason (a slash that landed before
   * the validator could record it, e.g. a crash in between) and return it instead of slashing again.
   */
  slash(jobUuid: string, minerHotkey: string, options: { signal?: AbortSignal; recheck?: boolean } = {}): Promise<SlashDone> {
    return this.oneAtATime(() => this.slashNow(jobUuid, minerHotkey, options.signal, options.recheck ?? false));
  }

  private async slashNow(jobUuid: string, minerHotkey: string, signal: AbortSignal | undefined, recheck: boolean): Promise<SlashDone> {
    if (this.settings.amountWei <= 0n)
      throw new CollateralError('HORDE_COLLATERAL_BAD_INPUT', 'validator.collateral.slashAmountWei is 0: slashing is off');
    const reason = slashReasonFor(this.settings.reason, jobUuid, minerHotkey);
    const backoff = this.settings.backoffMs ?? defaultBackoff;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const key = await this.trusteeKey();
        // The address routing relied on (the last snapshot), as the original slashes the address
        // it synced: a miner that re-associates a fresh, empty key right after cheating does not
        // move the slash off the deposit that got it the job. Fresh from the chain only when the
        // snapshot does not know the miner.
        const evmAddress = this.book.snapshot()?.miners.get(minerHotkey)?.evmAddress ?? (await this.book.evmAddressOf(minerHotkey));
        if (recheck) {
          const landed = (await this.contract.slashes(evmAddress)).find((slash) => slash.url === reason);
          if (landed)
            return {
              tx: { hash: landed.tx, blockNumber: landed.blockNumber },
              evmAddress,
              amountWei: landed.amountWei,
              reason,
              attempts: attempt - 1,
            };
        }
        const tx = await this.contract.slash(key, evmAddress, this.settings.amountWei, reason);
        return { tx, evmAddress, amountWei: this.settings.amountWei, reason, attempts: attempt };
      } catch (err) {
        const error =
          err instanceof CollateralError ? err : new CollateralError('HORDE_COLLATERAL_RPC_ERROR', (err as Error).message, { cause: err });
        if (!error.transient || attempt >= this.settings.attempts || signal?.aborted) throw error;
        const waitMs = backoff(attempt);
        this.logger.warn(
          { jobUuid, minerHotkey, code: error.code, err: error.message, attempt, retryInMs: waitMs },
          'collateral: slash failed, trying again',
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
        if (signal?.aborted) throw error;
      }
    }
  }
}
