import { describe, expect, it } from 'vitest';
import { parseConfig } from '../load.js';
import { collateralSection } from './collateral.js';

describe('validator.collateral config', () => {
  it("is off by default, with ComputeHorde's minimum and slash amounts", () => {
    expect(collateralSection.parse({})).toMatchObject({
      contractAddress: null,
      chainId: 964,
      minimumWei: '10000000000000000',
      slashAmountWei: '5000000000000000',
      evmKeyFile: null,
    });
  });

  it('takes wei as a string of digits or a safe number, and refuses a number that lost digits', () => {
    expect(collateralSection.parse({ minimumWei: '123456789012345678901', slashAmountWei: 5 })).toMatchObject({
      minimumWei: '123456789012345678901',
      slashAmountWei: '5',
    });
    expect(() => parseConfig({ plugins: [], validator: { collateral: { minimumWei: 10_000_000_000_000_001 } } })).toThrow(
      /write the amount in quotes/,
    );
    expect(() => parseConfig({ plugins: [], validator: { collateral: { minimumWei: '0.01' } } })).toThrow(
      /validator\.collateral\.minimumWei/,
    );
    expect(() => parseConfig({ plugins: [], validator: { collateral: { contractAddress: '0x1234' } } })).toThrow(
      /validator\.collateral\.contractAddress/,
    );
  });

  it('resolves the EVM key file relative to the config file', () => {
    const config = parseConfig(
      { plugins: [], validator: { collateral: { evmKeyFile: 'keys/v.json' } } },
      { configFile: '/srv/horde/horde.config.yaml' },
    );
    expect(config.validator.collateral.evmKeyFile).toBe('/srv/horde/keys/v.json');
  });
});
