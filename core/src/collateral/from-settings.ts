import type { CollateralSection } from '../config/sections/collateral.js';
import type { Chain, Clock, Logger } from '../contracts/index.js';
import { CollateralBook } from './book.js';
import { CollateralContract } from './client.js';
import { CollateralSlasher } from './slasher.js';

/** What a validator routes and slashes by, built from `validator.collateral`. */
export interface ValidatorCollateral {
  readonly contract: CollateralContract;
  readonly book: CollateralBook;
  readonly slasher: CollateralSlasher | null;
  readonly minimumWei: bigint;
  readonly slashAttempts: number;
}

/**
 * Null while `contractAddress` is unset (collateral off). Slashing needs `evmKeyFile` and a slash
 * amount above 0; without them the validator still filters by collateral and logs that it will
 * not slash. Nothing here touches the network: the book's first refresh does.
 */
export function validatorCollateral(
  settings: CollateralSection,
  deps: { chain: Chain; netuid: number; clock: Clock; logger: Logger },
): ValidatorCollateral | null {
  if (!settings.contractAddress) return null;
  const contract = new CollateralContract({
    rpcUrl: settings.rpcUrl,
    chainId: settings.chainId,
    contractAddress: settings.contractAddress,
    timeoutMs: settings.rpcTimeoutSeconds * 1000,
  });
  const book = new CollateralBook({ chain: deps.chain, netuid: deps.netuid, contract, clock: deps.clock, logger: deps.logger });
  const amountWei = BigInt(settings.slashAmountWei);
  const log = deps.logger.child({ component: 'collateral' });
  let slasher: CollateralSlasher | null = null;
  if (settings.evmKeyFile && amountWei > 0n) {
    slasher = new CollateralSlasher(
      contract,
      book,
      { amountWei, reason: settings.slashReason, evmKeyFile: settings.evmKeyFile, attempts: settings.slashAttempts },
      log,
    );
  } else {
    log.warn(
      { evmKeyFile: settings.evmKeyFile, slashAmountWei: settings.slashAmountWei },
      'collateral: slashing is off (set validator.collateral.evmKeyFile and a slashAmountWei above 0)',
    );
  }
  log.info(
    {
      contract: contract.address,
      rpcUrl: settings.rpcUrl,
      chainId: settings.chainId,
      minimumWei: settings.minimumWei,
      slashAmountWei: settings.slashAmountWei,
    },
    'collateral on',
  );
  return { contract, book, slasher, minimumWei: BigInt(settings.minimumWei), slashAttempts: settings.slashAttempts };
}
