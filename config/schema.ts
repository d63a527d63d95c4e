/**
 * The recon.config.yaml schema. The TypeScript type is derived from it (json-schema-to-ts), so the
 * two never drift. ajv validates in strict mode: an unknown key is an error, not a silent default.
 * ajv fills in every default below, so a loaded config is complete: code reads `config.timezone`,
 * never `config.timezone ?? ...`. Code that has no config (tests, tools) takes `DEFAULTS`.
 */
import type { FromSchema } from 'json-schema-to-ts';

const TIMEZONE = 'Asia/Kolkata';

/** The defaults ajv fills in, each stated once. */
export const DEFAULTS = {
  timezone: TIMEZONE,
  ledger: {
    fields: {
      folio: 'folio_no',
      productCode: 'product_code',
      units: 'units',
      type: 'transaction_type',
      date: 'transaction_date',
      schemeName: 'scheme_name',
      nav: 'nav',
    },
    typeSigns: { BUY: 1, SELL: -1 },
    ignoreTypes: [],
    ignoreUnmappedTypes: false,
    collection: 'wealth_pulse_transactions',
    aggregation: 'server',
  },
  store: {
    collections: {
      results: 'reconciliation_results',
      runs: 'reconciliation_runs',
      leases: 'recon_leases',
      notes: 'break_notes',
    },
    batchSize: 1000,
    staleAfterMinutes: 360,
  },
  reconcile: { tolerance: 0.001, materiality: 0 },
  pool: { rangeRecords: 250_000 },
  source: { recordCount: 'header' },
  sftp: { port: 22, connectTimeoutSeconds: 20, operationTimeoutSeconds: 60, retries: 3 },
  schedule: {
    timezone: TIMEZONE,
    graceSeconds: 300,
    leaseSeconds: 300,
    leaseName: 'recon-daily',
    force: false,
  },
  alerts: { newBreaksThreshold: 0, timeoutSeconds: 10 },
  health: { enabled: true, host: '127.0.0.1', port: 9464 },
} as const;

/** What a config may name: also the CLI's choices. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const REPORT_FORMATS = ['xlsx', 'csv', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const columnName = { type: 'string', minLength: 1, maxLength: 11 } as const;
const text = { type: 'string', minLength: 1 } as const;

/** Text keys, each with its default. */
function texts<const D extends Record<string, string>>(defaults: D) {
  return Object.fromEntries(
    Object.entries(defaults).map(([key, value]) => [key, { ...text, default: value }]),
  ) as { readonly [K in keyof D]: { readonly type: 'string'; minLength: 1; default: D[K] } };
}

/** One `type:` of a discriminated object: that type's keys and no other. */
function variant<
  const T extends string,
  const R extends readonly string[],
  const P extends Record<string, unknown>,
>(type: T, required: R, properties: P) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['type', ...required],
    properties: { type: { const: type }, ...properties },
  } as const;
}

/**
 * An object whose `type:` picks one of `variants`; a wrong type is reported alone, with the
 * allowed ones.
 */
function byType<const T extends readonly string[], const V extends readonly unknown[]>(
  types: T,
  description: string,
  variants: V,
) {
  return {
    type: 'object',
    required: ['type'],
    properties: { type: { enum: types, description } },
    discriminator: { propertyName: 'type' },
    oneOf: variants,
  } as const;
}

/** How ledger transactions become signed positions; the same for every ledger type. */
const ledgerRuleProperties = {
  fields: { $ref: '#/$defs/ledgerFields', default: {} },
  typeSigns: { $ref: '#/$defs/typeSigns', default: DEFAULTS.ledger.typeSigns },
  ignoreTypes: {
    type: 'array',
    items: { type: 'string' },
    default: DEFAULTS.ledger.ignoreTypes,
  },
  ignoreUnmappedTypes: { type: 'boolean', default: DEFAULTS.ledger.ignoreUnmappedTypes },
} as const;

/** Where a source's files land before they are read. */
const stagingProperties = (description: string) =>
  ({
    stagingDir: { ...text, description },
    zipPassword: text,
  }) as const;

/** The database of a MongoDB ledger or store. */
const mongodbProperties = { uri: text, database: text } as const;

