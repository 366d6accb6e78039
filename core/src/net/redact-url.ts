/**
 * A URL fit for logs and error messages. Volume and upload URLs are often presigned: their query
 * carries the signature, so it is cut off; a URL that does not parse is not echoed at all.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.search ? `${parsed.origin}${parsed.pathname}?…` : url;
  } catch {
    return '<invalid url>';
  }
}
