import { defineError, HordeError, type HordeErrorCode } from '@horde/core';

/** The marketplace API family's codes (core's catalogue says what each means). */
export type VastApiErrorCode = Extract<HordeErrorCode, 'HORDE_VAST_API_ERROR' | 'HORDE_VAST_AUTH_FAILED' | 'HORDE_VAST_RATE_LIMITED'>;

/** The marketplace API answered with an error (HTTP 4xx/5xx or `success: false`), or not at all. */
export class VastApiError extends HordeError {
  declare readonly code: VastApiErrorCode;

  constructor(
    message: string,
    /** HTTP status, or null when no answer came (network error, timeout). */
    readonly status: number | null,
    options?: { cause?: unknown; code?: VastApiErrorCode },
  ) {
    super(options?.code ?? 'HORDE_VAST_API_ERROR', message, options);
  }
}

/** The API key was refused (HTTP 401/403). Retrying cannot help. */
export class VastAuthError extends VastApiError {
  constructor(message: string, status: number) {
    super(message, status, { code: 'HORDE_VAST_AUTH_FAILED' });
  }
}

/** Still HTTP 429 after every retry. */
export class VastRateLimitedError extends VastApiError {
  constructor(message: string) {
    super(message, 429, { code: 'HORDE_VAST_RATE_LIMITED' });
  }
}

/** No offer on the marketplace matches the class's filters. */
export class VastNoOfferError extends defineError('HORDE_VAST_NO_OFFER') {}

/** Matching offers existed, but renting every one tried failed (taken meanwhile, refused). */
export class VastRentError extends defineError('HORDE_VAST_RENT_FAILED') {}

/** A rented instance did not become reachable over SSH in time; it has been destroyed. */
export class VastReadyTimeoutError extends defineError('HORDE_VAST_READY_TIMEOUT') {}

/** A rented instance disappeared from the account (destroyed elsewhere, host failure). */
export class VastInstanceGoneError extends defineError('HORDE_VAST_INSTANCE_GONE') {}

/** The class is not configured, or all of its `maxInstances` are in use. */
export class VastCapacityError extends defineError('HORDE_VAST_CAPACITY') {}

/** The manager is shutting down and starts nothing new. */
export class VastClosedError extends defineError('HORDE_VAST_CLOSED') {}

/** Renting would go over `budget.maxDollarsPerHour` or `budget.maxDollarsPerDay`: nothing was rented. */
export class VastBudgetError extends defineError('HORDE_VAST_BUDGET_EXCEEDED') {
  constructor(
    readonly limit: 'hour' | 'day',
    message: string,
  ) {
    super(message);
  }
}
