export { ReceiptLineRefusedError, ReceiptPageFetchError, type RefusedLineReason } from './errors.js';
export { fetchPageLines, type PageFetchOptions, type PageFetchResult } from './page-fetch.js';
export { checkReceiptLine, checkReceiptLines, MAX_RECEIPT_LINE_BYTES, type LineVerdict } from './receipt-lines.js';
export { receiptSources, type ReceiptSource } from './sources.js';
export { TransferredReceiptsRepository, type PageCheckpoint, type TransferredReceipts } from './store.js';
export { ReceiptTransfer, type ReceiptTransferOptions, type ReceiptTransferSettings, type TransferStats } from './transfer.js';
export { InThreadVerifier, ReceiptVerifierPool, type ReceiptLineVerifier } from './verifier-pool.js';
export { receiptTransferSettings } from './settings.js';
