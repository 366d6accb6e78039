/**
 * Token buckets per remote address for the endpoints anyone can call. Addresses idle long enough
 * to have a full bucket are forgotten, so the map holds only recent callers.
 */
export interface RateLimitSettings {
  readonly perSecond: number;
  readonly burst: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly settings: RateLimitSettings,
    private readonly now: () => number,
  ) {}

  /** Takes one request's token: 0 when allowed, else the seconds until the next one is. */
  take(address: string): number {
    const now = this.now();
    const { perSecond, burst } = this.settings;
    const bucket = this.buckets.get(address) ?? { tokens: burst, at: now };
    // A clock set back refills nothing (and takes nothing away).
    bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    this.buckets.set(address, bucket);
    if (this.buckets.size > 10_000) this.sweep(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / perSecond);
  }

  private sweep(now: number): void {
    const { perSecond, burst } = this.settings;
    for (const [address, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * perSecond >= burst) this.buckets.delete(address);
    }
  }
}
