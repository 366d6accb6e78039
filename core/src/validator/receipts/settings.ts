import type { ReceiptTransferSection } from '../../config/sections/validator.js';
import type { ReceiptTransferSettings } from './transfer.js';

/** The config section (seconds, hours) in the units `ReceiptTransfer` takes (ms). */
export function receiptTransferSettings(section: ReceiptTransferSection): ReceiptTransferSettings {
  return {
    intervalMs: section.intervalSeconds * 1000,
    catchUpMs: section.catchUpHours * 3_600_000,
    activePages: section.activePages,
    catchUpConcurrency: section.catchUpConcurrency,
    keepUpConcurrency: section.keepUpConcurrency,
    catchUpTimeoutMs: section.catchUpTimeoutSeconds * 1000,
    keepUpTimeoutMs: section.keepUpTimeoutSeconds * 1000,
    maxPageBytes: section.maxPageBytes,
    sourcesRefreshMs: section.metagraphRefreshSeconds * 1000,
  };
}
