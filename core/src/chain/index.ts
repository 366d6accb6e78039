// The Chain contract's implementations and the pieces they share. SubtensorChain is exported as a
// type plus a lazy loader's target: importing this index does not load @polkadot/api.
export { weightCommitHash, encodeWeightCommitPreimage, randomSalt, type WeightCommitPreimage } from './commit-hash.js';
export { blocksUntilNextEpoch, epochIndex, firstBlockOfEpoch, revealWindow, type RevealWindow } from './epochs.js';
export {
  ChainConfigError,
  ChainError,
  CommitmentError,
  CUSTOM_TRANSACTION_ERRORS,
  InvalidAddressError,
  InvalidWeightsError,
  isChainVerdict,
  UNCERTAIN_OUTCOME_CODES,
} from './errors.js';
export { intToIp, InvalidIpError, ipToInt } from './ip.js';
export { computeConsensus, type ConsensusInput, type ConsensusResult } from './local/consensus.js';
export {
  DEFAULT_LOCAL_SUBNET,
  LocalLedger,
  type AddStakeOptions,
  type LocalChainInitOptions,
  type LocalChainMeta,
  type LocalSubnetParams,
  type RegisterNeuronOptions,
} from './local/ledger.js';
export { LocalChain, type LocalChainOptions } from './local/local-chain.js';
export {
  COMPUTE_HORDE_SHORT_CODES,
  decodeManifestCommitment,
  encodeManifestCommitment,
  extractManifestPayload,
  formatManifest,
  MAX_COMMITMENT_BYTES,
  parseManifest,
  type Manifest,
} from './manifest-commitment.js';
export { localChainInitOptions, openChain, type OpenChainOptions } from './open-chain.js';
export { SUBTENSOR_ENDPOINTS, subtensorEndpoint } from './subtensor/networks.js';
export type { ChainSigner, SubtensorChain, SubtensorChainOptions } from './subtensor/subtensor-chain.js';
export { WeightCommitStore, type StoredWeightCommit, type WeightCommitStatus } from './weight-commit-store.js';
export {
  convertWeightsForEmit,
  normalizeMaxWeight,
  prepareWeightsForChain,
  processWeights,
  roundHalfEven,
  U16_MAX,
} from './weight-conversion.js';
export {
  rateLimitWait,
  WeightSubmitter,
  type OnChainWeightCommit,
  type WeightsBackend,
  type WeightsChainState,
} from './weight-submitter.js';
export * from './timelock/index.js';
export {
  epochWithLookahead,
  nextEpochStartBlock,
  predictReveal,
  revealRoundFor,
  shouldRunEpoch,
  stepBlock,
  type EpochScheduleState,
  type RevealPrediction,
} from './epoch-schedule.js';
