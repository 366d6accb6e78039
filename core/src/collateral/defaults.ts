/** Per-request timeout of the EVM RPC when nothing else is set (`validator.collateral.rpcTimeoutSeconds`). */
export const DEFAULT_EVM_RPC_TIMEOUT_MS = 10_000;
