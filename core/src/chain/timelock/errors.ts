import { defineError } from '../../errors.js';

/**
 * A timelock ciphertext, pulse or payload that cannot be used: bytes that are not a `tle`
 * `TLECiphertext`, a signature that is not a G1 point, a pulse that does not open the ciphertext
 * (wrong or premature round), a payload that is not SCALE `WeightsTlockPayload`. The `reason`
 * says which, so callers (the fake node's reveal, tests) can tell them apart.
 */
export type TimelockErrorReason =
  'MALFORMED_CIPHERTEXT' | 'MALFORMED_SIGNATURE' | 'WRONG_SIGNATURE' | 'DECRYPTION_FAILED' | 'MALFORMED_PAYLOAD' | 'INVALID_INPUT';

export class TimelockError extends defineError('HORDE_TIMELOCK') {
  readonly reason: TimelockErrorReason;

  constructor(reason: TimelockErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}
