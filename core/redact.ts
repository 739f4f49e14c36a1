/**
 * Redaction: what must never be shown. A backend URL may carry credentials
 * (`https://user:password@host/mcp?api_key=...`), a manifest may carry tokens in headers and
 * environment variables; none of that may reach a log line, `/readyz`, the CLI or a client's
 * error message.
 *
 * Two layers: URLs are shown redacted wherever the proxy writes them itself (`redactUrl`), and
 * every log line passes through a `Secrets` scrubber that knows the secret values of every
 * mounted plugin, for the messages the proxy does not write itself (an error a library threw,
 * a backend's answer quoted in an error).
 */

/** What a secret is replaced with. */
export const REDACTED = '***';

/** Values shorter than this are not scrubbed from text (they would mangle ordinary words). */
const MIN_SECRET_LENGTH = 6;

/**
 * A URL fit to show: no user info, and every query value replaced (`?api_key=***`). Anything
 * that is not a URL is returned with what looks like user info cut out.
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return String(url).replace(/\/\/[^/@\s]*@/, '//');
  }
  parsed.username = '';
  parsed.password = '';
  const keys = [...parsed.searchParams.keys()];
  if (keys.length === 0) return parsed.href;
  const query = [...new Set(keys)].map((key) => `${encodeURIComponent(key)}=${REDACTED}`).join('&');
  // Not `origin`: that is "null" for schemes other than http(s), ws(s), ftp and blob (`docs://...`).
  const beforeQuery = parsed.href.slice(0, parsed.href.length - parsed.search.length - parsed.hash.length);
  return `${beforeQuery}?${query}${parsed.hash}`;
}

/**
 * A remote URL as fetch can use it: user info moved into a Basic `Authorization` header (fetch
 * refuses URLs with credentials), the rest unchanged.
 */
export function splitCredentials(url: string): { url: URL; authorization?: string } {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return { url: parsed };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return { url: parsed, authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** The secret values in a URL: its password, user name and query values. */
export function secretsOfUrl(url: string): string[] {
  try {
    const parsed = new URL(url);
    return [decodeURIComponent(parsed.password), parsed.password, decodeURIComponent(parsed.username), ...parsed.searchParams.values()].filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * The secret values known to the proxy, by owner (a plugin source), and a scrubber that
 * replaces them in any text.
 */
export class Secrets {
  readonly #byOwner = new Map<string, string[]>();
  #all: string[] = [];

  /** Sets the secrets of `owner` (replacing what it had). */
  set(owner: string, values: Iterable<string>): void {
    const kept = [...new Set(values)].filter((value) => value.length >= MIN_SECRET_LENGTH);
    if (kept.length) this.#byOwner.set(owner, kept);
    else this.#byOwner.delete(owner);
    // Longest first, so a secret that contains another is replaced whole.
    this.#all = [...new Set([...this.#byOwner.values()].flat())].sort((a, b) => b.length - a.length);
  }

  delete(owner: string): void {
    this.set(owner, []);
  }

  /** `text` with every known secret (and its URL-encoded and JSON-escaped forms) replaced. */
  scrub(text: string): string {
    if (this.#all.length === 0) return text;
    let result = text;
    for (const secret of this.#all) {
      if (result.includes(secret)) result = result.replaceAll(secret, REDACTED);
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret && result.includes(encoded)) result = result.replaceAll(encoded, REDACTED);
      const escaped = JSON.stringify(secret).slice(1, -1);
      if (escaped !== secret && result.includes(escaped)) result = result.replaceAll(escaped, REDACTED);
    }
    return result;
  }
}
