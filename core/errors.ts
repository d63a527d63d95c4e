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

export type ErrorCode =
  | 'RECON_CONFIG_INVALID'
  | 'RECON_CONFIG_NOT_FOUND'
  | 'RECON_CONFIG_ENV_MISSING'
  | 'RECON_PLUGIN_INVALID'
  | 'RECON_NO_FILES'
  | 'RECON_DBF_HEADER'
  | 'RECON_DBF_TRUNCATED'
  | 'RECON_DBF_COUNT'
  | 'RECON_DBF_COLUMNS'
  | 'RECON_DBF_DATE'
  | 'RECON_DBF_NUMBER'
  | 'RECON_DBF_KEY'
  | 'RECON_ASOF_MIXED'
  | 'RECON_FIXED_POINT_OVERFLOW'
  | 'RECON_LEDGER_UNMAPPED_TYPE'
  | 'RECON_LEDGER_READ'
  | 'RECON_STORE_WRITE'
  | 'RECON_FETCH'
  | 'RECON_FETCH_UNSAFE_NAME'
  | 'RECON_SFTP_HOSTKEY'
  | 'RECON_SFTP_AUTH'
  | 'RECON_SFTP'
  | 'RECON_ZIP'
  | 'RECON_ZIP_PASSWORD'
  | 'RECON_ABANDONED'
  | 'RECON_LEASE_LOST'
  | 'RECON_SUPERSEDED'
  | 'RECON_USAGE'
  | 'RECON_INTERNAL';

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

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Exit status for a code: 2 for what the operator must fix in config or invocation, 3 for bad input
 * data, 4 for infrastructure.
 */
export function exitCodeFor(code: string): number {
  if (code === 'RECON_USAGE' || code.startsWith('RECON_CONFIG') || code === 'RECON_PLUGIN_INVALID')
    return 2;
  if (
    code.startsWith('RECON_DBF') ||
    code === 'RECON_ASOF_MIXED' ||
    code === 'RECON_NO_FILES' ||
    code.startsWith('RECON_ZIP') ||
    code === 'RECON_FETCH_UNSAFE_NAME' ||
    code === 'RECON_LEDGER_UNMAPPED_TYPE' ||
    code === 'RECON_FIXED_POINT_OVERFLOW'
  )
    return 3;
  if (
    code === 'RECON_LEDGER_READ' ||
    code === 'RECON_STORE_WRITE' ||
    code === 'RECON_FETCH' ||
    code.startsWith('RECON_SFTP') ||
    code === 'RECON_ABANDONED' ||
    code === 'RECON_LEASE_LOST' ||
    code === 'RECON_SUPERSEDED'
  )
    return 4;
  return 1;
}
