/**
 * Errors with stable codes. The CLI maps a code to an exit status and prints one line; the run
 * document stores code, message and the structured context (file, record, field, raw bytes).
 */
import { redactUri } from './redact.js';

export interface ErrorContext {
  file?: string;
  /** 1-based record number inside the DBF file (deleted records count). */
  record?: number;
  field?: string;
  /** Raw bytes of the offending value, as hex, so a person can see padding and odd characters. */
  rawHex?: string;
  source?: string;
  plugin?: string;
  [key: string]: unknown;
}

/**
 * Every code and the exit status `recon` ends with on it: 2 for what the operator must fix in
 * config or invocation, 3 for bad input data, 4 for infrastructure, 1 for the rest. The README's
 * exit-code table lists each one (a test keeps the two in step).
 */
export const EXIT_CODES = {
  RECON_CONFIG_INVALID: 2,
  RECON_CONFIG_NOT_FOUND: 2,
  RECON_CONFIG_ENV_MISSING: 2,
  RECON_PLUGIN_INVALID: 2,
  RECON_USAGE: 2,
  RECON_NO_FILES: 3,
  RECON_DBF_HEADER: 3,
  RECON_DBF_TRUNCATED: 3,
  RECON_DBF_COUNT: 3,
  RECON_DBF_COLUMNS: 3,
  RECON_DBF_DATE: 3,
  RECON_DBF_NUMBER: 3,
  RECON_DBF_KEY: 3,
  RECON_ASOF_MIXED: 3,
  RECON_FIXED_POINT_OVERFLOW: 3,
  RECON_LEDGER_UNMAPPED_TYPE: 3,
  RECON_FETCH_UNSAFE_NAME: 3,
  RECON_ZIP: 3,
  RECON_ZIP_PASSWORD: 3,
  RECON_LEDGER_READ: 4,
  RECON_STORE_WRITE: 4,
  RECON_FETCH: 4,
  RECON_SFTP_HOSTKEY: 4,
  RECON_SFTP_AUTH: 4,
  RECON_SFTP: 4,
  RECON_ABANDONED: 4,
  RECON_LEASE_LOST: 4,
  RECON_SUPERSEDED: 4,
  RECON_INTERNAL: 1,
} as const satisfies Record<string, 1 | 2 | 3 | 4>;

export type ErrorCode = keyof typeof EXIT_CODES;

export class ReconError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(
    code: ErrorCode,
    message: string,
    context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ReconError';
    this.code = code;
    this.context = context;
  }

  /** Plain data: safe to send across a worker boundary and to store in the run document. */
  toJSON(): SerializedError {
    return { code: this.code, message: redactUri(this.message), ...pickContext(this.context) };
  }
}

export interface SerializedError {
  code: string;
  message: string;
  file?: string;
  record?: number;
  field?: string;
  rawHex?: string;
  source?: string;
  [key: string]: unknown;
}

function pickContext(context: ErrorContext): ErrorContext {
  const out: ErrorContext = {};
  for (const [k, v] of Object.entries(context)) if (v !== undefined) out[k] = v;
  return out;
}

/** Rebuilds a ReconError from its plain form (worker results, stored documents). */
export function reviveError(data: SerializedError): ReconError {
  const { code, message, ...context } = data;
  return new ReconError(code as ErrorCode, message, context);
}

/** Any thrown value as a ReconError; unknown failures keep their message under RECON_INTERNAL. */
export function asReconError(err: unknown): ReconError {
  if (err instanceof ReconError) return err;
  if (isSerializedReconError(err)) return reviveError(err);
  const message = err instanceof Error ? err.message : String(err);
  return new ReconError('RECON_INTERNAL', message, {}, { cause: err });
}

function isSerializedReconError(err: unknown): err is SerializedError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string' &&
    String((err as { code: string }).code).startsWith('RECON_') &&
    typeof (err as { message?: unknown }).message === 'string'
  );
}

/** A file or folder the run could not open or list (`verb`: "read", "list"), naming it. */
export function fetchError(verb: string, name: string, err: unknown): ReconError {
  return new ReconError(
    'RECON_FETCH',
    `cannot ${verb} ${name}: ${(err as Error).message}`,
    { file: name },
    { cause: err },
  );
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Exit status for a code; a code this version does not know (an old stored error) exits 1. */
export function exitCodeFor(code: string): number {
  return Object.hasOwn(EXIT_CODES, code) ? EXIT_CODES[code as ErrorCode] : 1;
}
