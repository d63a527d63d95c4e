/**
 * Credentials never reach a log line, an error, a stored document or a metric.
 *
 * A connection string is parsed with the MongoDB driver's own parser
 * (mongodb-connection-string-url)
 * and rebuilt without user and password, whatever characters they hold. A string it cannot parse
 * (a password with a raw `@`, `/` or `:` is not a valid URI, yet people write them) shows only the
 * host list: the text after the last `@`, up to the path.
 */
import { ConnectionString } from 'mongodb-connection-string-url';

/**
 * A URI as it appears inside a message: a scheme, `://`, then anything up to white space or a
 * quote.
 */
const URI_IN_TEXT = /\b([a-z][a-z0-9+.-]*):\/\/([^\s"'<>`]+)/gi;

/**
 * `mongodb://user:p@ss@host/db` → `mongodb://***@host/db`; also every URI inside a longer message.
 */
export function redactUri(text: string): string {
  return text.replace(URI_IN_TEXT, (uri: string, scheme: string, rest: string) =>
    redactOne(uri, scheme, rest),
  );
}

function redactOne(uri: string, scheme: string, rest: string): string {
  if (!rest.includes('@')) return uri;
  if (/^mongodb(\+srv)?$/i.test(scheme)) {
    try {
      const cs = new ConnectionString(uri);
      // A raw `@` after the hosts means the parser split a password that holds `@` and `/` wrongly.
      if (`${cs.pathname}${cs.search}`.includes('@'))
        throw new Error('credentials not where the parser put them');
      if (cs.username !== '' || cs.password !== '')
        return `${scheme}://***@${cs.hosts.join(',')}${cs.pathname}${cs.search}`;
    } catch {
      // not a valid connection string: fall through to the host list
    }
  }
  const afterCredentials = rest.slice(rest.lastIndexOf('@') + 1);
  return `${scheme}://***@${afterCredentials.split(/[/?#]/)[0]}`;
}

/**
 * Every string inside a log object or stored value, with URIs redacted (new objects; cycles kept
 * out).
 */
export function redactDeep<T>(value: T, seen = new WeakSet<object>()): T {
  if (typeof value === 'string') return redactUri(value) as T;
  if (
    value === null ||
    typeof value !== 'object' ||
    value instanceof Date ||
    ArrayBuffer.isView(value)
  )
    return value;
  if (seen.has(value)) return value;
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, seen)) as T;
  if (value instanceof Error) {
    return {
      ...redactDeep({ ...value }, seen),
      type: value.name,
      message: redactUri(value.message),
      ...(value.stack ? { stack: redactUri(value.stack) } : {}),
    } as T;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, seen);
  return out as T;
}

/** pino redaction paths: any key that holds a secret, at any depth pino can express. */
export const REDACT_PATHS = [
  'password',
  'passphrase',
  'privateKey',
  'uri',
  'config.ledger.uri',
  'config.store.uri',
  '*.password',
  '*.passphrase',
  '*.privateKey',
  '*.uri',
  '*.*.password',
  '*.*.passphrase',
  '*.*.privateKey',
  '*.*.uri',
];
