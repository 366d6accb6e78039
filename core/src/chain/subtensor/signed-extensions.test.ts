import { readFileSync } from 'node:fs';
import { hexToU8a } from '@polkadot/util';
import { blake2AsU8a, cryptoWaitReady, signatureVerify } from '@polkadot/util-crypto';
import { beforeAll, describe, expect, it } from 'vitest';

import { fixtureRegistry } from './__tests__/fake-subtensor.js';
import { SUBTENSOR_SIGNED_EXTENSIONS } from './subtensor-chain.js';

const finney = JSON.parse(readFileSync(new URL('../timelock/__fixtures__/finney-timelocked-commit.json', import.meta.url), 'utf8')) as {
  signedExtensions: string[];
  specVersion: number;
  genesisHash: string;
  call: string;
  signed: { blockHash: string; era: string; nonce: string; tip: string; transactionVersion: number; signerPublicKey: string; signature: string };
};

describe("finney's signed extensions (SudoTransactionExtension, CheckShieldedTxValidity)", () => {
  beforeAll(async () => {
    await cryptoWaitReady();
  });

  it('with horde’s declarations, the signing payload of a real finney commit_timelocked_mechanism_weights verifies its sr25519 signature', () => {
    const { registry } = fixtureRegistry();
    registry.setSignedExtensions(finney.signedExtensions, SUBTENSOR_SIGNED_EXTENSIONS);
    const payload = registry.createType(
      'ExtrinsicPayload',
      {
        method: finney.call,
        era: finney.signed.era,
        nonce: finney.signed.nonce,
        tip: finney.signed.tip,
        specVersion: finney.specVersion,
        transactionVersion: finney.signed.transactionVersion,
        genesisHash: finney.genesisHash,
        blockHash: finney.signed.blockHash,
        mode: 0,
      },
      { version: 4 },
    );
    const bytes = payload.toU8a({ method: true });
    const message = bytes.length > 256 ? blake2AsU8a(bytes, 256) : bytes;
    expect(signatureVerify(message, hexToU8a(finney.signed.signature), finney.signed.signerPublicKey).isValid).toBe(true);
    // Declaring a data-carrying extension there would shift the bytes and break the signature.
    const wrong = fixtureRegistry().registry;
    wrong.setSignedExtensions(finney.signedExtensions, { ...SUBTENSOR_SIGNED_EXTENSIONS, CheckShieldedTxValidity: { extrinsic: {}, payload: { shielded: 'u8' } } });
    const shifted = wrong.createType('ExtrinsicPayload', { ...payload.toJSON(), method: finney.call, shielded: 0 }, { version: 4 }).toU8a({ method: true });
    const shiftedMessage = shifted.length > 256 ? blake2AsU8a(shifted, 256) : shifted;
    expect(signatureVerify(shiftedMessage, hexToU8a(finney.signed.signature), finney.signed.signerPublicKey).isValid).toBe(false);
  });
});
