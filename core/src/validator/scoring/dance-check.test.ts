import { describe, expect, it } from 'vitest';
import { neuron } from '../../testkit/index.js';
import { mainHotkeyFacts, verifyDance } from './dance-check.js';

const neurons = [neuron({ hotkey: 'a', coldkey: 'c' }), neuron({ hotkey: 'b', coldkey: 'c' }), neuron({ hotkey: 'x', coldkey: 'other' })];
const on = (hotkey: string, count = 4) => ({ [hotkey]: { 'always_on.test': count } });

describe('verifyDance', () => {
  const base = { coldkey: 'c', neurons };

  it('accepts a main hotkey change that took the executors with it', () => {
    expect(verifyDance({ ...base, current: 'b', previous: 'a', manifests: on('b'), previousManifests: on('a') })).toBeNull();
  });

  it('refuses a change to a hotkey that is not registered, or registered under another coldkey', () => {
    expect(verifyDance({ ...base, current: 'ghost', previous: 'a', manifests: on('a'), previousManifests: on('a') })).toBe(
      'not_registered_under_coldkey',
    );
    expect(verifyDance({ ...base, current: 'x', previous: 'a', manifests: on('x'), previousManifests: on('a') })).toBe(
      'not_registered_under_coldkey',
    );
  });

  it('refuses two registered hotkeys that swap the main title while the executors stay put', () => {
    expect(verifyDance({ ...base, current: 'b', previous: 'a', manifests: on('a'), previousManifests: on('a') })).toBe(
      'executors_did_not_move',
    );
    // Executors appearing on the new main while the old one keeps its own is growth, not a move.
    expect(verifyDance({ ...base, current: 'b', previous: 'a', manifests: { ...on('a'), ...on('b') }, previousManifests: on('a') })).toBe(
      'executors_did_not_move',
    );
  });

  it('refuses what it cannot check: no change, an unknown main hotkey, no batch in the previous cycle', () => {
    expect(verifyDance({ ...base, current: 'a', previous: 'a', manifests: on('a'), previousManifests: on('a') })).toBe('no_change');
    expect(verifyDance({ ...base, current: 'b', previous: null, manifests: on('b'), previousManifests: on('a') })).toBe(
      'main_hotkey_unknown',
    );
    expect(verifyDance({ ...base, current: 'b', previous: 'a', manifests: on('b'), previousManifests: null })).toBe('no_manifests');
  });

  it('builds the mainHotkeys fact per coldkey', () => {
    const facts = mainHotkeyFacts({
      current: new Map([['c', 'b']]),
      previous: new Map([
        ['c', 'a'],
        ['other', 'x'],
      ]),
      neurons,
      manifests: on('b'),
      previousManifests: on('a'),
    });
    expect(facts).toEqual({
      c: { current: 'b', previous: 'a', verifiedDance: true },
      other: { current: null, previous: 'x', verifiedDance: false },
    });
  });
});
