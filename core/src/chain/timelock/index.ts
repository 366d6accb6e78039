// Timelocked commit-reveal (v4): drand-style beacons, the chain's `tle` ciphertext and its payload.
export {
  decodeSignature,
  LocalBeacon,
  QUICKNET,
  QUICKNET_DST,
  roundAt,
  roundMessage,
  timeOfRound,
  verifyPulse,
  type BeaconInfo,
  type BeaconPulse,
} from './beacon.js';
export { decodeTimelockCiphertext, encodeTimelockCiphertext, type TimelockCiphertext } from './ciphertext.js';
export { TimelockError, type TimelockErrorReason } from './errors.js';
export { decodeWeightsTlockPayload, encodeWeightsTlockPayload, type WeightsTlockPayload } from './payload.js';
export { timelockDecrypt, timelockEncrypt, type TimelockRandomness } from './tle.js';
