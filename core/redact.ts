/** Credentials never reach a log line, an error or a stored document. */

/** `mongodb://user:pass@host/db` → `mongodb://***@host/db`; also inside longer messages. */
export function redactUri(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^@/\s]+)@/gi, '$1***@');
}

/** pino redaction paths: any key that holds a secret, at any depth pino can express. */
export const REDACT_PATHS = [
  'password', 'passphrase', 'privateKey', 'uri', 'config.ledger.uri', 'config.store.uri',
  '*.password', '*.passphrase', '*.privateKey', '*.uri', '*.*.password', '*.*.passphrase', '*.*.privateKey', '*.*.uri',
];
