import { z } from 'zod';
import { evmAddress } from './client.js';
import { CollateralError } from './errors.js';

/**
 * How a validator tells miners where its collateral contract is: its knowledge commitment holds
 * `{"contract": {"address": "0x…"}}`, the JSON ComputeHorde's validator reads back
 * (`_get_collateral_contract_address`) and miners' scripts look up.
 */
const commitmentSchema = z.object({ contract: z.object({ address: z.string() }) });

export function contractCommitment(address: string): string {
  return JSON.stringify({ contract: { address: evmAddress(address, 'the collateral contract address') } });
}

/** The contract address in a validator's commitment; HORDE_COLLATERAL_BAD_INPUT when there is none. */
export function contractFromCommitment(commitment: string | null, validatorHotkey: string): string {
  if (commitment === null)
    throw new CollateralError(
      'HORDE_COLLATERAL_BAD_INPUT',
      `validator ${validatorHotkey} has no commitment, so no published collateral contract`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(commitment);
  } catch {
    throw new CollateralError(
      'HORDE_COLLATERAL_BAD_INPUT',
      `validator ${validatorHotkey}'s commitment is not the collateral JSON {"contract": {"address": …}}`,
    );
  }
  const data = commitmentSchema.safeParse(parsed);
  if (!data.success)
    throw new CollateralError('HORDE_COLLATERAL_BAD_INPUT', `validator ${validatorHotkey}'s commitment names no collateral contract`);
  return evmAddress(data.data.contract.address, `the contract in validator ${validatorHotkey}'s commitment`);
}
