import { describe, expect, it } from 'vitest';
import type { Metagraph, Neuron } from '../../contracts/index.js';
import { MinerRouter } from './routing.js';

const CLASS = 'always_on.test';

function neuron(uid: number, hotkey: string, axon = true): Neuron {
  return {
    uid,
    hotkey,
    coldkey: `cold-${hotkey}`,
    stake: { alpha: 0, tao: 0, total: 0 },
    validatorPermit: false,
    active: true,
    axon: axon ? { ip: '127.0.0.1', port: 9000 + uid, ipType: 4, protocol: 4, version: 1 } : null,
    incentive: 0,
    lastUpdate: 0,
  };
}

const metagraph: Metagraph = {
  netuid: 12,
  block: 1,
  neurons: [neuron(0, 'validator'), neuron(1, 'a'), neuron(2, 'b'), neuron(3, 'c'), neuron(4, 'no-axon', false), neuron(5, 'unknown')],
};

/** A random source that yields the given values in turn. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('MinerRouter', () => {
  it("skips a miner whose executors other validators' organic jobs fill, by transferred receipts", () => {
    const router = new MinerRouter('validator', sequence(0.5));
    const stored = { a: { [CLASS]: 2 }, b: { [CLASS]: 1 } };
    const busyElsewhere = new Map([
      ['a', 1],
      ['b', 1],
    ]);
    expect(router.candidates(metagraph, CLASS, { blacklisted: new Set(), stored, busyElsewhere }).map((t) => t.hotkey)).toEqual([
      'a',
      'c',
      'unknown',
    ]);
    // One of a's two executors is taken by another validator; this validator's own job takes the other.
    router.reserve('a', CLASS, 1);
    expect(router.hasRoom('a', CLASS, stored.a, busyElsewhere)).toBe(false);
    expect(router.hasRoom('a', CLASS, stored.a)).toBe(true);
  });

  it('offers miners serving an axon whose manifest fits, then miners with no known manifest; never itself or blacklisted ones', () => {
    const router = new MinerRouter('validator', sequence(0.5));
    const stored = { a: { [CLASS]: 1 }, b: { [CLASS]: 2 }, c: { 'always_on.gpu': 4 } };
    const order = router.candidates(metagraph, CLASS, { blacklisted: new Set(['b']), stored }).map((t) => t.hotkey);
    expect(order).toEqual(['a', 'unknown']);
    expect(router.candidates(metagraph, CLASS, { blacklisted: new Set(), stored })[0]).toMatchObject({
      host: '127.0.0.1',
      port: 9001,
      uid: 1,
      coldkey: 'cold-a',
    });
  });

  it('skips a miner whose busy executors reach its manifest and frees it when the job ends', () => {
    const router = new MinerRouter('validator', sequence(0.1, 0.2, 0.3));
    const stored = { a: { [CLASS]: 1 }, b: { [CLASS]: 2 }, c: { [CLASS]: 1 } };
    router.reserve('a', CLASS, 1_000);
    router.reserve('b', CLASS, 1_001);
    const names = () => router.candidates(metagraph, CLASS, { blacklisted: new Set(), stored }).map((t) => t.hotkey);
    // a is full (1 of 1), b has room (1 of 2) but was used; c never was.
    expect(names()).toEqual(['c', 'b', 'unknown']);
    router.release('a', CLASS);
    expect(names()).toEqual(['c', 'a', 'b', 'unknown']);
  });

  it('prefers the manifest a miner just sent over the one stored from a batch', () => {
    const router = new MinerRouter('validator');
    router.rememberManifest('a', { [CLASS]: 0 });
    expect(
      router.candidates(metagraph, CLASS, { blacklisted: new Set(), stored: { a: { [CLASS]: 3 } } }).map((t) => t.hotkey),
    ).not.toContain('a');
  });

  it('picks at random among equally idle miners', () => {
    const stored = { a: { [CLASS]: 1 }, b: { [CLASS]: 1 }, c: { [CLASS]: 1 } };
    const first = (values: number[]) =>
      new MinerRouter('validator', sequence(...values)).candidates(metagraph, CLASS, { blacklisted: new Set(), stored })[0]!.hotkey;
    // Tie-break draws are made in metagraph order (a, b, c, unknown): the lowest draw goes first.
    expect(first([0.9, 0.1, 0.5, 0])).toBe('b');
    expect(first([0.9, 0.5, 0.1, 0])).toBe('c');
  });
});
