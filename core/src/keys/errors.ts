import { HordeError } from '../errors.js';

/** A hotkey could not be loaded: bad URI or mnemonic, missing or unreadable wallet file. */
export class HotkeyLoadError extends HordeError {
  declare readonly code: 'HOTKEY_LOAD_FAILED';

  constructor(message: string, options?: { cause?: unknown }) {
    super('HOTKEY_LOAD_FAILED', message, options);
  }
}
