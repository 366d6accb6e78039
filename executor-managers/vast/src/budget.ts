const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface BudgetLimits {
  readonly maxDollarsPerHour?: number | undefined;
  readonly maxDollarsPerDay?: number | undefined;
}

/** One rental as the budget counts it: from the moment it was reserved until it was destroyed. */
interface Rental {
  readonly dollarsPerHour: number;
  readonly startedAt: number;
  endedAt: number | null;
}

export type BudgetDecision =
  { readonly ok: true; readonly rental: BudgetRental } | { readonly ok: false; readonly limit: 'hour' | 'day'; readonly reason: string };

/** A reserved rental: `cancel` when the rent did not happen, `end` once the instance is destroyed. */
export interface BudgetRental {
  cancel(): void;
  end(): void;
}

const dollars = (value: number) => `$${value.toFixed(3)}`;

/**
 * What the rented instances cost, and whether one more may be rented. Checked and reserved in one
 * synchronous step, so a burst of starts can never rent past a cap between a check and a rent.
 *
 * - `maxDollarsPerHour`: the hourly prices of every instance rented now (or being rented), plus the
 *   new one, stay at or under it.
 * - `maxDollarsPerDay`: what the last 24 hours cost, plus one more hour of everything rented now and
 *   the new one, stays at or under it; and the manager's watchdog (`overDayBudget`) stops instances
 *   before what runs now would cross it. A rental is counted from its reservation (before the
 *   marketplace bills) to its destruction (after), so the count is never below the bill.
 */
export class VastBudget {
  private readonly rentals = new Set<Rental>();

  constructor(
    readonly limits: BudgetLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Hourly price of everything rented now. */
  dollarsPerHour(): number {
    let sum = 0;
    for (const rental of this.rentals) if (rental.endedAt === null) sum += rental.dollarsPerHour;
    return sum;
  }

  /** What the rentals cost over the last 24 hours, up to now. */
  spentLastDay(): number {
    const now = this.now();
    const since = now - DAY_MS;
    let sum = 0;
    for (const rental of [...this.rentals]) {
      const end = rental.endedAt ?? now;
      if (end < since) {
        this.rentals.delete(rental);
        continue;
      }
      sum += (rental.dollarsPerHour * (end - Math.max(rental.startedAt, since))) / HOUR_MS;
    }
    return sum;
  }

  /** Whether keeping everything rented for `aheadMs` more would cross `maxDollarsPerDay`. */
  overDayBudget(aheadMs: number): boolean {
    const { maxDollarsPerDay } = this.limits;
    if (maxDollarsPerDay === undefined) return false;
    return this.spentLastDay() + (this.dollarsPerHour() * aheadMs) / HOUR_MS > maxDollarsPerDay + 1e-9;
  }

  /** Reserves a rental at `dollarsPerHour`, or says which cap it would break. */
  reserve(dollarsPerHour: number): BudgetDecision {
    const { maxDollarsPerHour, maxDollarsPerDay } = this.limits;
    const hourly = this.dollarsPerHour() + dollarsPerHour;
    if (maxDollarsPerHour !== undefined && hourly > maxDollarsPerHour + 1e-9) {
      return {
        ok: false,
        limit: 'hour',
        reason: `renting at ${dollars(dollarsPerHour)}/h would make ${dollars(hourly)}/h, over budget.maxDollarsPerHour ${dollars(maxDollarsPerHour)}`,
      };
    }
    if (maxDollarsPerDay !== undefined) {
      const spent = this.spentLastDay();
      const projected = spent + hourly;
      if (projected > maxDollarsPerDay + 1e-9) {
        return {
          ok: false,
          limit: 'day',
          reason: `${dollars(spent)} spent in the last 24 h plus an hour of ${dollars(hourly)}/h would make ${dollars(projected)}, over budget.maxDollarsPerDay ${dollars(maxDollarsPerDay)}`,
        };
      }
    }
    const rental: Rental = { dollarsPerHour, startedAt: this.now(), endedAt: null };
    this.rentals.add(rental);
    return {
      ok: true,
      rental: {
        cancel: () => void this.rentals.delete(rental),
        end: () => {
          rental.endedAt ??= this.now();
        },
      },
    };
  }
}
