/**
 * The reviewed artifact (artifact.ts, what the runtime deploys and calls) is what Collateral.sol
 * compiles to with solc from npm: a change to the contract without regenerating the artifact
 * (`node core/scripts/collateral-artifact.mjs`), or a hand edit of the artifact, fails here.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { compileCollateral } from '../../../scripts/collateral-artifact.mjs';
import { COLLATERAL_ABI, COLLATERAL_BYTECODE, COLLATERAL_SOLC_VERSION } from './artifact.js';

describe('collateral contract artifact', () => {
  it('matches a fresh compilation of Collateral.sol', () => {
    const fresh = compileCollateral() as { abi: unknown; bytecode: string; solcVersion: string };
    expect(fresh.solcVersion).toBe(COLLATERAL_SOLC_VERSION);
    expect(fresh.abi).toEqual(COLLATERAL_ABI);
    expect(fresh.bytecode).toBe(COLLATERAL_BYTECODE);
  }, 60_000);

  it("keeps the ABI of ComputeHorde's contract (the functions validators and miners call)", () => {
    const functions = COLLATERAL_ABI.filter((item) => item.type === 'function').map(
      (item) => `${item.name}(${item.inputs.map((i) => i.type).join(',')})`,
    );
    expect(functions).toEqual(
      expect.arrayContaining([
        'deposit()',
        'collaterals(address)',
        'slashCollateral(address,uint256,string,bytes16)',
        'reclaimCollateral(uint256,string,bytes16)',
        'finalizeReclaim(uint256)',
        'denyReclaimRequest(uint256,string,bytes16)',
        'TRUSTEE()',
        'NETUID()',
        'MIN_COLLATERAL_INCREASE()',
        'DECISION_TIMEOUT()',
      ]),
    );
  });
});
