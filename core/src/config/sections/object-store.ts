import { z } from 'zod';

/**
 * S3-compatible object storage (volumes, outputs, prompt series). Unset `endpoint` means the
 * process has no object store; roles that need one say so when they start.
 */
export const objectStoreSection = z.strictObject({
  endpoint: z.url().optional(),
  region: z.string().min(1).default('us-east-1'),
  bucket: z.string().min(1).default('horde'),
  accessKeyId: z.string().min(1).optional(),
  secretAccessKey: z.string().min(1).optional(),
  /** Path-style URLs (`http://host/bucket/key`), which local S3 servers need. */
  forcePathStyle: z.boolean().default(true),
});

export type ObjectStoreSection = z.output<typeof objectStoreSection>;