export const localFetchSchema = variant('local', ['dir', 'pattern'], {
  dir: { ...text, description: 'folder holding the files (relative to this config file)' },
  pattern: {
    ...text,
    description: 'glob on the file name, case-insensitive, e.g. cams*.dbf or cams*.{dbf,zip}',
  },
  ...stagingProperties('where zip archives are extracted (default ./staging/<source>)'),
});

export const sftpFetchSchema = variant(
  'sftp',
  ['host', 'username', 'hostFingerprints', 'remoteDir', 'pattern'],
  {
    host: text,
    port: { type: 'integer', minimum: 1, maximum: 65535, default: DEFAULTS.sftp.port },
    username: text,
    password: text,
    privateKeyPath: text,
    passphrase: text,
    hostFingerprints: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: '^SHA256:[A-Za-z0-9+/]{43}$' },
      description: 'pinned host keys, as `ssh-keygen -lf` prints them',
    },
    remoteDir: text,
    pattern: text,
    ...stagingProperties('download folder (default ./staging/<source>)'),
    connectTimeoutSeconds: {
      type: 'number',
      exclusiveMinimum: 0,
      default: DEFAULTS.sftp.connectTimeoutSeconds,
    },
    operationTimeoutSeconds: {
      type: 'number',
      exclusiveMinimum: 0,
      default: DEFAULTS.sftp.operationTimeoutSeconds,
    },
    retries: { type: 'integer', minimum: 0, maximum: 20, default: DEFAULTS.sftp.retries },
  },
);

export const sourceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'plugin', 'fetch'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$' },
    plugin: {
      oneOf: [
        { ...text, description: 'cams, karvy, a module path or a package name' },
        {
          type: 'object',
          description:
            'a registrar declared inline (name, description, columns, dateFormats, normalise); validated like a module plugin',
        },
      ],
    },
    recordCount: {
      enum: ['header', 'present'],
      default: DEFAULTS.source.recordCount,
      description:
        'header: a header count that differs from the records present fails the file (RECON_DBF_COUNT); present: read every complete record present',
    },
    fetch: byType(['local', 'sftp'], "local: a folder here; sftp: a registrar's server", [
      localFetchSchema,
      sftpFetchSchema,
    ]),
    columns: {
      type: 'object',
      additionalProperties: false,
      properties: {
        productCode: columnName,
        folio: columnName,
        units: columnName,
        asOf: columnName,
        schemeName: columnName,
        nav: columnName,
      },
    },
    encoding: {
      ...text,
      description:
        'text encoding of character fields (default: header language driver, else latin1)',
    },
    productCodePatterns: {
      type: 'array',
      items: text,
      description: 'regexes of product codes this registrar services',
    },
  },
} as const;

