/**
 * The product's modules in layers, bottom first. A module imports from its own layer or from
 * layers below it, never from one above: the config is read before anything runs, the plugin
 * contract knows nothing of the decoder, adapters know nothing of the run, and only the entry
 * points (CLI, daemon, config loader) see everything. Type-only imports count too. A new module
 * must be placed here; a file listed here must exist.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Bottom first; an entry ending in `/` is a folder (with its subfolders). */
const LAYERS: [name: string, modules: string[]][] = [
  [
    'foundation: errors, fixed-point units, time zones, code pages, keys, CSV and text tables',
    [
      'core/errors.ts',
      'core/redact.ts',
      'core/fixed-point.ts',
      'core/day-boundary.ts',
      'core/dbf/date-formats.ts',
      'core/dbf/code-pages.ts',
      'core/logger.ts',
      'core/file-digest.ts',
      'core/file-identity.ts',
      'core/shared-array.ts',
      'core/reconcile.ts',
      'core/field-padding.ts',
      'core/chunked-writer.ts',
      'core/csv.ts',
      'core/text-table.ts',
      'core/keys/',
    ],
  ],
  ['config: the schema, its defaults and types, a loaded config', ['config/']],
  ['plugin contract', ['core/plugin.ts']],
  ['registrar plugins', ['sources/']],
  [
    'decode and judge',
    [
      'core/dbf/',
      'core/breaks/',
      'core/merge-judge.ts',
      'core/holding-table.ts',
      'core/position-index.ts',
    ],
  ],
  [
    'ledger, store, fetch and what reads them',
    [
      'core/ledger/',
      'core/store/',
      'core/fetch/',
      'core/lease.ts',
      'core/mongo-client.ts',
      'core/health.ts',
      'core/alerts.ts',
      'core/report/',
    ],
  ],
  ['the run', ['core/engine.ts', 'core/pool.ts', 'core/worker.ts', 'core/run/']],
  [
    'entry points: config loader, CLI, daemon',
    [
      'config/load.ts',
      'core/cli.ts',
      'core/daemon.ts',
      'core/after-run.ts',
      'core/inspect.ts',
      'core/progress.ts',
      'core/summary-format.ts',
    ],
  ],
];

/** What config/ may take from core/: the building blocks and the plugin contract. */
const CONFIG_MAY_USE = ['foundation', 'plugin contract'];

/** A layer's short name: its name up to the colon. */
const short = (layer: number, layers = LAYERS) => layers[layer][0].split(':')[0];

const ROOTS = ['core', 'config', 'sources'];

function sources(dir: string): string[] {
  return readdirSync(posix.join(root, dir)).flatMap((name) => {
    const rel = posix.join(dir, name);
    if (statSync(posix.join(root, rel)).isDirectory()) return sources(rel);
    return rel.endsWith('.ts') && !rel.endsWith('.d.ts') ? [rel] : [];
  });
}

/** The layer of a module: its most specific entry (a file beats its folder). */
function layerOf(module: string, layers = LAYERS): number | undefined {
  let best: { layer: number; length: number } | undefined;
  layers.forEach(([, entries], layer) => {
    for (const e of entries) {
      const hit = e.endsWith('/') ? module.startsWith(e) : module === e;
      if (hit && (!best || e.length > best.length)) best = { layer, length: e.length };
    }
  });
  return best?.layer;
}

/** The project modules a file imports (static, dynamic, type-only and re-exports). */
function projectImports(module: string, text: string): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((s) => s.startsWith('.'))
    .map((s) => posix.normalize(posix.join(posix.dirname(module), s)).replace(/\.js$/, '.ts'))
    .filter((m) => m.endsWith('.ts') && ROOTS.some((r) => m.startsWith(`${r}/`)));
}

/** Every import that breaks the layering, as a sentence. */
function upwardImports(files: { module: string; text: string }[], layers = LAYERS): string[] {
  const name = (m: string) => `${m} (${short(layerOf(m, layers)!, layers)})`;
  const problems: string[] = [];
  for (const { module, text } of files) {
    const from = layerOf(module, layers);
    if (from === undefined) {
      problems.push(`${module} is in no layer: place it in LAYERS (test/core/layers.test.ts)`);
      continue;
    }
    for (const target of projectImports(module, text)) {
      const to = layerOf(target, layers);
      if (to === undefined) continue; // reported as the target's own problem
      if (to > from) problems.push(`${name(module)} imports ${name(target)}, a layer above it`);
      else if (
        module.startsWith('config/') &&
        target.startsWith('core/') &&
        !CONFIG_MAY_USE.includes(short(to, layers))
      )
        problems.push(`${name(module)} imports ${name(target)}: config/ uses no core/ internals`);
    }
  }
  return problems;
}

describe('layers', () => {
  const files = ROOTS.flatMap(sources).map((module) => ({
    module,
    text: readFileSync(posix.join(root, module), 'utf8'),
  }));

  it('places every module of core/, config/ and sources/ in a layer that imports only downward', () => {
    expect(files.length).to.be.greaterThan(50);
    expect(upwardImports(files)).to.deep.equal([]);
  });

  it('lists only files that exist', () => {
    const missing = LAYERS.flatMap(([, entries]) => entries)
      .filter((e) => !e.endsWith('/'))
      .filter((e) => !existsSync(posix.join(root, e)));
    expect(missing).to.deep.equal([]);
  });

  it('reports an upward import, a type-only one too, and config/ reaching into core/', () => {
    const problems = upwardImports([
      { module: 'core/ledger/x.ts', text: "import { loadConfig } from '../../config/load.js';" },
      { module: 'core/plugin.ts', text: "import type { X } from './dbf/projection.js';" },
      { module: 'config/loaded.ts', text: "export { createStore } from '../core/store/index.js';" },
      { module: 'core/dbf/y.ts', text: "const m = await import('../engine.js');" },
      { module: 'core/run/plan.ts', text: "import { DEFAULTS } from '../../config/schema.js';" },
      { module: 'core/new-thing/z.ts', text: '' },
    ]);
    expect(problems).to.deep.equal([
      'core/ledger/x.ts (ledger, store, fetch and what reads them) imports config/load.ts (entry points), a layer above it',
      'core/plugin.ts (plugin contract) imports core/dbf/projection.ts (decode and judge), a layer above it',
      'config/loaded.ts (config) imports core/store/index.ts (ledger, store, fetch and what reads them), a layer above it',
      'core/dbf/y.ts (decode and judge) imports core/engine.ts (the run), a layer above it',
      'core/new-thing/z.ts is in no layer: place it in LAYERS (test/core/layers.test.ts)',
    ]);
    expect(
      upwardImports([
        {
          module: 'config/load.ts',
          text: "import { createLedger } from '../core/ledger/index.js';",
        },
      ]),
    ).to.deep.equal([
      'config/load.ts (entry points) imports core/ledger/index.ts (ledger, store, fetch and what reads them): config/ uses no core/ internals',
    ]);
  });
});
