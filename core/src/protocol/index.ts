// The ComputeHorde v0.1 wire protocol: message schemas and types, the codec, and the signing rules
// (auth blob, receipts, SDK request signatures). Runtime code imports these modules by path;
// plugins get the types through @horde/core.
export * from './enums.js';
export * from './job-schemas.js';
export * from './receipt-schemas.js';
export * from './messages.js';
export * from './facilitator-messages.js';
export * from './codec.js';
export * from './auth.js';
export * from './receipts.js';
export * from './sdk-signature.js';
export * from './facilitator-auth.js';
export * from './streaming.js';
export * from './datetime.js';
export { pythonJsonDumps, pythonJsonString, pythonFloatRepr, pydanticJson, compareCodePoints, type JsonValue } from './python-json.js';
export { quoteUnsafeIntegers, stringifyWithBigInt } from './lossless-json.js';
