/**
 * The recon.config.yaml schema. The TypeScript type is derived from it (json-schema-to-ts), so the
 * two never drift. ajv validates in strict mode: an unknown key is an error, not a silent default.
 */
import type { FromSchema } from 'json-schema-to-ts';

const columnName = { type: 'string', minLength: 1, maxLength: 11 } as const;

/** How ledger transactions become signed positions; the same for every ledger type. */
const ledgerRuleProperties = {
  fields: { $ref: '#/$defs/ledgerFields' },
  typeSigns: { $ref: '#/$defs/typeSigns' },
  ignoreTypes: { type: 'array', items: { type: 'string' } },
  ignoreUnmappedTypes: { type: 'boolean' },
} as const;

export const localFetchSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'dir', 'pattern'],
  properties: {
    type: { const: 'local' },
    dir: {
      type: 'string',
      minLength: 1,
      description: 'folder holding the files (relative to this config file)',
    },
    pattern: {
      type: 'string',
      minLength: 1,
      description: 'glob on the file name, case-insensitive, e.g. cams*.dbf or cams*.{dbf,zip}',
    },
    stagingDir: {
      type: 'string',
      minLength: 1,
      description: 'where zip archives are extracted (default ./staging/<source>)',
    },
    zipPassword: { type: 'string', minLength: 1 },
  },
} as const;

export const sftpFetchSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'host', 'username', 'hostFingerprints', 'remoteDir', 'pattern'],
  properties: {
    type: { const: 'sftp' },
    host: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    username: { type: 'string', minLength: 1 },
    password: { type: 'string', minLength: 1 },
    privateKeyPath: { type: 'string', minLength: 1 },
    passphrase: { type: 'string', minLength: 1 },
    hostFingerprints: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: '^SHA256:[A-Za-z0-9+/]{43}$' },
      description: 'pinned host keys, as `ssh-keygen -lf` prints them',
    },
    remoteDir: { type: 'string', minLength: 1 },
    pattern: { type: 'string', minLength: 1 },
    stagingDir: {
      type: 'string',
      minLength: 1,
      description: 'download folder (default ./staging/<source>)',
    },
    zipPassword: { type: 'string', minLength: 1 },
    connectTimeoutSeconds: { type: 'number', exclusiveMinimum: 0 },
    operationTimeoutSeconds: { type: 'number', exclusiveMinimum: 0 },
    retries: { type: 'integer', minimum: 0, maximum: 20 },
  },
} as const;

