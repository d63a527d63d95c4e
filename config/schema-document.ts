/**
 * The JSON Schema of recon.config.yaml as the file shipped in the package
 * (config/recon.config.schema.json).
 */
import { configSchema } from './schema.js';

export const SCHEMA_FILE = 'config/recon.config.schema.json';

export function configSchemaDocument(): string {
  return (
    JSON.stringify(
      { $schema: 'http://json-schema.org/draft-07/schema#', ...configSchema },
      null,
      2,
    ) + '\n'
  );
}
