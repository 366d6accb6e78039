import { z } from 'zod';
import type {
  JobAcceptedReceiptPayload,
  JobFinishedReceiptPayload,
  JobStartedReceiptPayload,
  Receipt,
  ReceiptPayload,
} from '../contracts/receipt.js';
import { parsePydanticDatetime } from './datetime.js';
import { executorClassSchema } from './job-schemas.js';

/**
 * Receipt payloads (compute_horde/receipts/schemas.py). Datetimes stay the strings they were on
 * the wire (the contract type says string); the schema only checks that pydantic would parse them.
 * `receiptBlob` re-formats them the way Python signs them.
 */
export const pydanticDatetimeSchema = z
  .string()
  .refine((s) => parsePydanticDatetime(s) !== null, { message: 'Invalid datetime (expected ISO 8601)' });

const baseShape = {
  job_uuid: z.string(),
  miner_hotkey: z.string(),
  validator_hotkey: z.string(),
  timestamp: pydanticDatetimeSchema,
};

const startedShape = { ...baseShape, executor_class: executorClassSchema, is_organic: z.boolean(), ttl: z.number().int() };
const acceptedShape = { ...baseShape, time_accepted: pydanticDatetimeSchema, ttl: z.number().int() };
const finishedShape = {
  ...baseShape,
  time_started: pydanticDatetimeSchema,
  time_took_us: z.number().int(),
  score_str: z.string(),
  block_numbers: z.array(z.number().int()).default([]),
};

/**
 * A payload on its own (as in `V0InitialJobRequest.job_started_receipt_payload`): the
 * `receipt_type` field has a default there, as in the pydantic model.
 */
export const jobStartedReceiptPayloadSchema = z.object({
  ...startedShape,
  receipt_type: z.literal('JobStartedReceipt').default('JobStartedReceipt'),
}) satisfies z.ZodType<JobStartedReceiptPayload>;
export const jobAcceptedReceiptPayloadSchema = z.object({
  ...acceptedShape,
  receipt_type: z.literal('JobAcceptedReceipt').default('JobAcceptedReceipt'),
}) satisfies z.ZodType<JobAcceptedReceiptPayload>;
export const jobFinishedReceiptPayloadSchema = z.object({
  ...finishedShape,
  receipt_type: z.literal('JobFinishedReceipt').default('JobFinishedReceipt'),
}) satisfies z.ZodType<JobFinishedReceiptPayload>;

/** Inside a `Receipt` the union is discriminated, so `receipt_type` is required there. */
export const receiptPayloadSchema = z.discriminatedUnion('receipt_type', [
  z.object({ ...startedShape, receipt_type: z.literal('JobStartedReceipt') }),
  z.object({ ...acceptedShape, receipt_type: z.literal('JobAcceptedReceipt') }),
  z.object({ ...finishedShape, receipt_type: z.literal('JobFinishedReceipt') }),
]) satisfies z.ZodType<ReceiptPayload>;

/**
 * The envelope as ComputeHorde sends it (busy excuses in `V0DeclineJobRequest`, receipt pages):
 * both signatures present. horde's own not-yet-countersigned receipts (miner_signature null) use
 * `storedReceiptSchema`.
 */
export const receiptSchema = z.object({
  payload: receiptPayloadSchema,
  validator_signature: z.string(),
  miner_signature: z.string(),
}) satisfies z.ZodType<Receipt>;

export const storedReceiptSchema = z.object({
  payload: receiptPayloadSchema,
  validator_signature: z.string(),
  miner_signature: z.string().nullable(),
}) satisfies z.ZodType<Receipt>;
