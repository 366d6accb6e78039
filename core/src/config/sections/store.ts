import { z } from 'zod';

/**
 * The relational store. SQLite needs nothing installed and is the default; its file defaults to
 * `<dataDir>/horde.sqlite` (filled in when the config is loaded). PostgreSQL needs `url`.
 */
export const storeSection = z.strictObject({
  client: z.enum(['sqlite', 'postgres']).default('sqlite'),
  /** SQLite file (or `:memory:`). Relative paths are relative to the config file's directory. */
  filename: z.string().min(1).optional(),
  /** PostgreSQL connection URL, e.g. `postgres://horde@127.0.0.1:5432/horde`. */
  url: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL')
    .optional(),
  /** Largest PostgreSQL connection pool. */
  poolMax: z.number().int().positive().default(10),
});

export type StoreSection = z.output<typeof storeSection>;
