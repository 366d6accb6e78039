// Applies (idempotently) the one-line fix @20minutes/s3rver 4 needs to accept the AWS SDK v3's
// signatures on bucket-level requests.
//
// Why: the SDK signs `GET /bucket/` (ListObjectsV2, CreateBucket) with the canonical resource
// `/bucket/`, but s3rver rebuilds it as `/bucket`, so every such request fails with
// SignatureDoesNotMatch while object requests work. The fix keeps the trailing slash. The other
// workaround, `allowMismatchedSignatures`, would also accept tampered signatures, which the
// presigned-URL tests must see rejected.
//
// Run by test/services/start.sh before the server starts, so it survives `npm ci`.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const packageDir = dirname(require.resolve('@20minutes/s3rver/package.json'));
const file = join(packageDir, 'lib', 'middleware', 'authentication.js');

const MARKER = '/* horde: keep trailing slash */';
const ORIGINAL = `      if (ctx.params.key) {
        canonicalizedResource += '/' + ctx.params.key;
      }`;
const PATCHED = `      if (ctx.params.key) {
        canonicalizedResource += '/' + ctx.params.key;
      } else if (ctx.path.endsWith('/')) { ${MARKER}
        canonicalizedResource += '/';
      }`;

const source = readFileSync(file, 'utf8');
if (source.includes(MARKER)) {
  process.exit(0);
}
if (!source.includes(ORIGINAL)) {
  console.error(`patch-s3rver: ${file} does not contain the expected code; was s3rver upgraded? Check the fix by hand.`);
  process.exit(1);
}
writeFileSync(file, source.replace(ORIGINAL, PATCHED));
console.error(`patch-s3rver: patched ${file}`);
