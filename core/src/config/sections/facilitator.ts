import { z } from 'zod';

/**
 * The facilitator: the organic-job gateway. Clients (the SDK) log in with their hotkey and submit
 * jobs over HTTP; validators keep a websocket open and receive the jobs targeted at them. Time
 * limits are ComputeHorde's (JWT 3600 s, nonce 300 s, heartbeat liveness 3 min, metagraph sync 5 min).
 */
export const facilitatorSection = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  port: z.number().int().min(0).max(65_535).default(9100),
  /**
   * Client hotkeys (ss58) allowed to log in (ComputeHorde's `HotkeyWhitelist`). Empty: nobody;
   * `["*"]`: any hotkey that proves it holds its key.
   */
  hotkeyWhitelist: z.array(z.string().min(1)).default([]),
  /**
   * Secret that signs bearer tokens (HMAC-SHA256), at least 32 characters. Default: a random secret
   * generated on first start and kept in the store, so tokens survive a restart.
   */
  tokenSecret: z.string().min(32).nullable().default(null),
  /** Lifetime of a bearer token. */
  tokenLifetimeSeconds: z.number().int().positive().default(3600),
  /** Lifetime of a login nonce; each nonce is good for one login. */
  nonceLifetimeSeconds: z.number().int().positive().default(300),
  /**
   * Requests per second (and burst) one remote address may make to the endpoints anyone can call
   * before logging in (`/api/v1/auth/nonce`, `/api/v1/auth/login`); more get 429 with Retry-After.
   */
  unauthenticatedRateLimit: z
    .strictObject({
      perSecond: z.number().positive().default(10),
      burst: z.number().int().positive().default(50),
    })
    .prefault({}),
  /** Oldest X-CH request signature accepted (`X-CH-Timestamp-NS` may be this far in the past or future). */
  signatureMaxAgeSeconds: z.number().int().positive().default(300),
  /** Largest request body (inline volumes travel in it). */
  bodyLimitBytes: z
    .number()
    .int()
    .positive()
    .default(5 * 1024 * 1024),
  /** Jobs go only to validators whose last heartbeat (or login) is this recent. */
  validatorLivenessSeconds: z.number().positive().default(180),
  /** Seconds a validator has to send `V0AuthenticationRequest` after opening the websocket. */
  authTimeoutSeconds: z.number().positive().default(10),
  /** How often the validator set is re-read from the chain (`METAGRAPH_SYNC_PERIOD`). */
  metagraphRefreshSeconds: z.number().positive().default(300),
  /** Least total stake a validator needs besides a validator permit. */
  minValidatorStake: z.number().nonnegative().default(0),
  /** Largest `page_size` of `GET /api/v1/jobs/`. */
  maxPageSize: z.number().int().positive().default(100),
});

export type FacilitatorSection = z.output<typeof facilitatorSection>;