export const sourceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'plugin', 'fetch'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$' },
    plugin: {
      oneOf: [
        {
          type: 'string',
          minLength: 1,
          description: 'cams, karvy, a module path or a package name',
        },
        {
          type: 'object',
          description:
            'a registrar declared inline (name, description, columns, dateFormats, normalise); validated like a module plugin',
        },
      ],
    },
    recordCount: {
      enum: ['header', 'present'],
      default: 'header',
      description:
        'header: a header count that differs from the records present fails the file (RECON_DBF_COUNT); present: read every complete record present',
    },
    fetch: {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: ['local', 'sftp'] } },
      discriminator: { propertyName: 'type' },
      oneOf: [localFetchSchema, sftpFetchSchema],
    },
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
      type: 'string',
      minLength: 1,
      description:
        'text encoding of character fields (default: header language driver, else latin1)',
    },
    productCodePatterns: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
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
    timezone: { type: 'string', default: 'Asia/Kolkata' },
    ledger: {
      type: 'object',
      required: ['type'],
      properties: {
        type: {
          enum: ['mongodb', 'ndjson'],
          description: 'mongodb: the book of record in MongoDB; ndjson: an offline file',
        },
      },
      discriminator: { propertyName: 'type' },
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'uri', 'database'],
          properties: {
            type: { const: 'mongodb' },
            uri: { type: 'string', minLength: 1 },
            database: { type: 'string', minLength: 1 },
            collection: { type: 'string', minLength: 1 },
            aggregation: {
              enum: ['server', 'client'],
              description: 'server: $group in MongoDB; client: stream and sum here (FerretDB)',
            },
            ...ledgerRuleProperties,
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'path'],
          properties: {
            type: { const: 'ndjson' },
            path: { type: 'string', minLength: 1 },
            ...ledgerRuleProperties,
          },
        },
      ],
    },
    store: {
      type: 'object',
      required: ['type'],
      properties: {
        type: {
          enum: ['mongodb', 'files'],
          description: 'mongodb: write-then-publish collections; files: a folder per run',
        },
      },
      discriminator: { propertyName: 'type' },
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'uri', 'database'],
          properties: {
            type: { const: 'mongodb' },
            uri: { type: 'string', minLength: 1 },
            database: { type: 'string', minLength: 1 },
            collections: {
              type: 'object',
              additionalProperties: false,
              properties: {
                results: { type: 'string', minLength: 1 },
                runs: { type: 'string', minLength: 1 },
                leases: { type: 'string', minLength: 1 },
                notes: { type: 'string', minLength: 1 },
              },
            },
            batchSize: { type: 'integer', minimum: 1, maximum: 100000 },
            staleAfterMinutes: { type: 'integer', minimum: 1 },
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'dir'],
          properties: {
            type: { const: 'files' },
            dir: { type: 'string', minLength: 1 },
          },
        },
      ],
    },
    reconcile: {
      type: 'object',
      additionalProperties: false,
      properties: {
        tolerance: { type: 'number', minimum: 0, default: 0.001 },
        materiality: {
          type: 'number',
          minimum: 0,
          default: 0,
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
        rangeRecords: { type: 'integer', minimum: 1000, default: 250000 },
      },
      default: {},
    },
    log: {
      type: 'object',
      additionalProperties: false,
      properties: {
        level: {
          enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
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
        timezone: { type: 'string', default: 'Asia/Kolkata' },
        graceSeconds: {
          type: 'number',
          minimum: 0,
          default: 300,
          description: 'on SIGTERM, how long a running run may finish before it is abandoned',
        },
        leaseSeconds: {
          type: 'integer',
          minimum: 1,
          default: 300,
          description: 'lease time to live; renewed every third of it while running',
        },
        leaseName: { type: 'string', minLength: 1, default: 'recon-daily' },
        force: {
          type: 'boolean',
          default: false,
          description: 'reconcile files already reconciled (like recon run --force)',
        },
      },
    },
    reports: {
      type: 'object',
      additionalProperties: false,
      required: ['dir', 'formats'],
      properties: {
        dir: {
          type: 'string',
          minLength: 1,
          description: 'folder for the reports written after each committed run',
        },
        formats: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { enum: ['xlsx', 'csv', 'json', 'html'] },
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
          default: 0,
          description: 'alert when new breaks exceed this',
        },
        fileDeadline: {
          type: 'string',
          pattern: '^([01]\\d|2[0-3]):[0-5]\\d$',
          description: 'daemon: HH:MM (schedule timezone) by which every source must have arrived',
        },
        timeoutSeconds: { type: 'number', exclusiveMinimum: 0, default: 10 },
      },
    },
    health: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean', default: true },
        host: { type: 'string', minLength: 1, default: '127.0.0.1' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 9464 },
      },
      default: {},
    },
  },
  $defs: {
    ledgerFields: {
      type: 'object',
      additionalProperties: false,
      properties: {
        folio: { type: 'string', minLength: 1 },
        productCode: { type: 'string', minLength: 1 },
        units: { type: 'string', minLength: 1 },
        type: { type: 'string', minLength: 1 },
        date: { type: 'string', minLength: 1 },
        schemeName: { type: 'string', minLength: 1 },
        nav: {
          type: 'string',
          minLength: 1,
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

export type ReconConfig = FromSchema<typeof configSchema>;
export type SourceConfig = FromSchema<typeof sourceSchema>;
export type LocalFetchConfig = FromSchema<typeof localFetchSchema>;
export type SftpFetchConfig = FromSchema<typeof sftpFetchSchema>;
