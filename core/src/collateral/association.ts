import { readFile } from 'node:fs/promises';
import { concat, getAddress, keccak256, numberToBytes, recoverMessageAddress, type Address, type Hex } from 'viem';
import { z } from 'zod';
import { evmAccount } from './client.js';
import { CollateralError } from './errors.js';

/**
 * The message an EVM key signs to be associated with a hotkey (subtensor's `associate_evm_key`):
 * the hotkey's 32-byte public key followed by keccak256 of the block number as a little-endian
 * u64, signed as an EIP-191 personal message. Written after bactensor/collateral-contracts
 * scripts/subtensor.py (which cites subtensor's pallets/subtensor/src/tests/evm.rs).
 */
export function associationMessage(hotkeyPublicKey: Uint8Array, blockNumber: number): Uint8Array {
  if (hotkeyPublicKey.length !== 32) throw new CollateralError('HORDE_COLLATERAL_BAD_INPUT', 'a hotkey public key is 32 bytes');
  const block = numberToBytes(BigInt(blockNumber), { size: 8 }).reverse();
  return concat([hotkeyPublicKey, keccak256(block, 'bytes')]);
}

/** The signature `associate_evm_key` takes, made with the EVM private key. */
export async function signAssociation(
  evmPrivateKey: string,
  hotkeyPublicKey: Uint8Array,
  blockNumber: number,
): Promise<{ evmAddress: Address; signature: Hex }> {
  const account = evmAccount(evmPrivateKey);
  const signature = await account.signMessage({ message: { raw: associationMessage(hotkeyPublicKey, blockNumber) } });
  return { evmAddress: account.address, signature };
}

/** Whether `signature` is `evmAddress`'s signature of the association message. */
export async function verifyAssociation(
  evmAddress: string,
  signature: Hex,
  hotkeyPublicKey: Uint8Array,
  blockNumber: number,
): Promise<boolean> {
  try {
    const signer = await recoverMessageAddress({ message: { raw: associationMessage(hotkeyPublicKey, blockNumber) }, signature });
    return signer === getAddress(evmAddress);
  } catch {
    return false;
  }
}

const keyFileSchema = z.object({ private_key: z.string().min(1) });

/**
 * The EVM private key from a JSON file `{"private_key": "0x…"}`, the layout ComputeHorde and the
 * collateral scripts keep at `<wallet>/h160/<hotkey>`.
 */
export async function readEvmKeyFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CollateralError('HORDE_COLLATERAL_BAD_INPUT', `cannot read the EVM key file ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CollateralError('HORDE_COLLATERAL_BAD_INPUT', `the EVM key file ${path} is not JSON`, { cause: err });
  }
  const file = keyFileSchema.safeParse(parsed);
  if (!file.success) throw new CollateralError('HORDE_COLLATERAL_BAD_INPUT', `the EVM key file ${path} has no "private_key"`);
  evmAccount(file.data.private_key);
  return file.data.private_key;
}
