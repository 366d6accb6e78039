// Miner collateral on the subtensor EVM: the contract (ours, after bactensor/collateral-contracts),
// its client (viem), hotkey → EVM address → deposit, and slashing.
export { associationMessage, readEvmKeyFile, signAssociation, verifyAssociation } from './association.js';
export { CollateralBook, type CollateralBookDeps, type CollateralSnapshot, type MinerCollateral } from './book.js';
export {
  CollateralContract,
  collateralErrorOf,
  deployCollateralContract,
  evmAccount,
  evmAddress,
  reasonChecksum,
  type CollateralDeployment,
  type CollateralEndpoint,
  type CollateralTx,
} from './client.js';
export { COLLATERAL_ABI, COLLATERAL_BYTECODE, COLLATERAL_SOLC_VERSION } from './contract/artifact.js';
export { CollateralError, type CollateralErrorCode } from './errors.js';
export { CollateralSlasher, slashReasonFor, type SlashDone, type SlasherSettings } from './slasher.js';
export { validatorCollateral, type ValidatorCollateral } from './from-settings.js';
export { contractCommitment, contractFromCommitment } from './commitment.js';
