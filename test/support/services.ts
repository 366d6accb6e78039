/**
 * Handles on the real test servers, for integration tests. The servers are started by
 * `bash test/services/start.sh` and announced by test/setup/global-setup.ts through environment
 * variables; each helper throws a message naming the missing service when its variable is unset.
 *
 *   const db = await pgDatabase();          // fresh database for this test file
 *   afterAll(() => db.drop());
 *   const store = await openStore({ client: 'postgres', url: db.url });
 */
import { randomBytes } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import Dockerode from 'dockerode';
import pg from 'pg';

function requireEnv(variable: string, service: string): string {
  const value = process.env[variable];
  if (!value) {
    throw new Error(
      `${service} is not available to this test (${variable} is not set). ` +
        'Start the test services with `bash test/services/start.sh` and run the tests through vitest (its global setup exports the variables).',
    );
  }
  return value;
}

// ---------------------------------------------------------------- PostgreSQL

export interface TestDatabase {
  /** Connection URL of the new database. */
  readonly url: string;
  readonly name: string;
  /** Drops the database, closing any sessions still connected to it. */
  drop(): Promise<void>;
}

/** The server's admin URL (database `postgres`). */
export function pgAdminUrl(): string {
  return requireEnv('HORDE_TEST_PG_URL', 'PostgreSQL');
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgAdminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty database cloned from `horde_template` (made by start.sh; nobody connects to it,
 * so cloning never fails on "source database is being accessed by other users").
 */
export async function pgDatabase(prefix = 'horde_t'): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE horde_template`));
  const url = new URL(pgAdminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

// ---------------------------------------------------------------- S3

export interface TestS3Config {
  readonly endpoint: string;
  readonly region: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly forcePathStyle: true;
}

/** Connection settings of the test S3 server, in the shape `new S3ObjectStore(...)` takes. */
export function s3Config(bucket?: string): TestS3Config {
  return {
    endpoint: requireEnv('HORDE_TEST_S3_ENDPOINT', 'S3 server'),
    region: process.env.HORDE_TEST_S3_REGION ?? 'us-east-1',
    bucket: bucket ?? process.env.HORDE_TEST_S3_BUCKET ?? 'horde-test',
    accessKeyId: process.env.HORDE_TEST_S3_ACCESS_KEY_ID ?? 'S3RVER',
    secretAccessKey: process.env.HORDE_TEST_S3_SECRET_ACCESS_KEY ?? 'S3RVER',
    forcePathStyle: true,
  };
}

/** A raw SDK client for the test S3 server (checksums only when required: s3rver lacks the newer ones). */
export function s3Client(): S3Client {
  const config = s3Config();
  return new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: true,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A bucket name unique to one test file (S3 names: lowercase, digits, dashes, 3-63 chars). */
export function uniqueBucketName(prefix = 'test'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`.toLowerCase();
}

// ---------------------------------------------------------------- Docker

/** The image start.sh imports: a static busybox (sh, wget, ip, ...), no registry needed. */
export function testImage(): string {
  return process.env.HORDE_TEST_DOCKER_IMAGE ?? 'localhost/busybox:test';
}

/** A dockerode client for the test dockerd (DOCKER_HOST, `unix:///path`). */
export function docker(): Dockerode {
  const host = requireEnv('DOCKER_HOST', 'dockerd');
  if (host.startsWith('unix://')) return new Dockerode({ socketPath: host.slice('unix://'.length) });
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return new Dockerode({ host: url.hostname, port: Number(url.port), protocol: 'http' });
}

// ---------------------------------------------------------------- SSH

export interface TestSshConfig {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** Path of the private key whose public half is in sshd's authorized_keys. */
  readonly privateKeyPath: string;
}

export function sshConfig(): TestSshConfig {
  return {
    host: process.env.HORDE_TEST_SSH_HOST ?? '127.0.0.1',
    port: Number(requireEnv('HORDE_TEST_SSH_PORT', 'sshd')),
    username: process.env.HORDE_TEST_SSH_USER ?? 'root',
    privateKeyPath: requireEnv('HORDE_TEST_SSH_KEY', 'sshd'),
  };
}
