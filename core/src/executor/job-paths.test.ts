import { describe, expect, it } from 'vitest';
import { artifactsDirProblem } from './job-paths.js';

describe('artifactsDirProblem', () => {
  it.each(['/artifacts', '/art', '/home/job/out-1', '/data/artifacts/'])('accepts %s', (dir) => {
    expect(artifactsDirProblem(dir)).toBeNull();
  });

  it.each([
    ['/volume', /\/volume/],
    ['/volume/sub', /\/volume/],
    ['/output', /\/output/],
    ['/', /root/],
    ['/art:rshared', /letters, digits/],
    ['/art,ro', /letters, digits/],
    ['artifacts', /absolute/],
    ['/a/../volume', /\.\./],
    ['/proc/self', /\/proc/],
    ['/a\u0000b', /letters/],
    [`/${'a'.repeat(300)}`, /longer/],
  ])('refuses %s', (dir, reason) => {
    expect(artifactsDirProblem(dir)).toMatch(reason);
  });
});
