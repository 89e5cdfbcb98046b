/**
 * The path NGINX's `$uri` holds for a request URI (NGINX's `$request_uri`, what the router is sent):
 * rules decide on this path, because it is the one a backend resolves (`/%69nternal/x`,
 * `/./internal/x`, `/x/../internal/x` and `/internal%2fx` are all `/internal/x` to it).
 *
 * As ngx_http_parse_complex_uri does, with merge_slashes on (NGINX's default and ours): the path
 * ends at the first `?` or `#`; every `%XX` is decoded, `%2F` included (a decoded `/` separates
 * segments); empty segments merge; `.` goes; `..` removes the segment before it; a path that ends
 * in `/.` or `/..` keeps its trailing slash. NGINX refuses (400) a malformed escape, `%00` and a
 * `..` above the root, so it never asks about such a path: here they are `undefined`, which the
 * router refuses too. The result is bytes as latin1 characters, byte for byte what NGINX compares.
 * test/nginx-engine.test.ts checks this against real nginx's `$uri` for a list of tricky paths.
 */
export function normalizePath(requestUri: string): string | undefined {
  const end = requestUri.search(/[?#]/);
  let raw = end < 0 ? requestUri : requestUri.slice(0, end);
  if (raw === '') raw = '/';
  if (raw[0] !== '/') return undefined;
  let decoded = raw;
  if (raw.includes('%')) {
    decoded = '';
    for (let i = 0; i < raw.length; i++) {
      if (raw[i] !== '%') {
        decoded += raw[i];
        continue;
      }
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex) || hex === '00') return undefined;
      decoded += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    }
  }
  if (!/\/\/|\/\.(\/|\.?(\/|$))|\/\.$/.test(decoded)) return decoded;
  const segments: string[] = [];
  const parts = decoded.split('/');
  let trailingSlash = false;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i];
    const last = i === parts.length - 1;
    if (part === '..') {
      if (segments.length === 0) return undefined;
      segments.pop();
    } else if (part !== '' && part !== '.') segments.push(part);
    trailingSlash = last && (part === '' || part === '.' || part === '..');
  }
  if (segments.length === 0) return '/';
  return `/${segments.join('/')}${trailingSlash ? '/' : ''}`;
}

/** A path segment (bytes as latin1 characters) as the UTF-8 text it spells, or undefined if it is not UTF-8. */
export function utf8Segment(segment: string): string | undefined {
  const text = Buffer.from(segment, 'latin1').toString('utf8');
  return Buffer.from(text, 'utf8').toString('latin1') === segment ? text : undefined;
}
