/**
 * From the runtime API's `Metagraph` (`SubnetInfoRuntimeApi.get_metagraph`) to the `Metagraph` and
 * `SubnetHyperparameters` of the Chain contract.
 *
 * Why `get_metagraph` rather than `NeuronInfoRuntimeApi.get_neurons_lite`: it is one call that
 * carries the stake split the contract needs (`alpha_stake`, `tao_stake`, `total_stake`; the lite
 * neurons only carry alpha), the axons, permits and activity, and the hyperparameters — the same
 * source the SDK's `get_metagraph_info` uses.
 *
 * The SCALE decoding is done by @polkadot/types from the chain's metadata; the decoded value is
 * still checked with zod before use, since it crossed a process boundary.
 */
import { z } from 'zod';
import type { AxonInfo, Metagraph, Neuron, SubnetHyperparameters } from '../../contracts/index.js';
import { ChainError } from '../errors.js';
import { intToIp } from '../ip.js';
import { U16_MAX } from '../weight-conversion.js';

/** TAO and alpha have 9 decimals; the chain counts rao. */
export const RAO_PER_TAO = 1e9;

// Codec.toPrimitive() gives numbers up to 2^53 and decimal strings above.
const bigUint = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform((v) => BigInt(v));
const small = z.number().int().nonnegative();

const axonSchema = z.object({
  block: bigUint,
  version: small,
  ip: bigUint,
  port: small,
  ipType: small,
  protocol: small,
});

/** The fields of the runtime `Metagraph` struct horde uses (others are ignored). */
export const runtimeMetagraphSchema = z.object({
  netuid: small,
  block: bigUint,
  tempo: small,
  minAllowedWeights: small,
  maxWeightsLimit: small,
  weightsVersion: bigUint,
  weightsRateLimit: bigUint,
  commitRevealWeightsEnabled: z.boolean(),
  commitRevealPeriod: bigUint,
  hotkeys: z.array(z.string()),
  coldkeys: z.array(z.string()),
  axons: z.array(axonSchema),
  active: z.array(z.boolean()),
  validatorPermit: z.array(z.boolean()),
  lastUpdate: z.array(bigUint),
  incentives: z.array(small),
  alphaStake: z.array(bigUint),
  taoStake: z.array(bigUint),
  totalStake: z.array(bigUint),
});

export type RuntimeMetagraph = z.output<typeof runtimeMetagraphSchema>;

function raoToUnits(rao: bigint): number {
  return Number(rao) / RAO_PER_TAO;
}

function axonOf(axon: z.output<typeof axonSchema>): AxonInfo | null {
  if (axon.ip === 0n || (axon.ipType !== 4 && axon.ipType !== 6)) return null;
  return { ip: intToIp(axon.ip, axon.ipType), port: axon.port, ipType: axon.ipType, protocol: axon.protocol, version: axon.version };
}

/** Parses `toPrimitive()` of the decoded runtime `Metagraph`; throws `ChainError('InvalidChainReply')` on a shape it does not know. */
export function parseRuntimeMetagraph(primitive: unknown): RuntimeMetagraph {
  const parsed = runtimeMetagraphSchema.safeParse(primitive);
  if (!parsed.success) {
    throw new ChainError(
      'InvalidChainReply',
      `the chain's metagraph reply has an unexpected shape: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const m = parsed.data;
  const n = m.hotkeys.length;
  const vectors = {
    coldkeys: m.coldkeys,
    axons: m.axons,
    active: m.active,
    validatorPermit: m.validatorPermit,
    lastUpdate: m.lastUpdate,
    incentives: m.incentives,
    alphaStake: m.alphaStake,
    taoStake: m.taoStake,
    totalStake: m.totalStake,
  };
  for (const [name, vector] of Object.entries(vectors)) {
    if (vector.length !== n)
      throw new ChainError('InvalidChainReply', `the chain's metagraph has ${n} hotkeys but ${vector.length} ${name}`);
  }
  return m;
}

export function toMetagraph(m: RuntimeMetagraph): Metagraph {
  const neurons: Neuron[] = m.hotkeys.map((hotkey, uid) => ({
    uid,
    hotkey,
    coldkey: m.coldkeys[uid]!,
    stake: { alpha: raoToUnits(m.alphaStake[uid]!), tao: raoToUnits(m.taoStake[uid]!), total: raoToUnits(m.totalStake[uid]!) },
    validatorPermit: m.validatorPermit[uid]!,
    active: m.active[uid]!,
    axon: axonOf(m.axons[uid]!),
    incentive: m.incentives[uid]! / U16_MAX,
    lastUpdate: Number(m.lastUpdate[uid]!),
  }));
  return { netuid: m.netuid, block: Number(m.block), neurons };
}

export function toHyperparameters(m: RuntimeMetagraph): SubnetHyperparameters {
  return {
    tempo: m.tempo,
    weightsRateLimit: Number(m.weightsRateLimit),
    minAllowedWeights: m.minAllowedWeights,
    maxWeightsLimit: m.maxWeightsLimit,
    commitRevealEnabled: m.commitRevealWeightsEnabled,
    revealPeriodEpochs: Number(m.commitRevealPeriod),
    weightsVersion: Number(m.weightsVersion),
  };
}
