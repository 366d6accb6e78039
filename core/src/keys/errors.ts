import { defineError } from '../errors.js';

/** A hotkey could not be loaded: bad URI or mnemonic, missing or unreadable wallet file. */
export class HotkeyLoadError extends defineError('HORDE_HOTKEY_LOAD_FAILED') {}

/** sr25519 verification was used before `cryptoReady()` resolved, or the wasm module failed to start. */
export class CryptoNotReadyError extends defineError('HORDE_CRYPTO_NOT_READY') {}
