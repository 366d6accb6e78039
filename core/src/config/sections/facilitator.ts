import { z } from 'zod';

/**
 * Facilitator workers: N processes (on one machine, sharing its port, or on several) sharing one
 * PostgreSQL database. Any worker serves the clients' API and validators' websockets; a job is
 * sent once, by the worker that holds its validator's socket, whichever worker accepted it. Off by
 * default: one process, on SQLite or PostgreSQL.
 */
const facilitatorWorkersSection = z.strictObject({
  /** Run as a worker of the pool (needs `store.client: postgres`); `horde facilitator --workers N` turns it on. */
  enabled: z.boolean().default(false),
  /** Worker processes `horde facilitator` starts on this machine (`--workers N`); they share `port`. */
  processes: z.number().int().positive().default(1),
  /**
   * Seconds between a worker's sweeps: jobs of the validators connected to it that no live worker
   * sent (an announcement lost, or its sender died), and jobs past their deadline.
   */
  pollSeconds: z.number().positive().default(1),
  /**
   * A job not final this long after its time limits (download + execution + upload + streaming
   * start, from its creation) is ended `horde_failed` by the facilitator: its validator never
   * answered (gone, or its final update died with a worker). Longer than the validator's own slack.
   */
  deadlineSlackSeconds: z.number().nonnegative().default(300),
});

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
  workers: facilitatorWorkersSection.prefault({}),
});

export type FacilitatorSection = z.output<typeof facilitatorSection>;
export type FacilitatorWorkersSection = z.output<typeof facilitatorWorkersSection>;
