import type { Knex } from 'knex';
import { runQuery } from '../../store/direct.js';
import { toBool, toMillis } from './rows.js';

export interface SeenValidator {
  readonly hotkey: string;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
  readonly debug: boolean;
}

/** `miner_validators` (validators seen) and `miner_validator_blacklist`. */
export class MinerValidatorsRepository {
  constructor(
    private readonly db: Knex,
    private readonly now: () => number,
  ) {}

  /** Records that `hotkey` authenticated now. */
  async seen(hotkey: string, debug: boolean): Promise<void> {
    const at = this.now();
    await this.db('miner_validators')
      .insert({ hotkey, first_seen_at: at, last_seen_at: at, debug })
      .onConflict('hotkey')
      .merge({ last_seen_at: at, debug });
  }

  async list(): Promise<SeenValidator[]> {
    const rows = (await this.db('miner_validators').orderBy('hotkey')) as {
      hotkey: string;
      first_seen_at: unknown;
      last_seen_at: unknown;
      debug: unknown;
    }[];
    return rows.map((r) => ({
      hotkey: r.hotkey,
      firstSeenAt: toMillis(r.first_seen_at),
      lastSeenAt: toMillis(r.last_seen_at),
      debug: toBool(r.debug),
    }));
  }

  async isBlacklisted(hotkey: string): Promise<boolean> {
    const rows = await runQuery(
      this.db,
      this.db('miner_validator_blacklist').where({ validator_hotkey: hotkey }).select('validator_hotkey').limit(1),
    );
    return rows.length > 0;
  }

  async blacklist(hotkey: string, reason: string): Promise<void> {
    await this.db('miner_validator_blacklist')
      .insert({ validator_hotkey: hotkey, reason, created_at: this.now() })
      .onConflict('validator_hotkey')
      .merge({ reason });
  }

  async unblacklist(hotkey: string): Promise<boolean> {
    return (await this.db('miner_validator_blacklist').where({ validator_hotkey: hotkey }).delete()) > 0;
  }

  async blacklisted(): Promise<{ hotkey: string; reason: string; createdAt: number }[]> {
    const rows = (await this.db('miner_validator_blacklist').orderBy('validator_hotkey')) as {
      validator_hotkey: string;
      reason: string;
      created_at: unknown;
    }[];
    return rows.map((r) => ({ hotkey: r.validator_hotkey, reason: r.reason, createdAt: toMillis(r.created_at) }));
  }
}
