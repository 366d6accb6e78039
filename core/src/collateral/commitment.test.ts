import { describe, expect, it } from 'vitest';
import { contractCommitment, contractFromCommitment } from './commitment.js';

describe('collateral contract commitment', () => {
  const address = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
  it('writes and reads ComputeHorde\'s {"contract": {"address": …}}', () => {
    expect(contractCommitment(address.toLowerCase())).toBe(`{"contract":{"address":"${address}"}}`);
    expect(contractFromCommitment(`{"contract":{"address":"${address.toLowerCase()}"}}`, 'v')).toBe(address);
  });
  it('refuses a commitment that is absent, not JSON, without a contract, or with a bad address', () => {
    for (const bad of [null, '<M:C4;L2>', '{"manifest":1}', '{"contract":{"address":"0x12"}}']) {
      expect(() => contractFromCommitment(bad, 'v')).toThrow(expect.objectContaining({ code: 'HORDE_COLLATERAL_BAD_INPUT' }));
    }
  });
});
