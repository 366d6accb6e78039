/** Axon endpoint a neuron serves (`serve_axon`). */
export interface AxonInfo {
  readonly ip: string;
  readonly port: number;
  readonly ipType: 4 | 6;
  readonly protocol: number;
  readonly version: number;
}

export interface Neuron {
  readonly uid: number;
  readonly hotkey: string;
  readonly coldkey: string;
  /** Stake in whole units (TAO / alpha), not rao. `total = alpha + tao × TaoWeight`. */
  readonly stake: { readonly alpha: number; readonly tao: number; readonly total: number };
  readonly validatorPermit: boolean;
  readonly active: boolean;
  /** Null when the neuron never served an axon (ip 0). */
  readonly axon: AxonInfo | null;
  /** Normalised incentive in [0, 1] from the last epoch. */
  readonly incentive: number;
  /** Block of the neuron's last weight update. */
  readonly lastUpdate: number;
}

export interface Metagraph {
  readonly netuid: number;
  /** Block the metagraph was read at. */
  readonly block: number;
  readonly neurons: readonly Neuron[];
}

export interface SubnetHyperparameters {
  readonly tempo: number;
  /** Blocks a hotkey must wait between two weight submissions. */
  readonly weightsRateLimit: number;
  readonly minAllowedWeights: number;
  /** Largest share one uid may get, as a u16 fraction of 65535. */
  readonly maxWeightsLimit: number;
  readonly commitRevealEnabled: boolean;
  /** Reveal happens this many epochs after the commit epoch. */
  readonly revealPeriodEpochs: number;
  /** `version_key` submitted weights must be at least. */
  readonly weightsVersion: number;
  /**
   * `CommitRevealWeightsVersion` (chain-wide): 4 means commits are drand-timelocked and the chain
   * reveals them itself. Absent where the chain does not say (older runtimes: hash commits only).
   */
  readonly commitRevealVersion?: number;
}

/**
 * How weights went on chain: plain `set_weights`, a CR-v2 hash commit revealed by us later, or a
 * v4 drand-timelocked commit the chain decrypts and reveals itself at `revealRound`.
 */
export type WeightSubmissionMode = 'set_weights' | 'commit_reveal_v2' | 'timelocked_v4';

/** Normalised weights by uid (any non-negative numbers; the chain adapter converts to u16). */
export type WeightVector = ReadonlyArray<{ readonly uid: number; readonly weight: number }>;

export type WeightSubmissionResult =
  /** Plain `set_weights` landed (commit-reveal off). */
  | { readonly status: 'set'; readonly block: number; readonly mode?: 'set_weights' }
  /**
   * A commit landed; the reveal is due at `revealBlock`: sent by `revealPendingWeights` (v2), or
   * made by the chain once drand's pulse of `revealRound` is on chain (v4, timelocked).
   */
  | {
      readonly status: 'committed';
      readonly block: number;
      readonly revealBlock: number;
      readonly mode?: 'commit_reveal_v2' | 'timelocked_v4';
      readonly revealRound?: number;
    }
  /** Too soon after the last submission; nothing was sent. */
  | { readonly status: 'rate_limited'; readonly blocksRemaining: number; readonly nextBlock: number };

export interface RevealResult {
  readonly commitBlock: number;
  readonly status: 'revealed' | 'not_yet' | 'expired' | 'failed';
  readonly block?: number;
  readonly error?: string;
}

/**
 * Access to a subtensor-like chain, acting as one hotkey (the process's own). Implementations:
 * `SubtensorChain` (finney, test, a local node through @polkadot/api) and `LocalChain` (an embedded
 * chain kept in the store, for the devnet and tests).
 *
 * Errors are `ChainError`s with the pallet's error name in `code` where the chain gave one
 * (`SettingWeightsTooFast`, `InvalidRevealCommitHashNotMatch`, `CommitRevealEnabled`, …).
 */
export interface Chain {
  /** `finney`, `test`, `local` or the endpoint URL. */
  readonly network: string;
  /** ss58 address of the hotkey this chain client signs with. */
  readonly hotkey: string;
  currentBlock(): Promise<number>;
  /**
   * The chain's own clock: the latest block's timestamp (ms since the epoch, `Timestamp.now`), for
   * `horde doctor`'s clock-skew check. Absent where the chain has no clock of its own (LocalChain
   * counts blocks on this machine's clock).
   */
  chainTime?(): Promise<number>;
  /** Calls `listener` with each new block number; returns a function that stops the stream. */
  onBlock(listener: (block: number) => void): () => void;
  metagraph(netuid: number): Promise<Metagraph>;
  hyperparameters(netuid: number): Promise<SubnetHyperparameters>;
  /**
   * Puts weights on chain the way the subnet requires: refuses (without sending) before the rate
   * limit has passed, commits (CR-v2: hash now, reveal later, salt kept in the store so a restart
   * still reveals) when commit-reveal is on, plain `set_weights` when it is off.
   *
   * `submissionKey` names what the weights are for (the validator passes its cycle): a CR-v2
   * commit is stored with it before it is sent, and a later call with the same key (a restart that
   * lost its record of the commit) reconciles with the chain instead of committing again: the
   * commit on chain is answered as `committed`; one that never landed is made again.
   */
  submitWeights(
    netuid: number,
    weights: WeightVector,
    versionKey?: number,
    options?: { readonly submissionKey?: string },
  ): Promise<WeightSubmissionResult>;
  /** Sends the reveals of stored commits whose reveal epoch has come; call it every few blocks. */
  revealPendingWeights(netuid: number): Promise<RevealResult[]>;
  /** Weights each validator uid has set (revealed), by uid. */
  weights(netuid: number): Promise<ReadonlyMap<number, WeightVector>>;
  serveAxon(netuid: number, axon: Omit<AxonInfo, 'ipType'> & { ipType?: 4 | 6 }): Promise<void>;
  /** Knowledge commitment of a hotkey (a miner's manifest lives in it as `<M:…>`); null if none. */
  commitment(netuid: number, hotkey: string): Promise<string | null>;
  /** Writes this hotkey's knowledge commitment (≤ 128 bytes). */
  setCommitment(netuid: number, data: string): Promise<void>;
  /**
   * `AssociatedEvmAddress` of the subnet: uid → H160 a hotkey associated with
   * `associate_evm_key` (where miners' collateral is deposited from). Absent on chains that
   * cannot tell.
   */
  associatedEvmAddresses?(netuid: number): Promise<ReadonlyMap<number, string>>;
  /**
   * `associate_evm_key` for this chain's hotkey: `signature` is the EVM key's EIP-191 signature
   * of the hotkey's public key ++ keccak256(`blockNumber` as little-endian u64).
   */
  associateEvmKey?(netuid: number, evmKey: string, blockNumber: number, signature: `0x${string}`): Promise<void>;
  close(): Promise<void>;
}
