/**
 * `npm run schema`: writes config/recon.config.schema.json from config/schema.ts (the one source),
 * for editors (the yaml-language-server modeline at the top of recon.config.yaml) and plugin
 * authors. A test fails when the file is out of date.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configSchemaDocument } from '../config/schema-document.js';

const target = fileURLToPath(new URL('../../config/recon.config.schema.json', import.meta.url));
writeFileSync(target, configSchemaDocument());
process.stdout.write(`wrote ${target}\n`);