export const configSchema = {
  $id: 'https://brokerage-recon/config.schema.json',
  title: 'brokerage-recon recon.config.yaml',
  type: 'object',
  additionalProperties: false,
  required: ['ledger', 'store', 'sources'],
  properties: {
    timezone: { type: 'string', default: DEFAULTS.timezone },
    ledger: byType(
      ['mongodb', 'ndjson'],
      'mongodb: the book of record in MongoDB; ndjson: an offline file',
      [
        variant('mongodb', ['uri', 'database'], {
          ...mongodbProperties,
          collection: { ...text, default: DEFAULTS.ledger.collection },
          aggregation: {
            enum: ['server', 'client'],
            default: DEFAULTS.ledger.aggregation,
            description: 'server: $group in MongoDB; client: stream and sum here (FerretDB)',
          },
          ...ledgerRuleProperties,
        }),
        variant('ndjson', ['path'], { path: text, ...ledgerRuleProperties }),
      ],
    ),
    store: byType(
      ['mongodb', 'files'],
      'mongodb: write-then-publish collections; files: a folder per run',
      [
        variant('mongodb', ['uri', 'database'], {
          ...mongodbProperties,
          collections: {
            type: 'object',
            additionalProperties: false,
            properties: texts(DEFAULTS.store.collections),
            default: {},
          },
          batchSize: {
            type: 'integer',
            minimum: 1,
            maximum: 100000,
            default: DEFAULTS.store.batchSize,
          },
          staleAfterMinutes: {
            type: 'integer',
            minimum: 1,
            default: DEFAULTS.store.staleAfterMinutes,
          },
        }),
        variant('files', ['dir'], { dir: text }),
      ],
    ),
    reconcile: {
      type: 'object',
      additionalProperties: false,
      properties: {
        tolerance: { type: 'number', minimum: 0, default: DEFAULTS.reconcile.tolerance },
        materiality: {
          type: 'number',
          minimum: 0,
          default: DEFAULTS.reconcile.materiality,
          description:
            'rupees: breaks worth less are marked immaterial, counted apart, never alerted',
        },
      },
      default: {},
    },
    pool: {
      type: 'object',
      additionalProperties: false,
      properties: {
        threads: { type: 'integer', minimum: 1, maximum: 64 },
        rangeRecords: { type: 'integer', minimum: 1000, default: DEFAULTS.pool.rangeRecords },
      },
      default: {},
    },
    log: {
      type: 'object',
      additionalProperties: false,
      properties: {
        level: {
          enum: LOG_LEVELS,
          description:
            'default: info, except `recon run` on a terminal, which shows only the progress bar, summary and one-line error',
        },
      },
      default: {},
    },
    sources: { type: 'array', minItems: 1, items: sourceSchema },
    schedule: {
      type: 'object',
      additionalProperties: false,
      required: ['cron'],
      properties: {
        cron: {
          type: 'string',
          minLength: 9,
          description: 'croner pattern, e.g. "0 30 7 * * *" (seconds first) or "30 7 * * *"',
        },
        timezone: { type: 'string', default: DEFAULTS.schedule.timezone },
        graceSeconds: {
          type: 'number',
          minimum: 0,
          default: DEFAULTS.schedule.graceSeconds,
          description: 'on SIGTERM, how long a running run may finish before it is abandoned',
        },
        leaseSeconds: {
          type: 'integer',
          minimum: 1,
          default: DEFAULTS.schedule.leaseSeconds,
          description: 'lease time to live; renewed every third of it while running',
        },
        leaseName: { ...text, default: DEFAULTS.schedule.leaseName },
        force: {
          type: 'boolean',
          default: DEFAULTS.schedule.force,
          description: 'reconcile files already reconciled (like recon run --force)',
        },
      },
    },
    reports: {
      type: 'object',
      additionalProperties: false,
      required: ['dir', 'formats'],
      properties: {
        dir: { ...text, description: 'folder for the reports written after each committed run' },
        formats: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { enum: REPORT_FORMATS },
        },
      },
    },
    alerts: {
      type: 'object',
      additionalProperties: false,
      required: ['webhook'],
      properties: {
        webhook: { type: 'string', pattern: '^https?://', description: 'POSTed a JSON summary' },
        newBreaksThreshold: {
          type: 'integer',
          minimum: 0,
          default: DEFAULTS.alerts.newBreaksThreshold,
          description: 'alert when new breaks exceed this',
        },
        fileDeadline: {
          type: 'string',
          pattern: '^([01]\\d|2[0-3]):[0-5]\\d$',
          description: 'daemon: HH:MM (schedule timezone) by which every source must have arrived',
        },
        timeoutSeconds: {
          type: 'number',
          exclusiveMinimum: 0,
          default: DEFAULTS.alerts.timeoutSeconds,
        },
      },
    },
    health: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean', default: DEFAULTS.health.enabled },
        host: { ...text, default: DEFAULTS.health.host },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: DEFAULTS.health.port },
      },
      default: {},
    },
  },
  $defs: {
    ledgerFields: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ...texts(DEFAULTS.ledger.fields),
        nav: {
          ...text,
          default: DEFAULTS.ledger.fields.nav,
          description: 'transaction NAV (default nav): values breaks the file gives no NAV for',
        },
      },
    },
    typeSigns: {
      type: 'object',
      minProperties: 1,
      additionalProperties: { enum: [1, -1] },
    },
  },
} as const;

/** A loaded config: every default filled in. */
export type ReconConfig = FromSchema<typeof configSchema>;
export type SourceConfig = FromSchema<typeof sourceSchema>;
export type LocalFetchConfig = FromSchema<typeof localFetchSchema>;
export type SftpFetchConfig = FromSchema<typeof sftpFetchSchema>;
/** Where the ledger keeps each value. */
export type LedgerFields = ReconConfig['ledger']['fields'];
