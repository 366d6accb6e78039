import type { AxonInfo, Chain, SubnetHyperparameters, WeightVector } from '../../contracts/index.js';
import { formatTable } from './shared.js';

/**
 * `horde chain show --network finney|test|ws://…`: the same view as for the LocalChain, read through
 * the `Chain` contract from any subtensor node: metagraph, hyperparameters (with the commit-reveal
 * mode horde would use there), weights and knowledge commitments. Read-only: the handle is opened
 * with a throwaway key that signs nothing, and an in-memory store.
 */

/** The mode horde's weight submitter picks on a subnet with these hyperparameters, in words. */
export function commitRevealModeLabel(hyper: SubnetHyperparameters): string {
  if (!hyper.commitRevealEnabled) return 'off (set_weights)';
  if (hyper.commitRevealVersion === 4)
    return `timelocked (v4, drand quicknet), revealed ${hyper.revealPeriodEpochs} epoch(s) after the commit by the chain`;
  return `hash commits (v2${hyper.commitRevealVersion === undefined ? '' : `; chain version ${hyper.commitRevealVersion}`}), revealed ${hyper.revealPeriodEpochs} epoch(s) after the commit`;
}

/** An axon as `ip:port` (`[ip]:port` for IPv6), `-` when the neuron never served one. */
export function axonEndpoint(axon: AxonInfo | null): string {
  if (!axon) return '-';
  return `${axon.ipType === 6 ? `[${axon.ip}]` : axon.ip}:${axon.port}`;
}

/** The WEIGHTS section both chain views print: one row per setter, `uid:weight` pairs. */
export function weightsSection(weights: ReadonlyMap<number, WeightVector>): string[] {
  if (weights.size === 0) return ['', 'WEIGHTS', '  (none set or revealed yet)'];
  return [
    '',
    'WEIGHTS',
    formatTable([
      ['FROM UID', 'TO UID:WEIGHT'],
      ...[...weights].map(([uid, row]) => [String(uid), row.map((w) => `${w.uid}:${w.weight.toFixed(4)}`).join(' ')]),
    ]),
  ];
}

export async function showRemoteChain(network: string, netuid: number, json: boolean): Promise<void> {
  const [{ openStore }, { loadHotkey }, { SubtensorChain }, { randomUUID }] = await Promise.all([
    import('../../store/index.js'),
    import('../../keys/index.js'),
    import('../../chain/subtensor/subtensor-chain.js'),
    import('node:crypto'),
  ]);
  const store = await openStore({ client: 'sqlite', filename: ':memory:' });
  let chain: Chain | null = null;
  try {
    // Never used to sign: show only reads.
    const reader = await loadHotkey({ uri: `//horde-chain-show/${randomUUID()}` });
    chain = await SubtensorChain.connect({ network, hotkey: reader, store });
    const [graph, hyper, weights] = await Promise.all([chain.metagraph(netuid), chain.hyperparameters(netuid), chain.weights(netuid)]);
    const commitments = new Map<string, string>();
    const open = chain;
    await Promise.all(
      graph.neurons.map(async (n) => {
        const text = await open.commitment(netuid, n.hotkey);
        if (text !== null) commitments.set(n.hotkey, text);
      }),
    );
    if (json) {
      const out = {
        network,
        netuid,
        block: graph.block,
        hyperparameters: hyper,
        commitReveal: commitRevealModeLabel(hyper),
        neurons: graph.neurons.map((n) => ({ ...n, commitment: commitments.get(n.hotkey) ?? null })),
        weights: Object.fromEntries([...weights].map(([uid, row]) => [uid, row])),
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return;
    }
    const lines = [
      `${network} subnet ${netuid} at block ${graph.block} (tempo ${hyper.tempo}, weights rate limit ${hyper.weightsRateLimit}, version key ${hyper.weightsVersion})`,
      `commit-reveal: ${commitRevealModeLabel(hyper)}`,
      '',
    ];
    if (graph.neurons.length === 0) lines.push('No neurons registered.');
    else {
      lines.push(
        formatTable([
          ['UID', 'HOTKEY', 'STAKE', 'PERMIT', 'ACTIVE', 'AXON', 'INCENTIVE', 'LAST UPDATE', 'COMMITMENT'],
          ...graph.neurons.map((n) => [
            String(n.uid),
            n.hotkey,
            n.stake.total.toFixed(4),
            n.validatorPermit ? 'yes' : 'no',
            n.active ? 'yes' : 'no',
            axonEndpoint(n.axon),
            n.incentive.toFixed(4),
            String(n.lastUpdate),
            commitments.get(n.hotkey) ?? '-',
          ]),
        ]),
      );
    }
    lines.push(...weightsSection(weights));
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await chain?.close();
    await store.close();
  }
}
