import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact-url.js';

describe('redactUrl', () => {
  it('cuts off the query of a presigned URL and keeps a plain one whole', () => {
    expect(redactUrl('https://s3.example/bucket/key.zip?X-Amz-Signature=secret&X-Amz-Expires=60')).toBe(
      'https://s3.example/bucket/key.zip?…',
    );
    expect(redactUrl('https://example.com/data.zip')).toBe('https://example.com/data.zip');
  });

  it('does not echo what is not a URL', () => {
    expect(redactUrl('not a url ?token=secret')).toBe('<invalid url>');
  });
});
