// The S3 server of the test suite: @20minutes/s3rver on a fixed port, started in the background by
// test/services/start.sh. Credentials are fixed by s3rver: S3RVER / S3RVER, path-style.
//
// Env: HORDE_TEST_S3_PORT (54321), HORDE_TEST_S3_DIR (where objects live), HORDE_TEST_S3_BUCKET
// (bucket created at start; tests make their own with ensureBucket()), HORDE_TEST_S3_PIDFILE.
import { writeFileSync } from 'node:fs';
import S3rver from '@20minutes/s3rver';

const port = Number(process.env.HORDE_TEST_S3_PORT ?? 54321);
const directory = process.env.HORDE_TEST_S3_DIR ?? '/tmp/horde-test/s3';
const bucket = process.env.HORDE_TEST_S3_BUCKET ?? 'horde-test';

const server = new S3rver({
  port,
  address: '127.0.0.1',
  silent: true,
  directory,
  configureBuckets: [{ name: bucket }],
});

await server.run();
if (process.env.HORDE_TEST_S3_PIDFILE) writeFileSync(process.env.HORDE_TEST_S3_PIDFILE, `${process.pid}\n`);
console.log(`s3rver listening on http://127.0.0.1:${port} (directory ${directory}, bucket ${bucket})`);

const stop = () => {
  server.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
