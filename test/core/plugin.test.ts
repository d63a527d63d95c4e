import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReconError } from '../../core/errors.js';
import { loadPlugin, resolvePluginSpecifier } from '../../core/plugin.js';
import { withTempDir } from '../support/day.js';

describe('source plugins', () => {
  let dir: string;
  withTempDir('plugin', (d) => (dir = d));

  it('loads the built-in cams and karvy plugins by name', async () => {
    expect((await loadPlugin(resolvePluginSpecifier('cams', dir))).columns.asOf.name).to.equal(
      'ASSET_DATE',
    );
    expect((await loadPlugin(resolvePluginSpecifier('karvy', dir))).columns.asOf.name).to.equal(
      'TODATE',
    );
  });

  it('loads a plugin from a module path relative to the config folder', async () => {
    await writeFile(
      join(dir, 'franklin.mjs'),
      `export default { name: 'franklin', description: 'Franklin', dateFormats: ['dd-mm-yyyy'],
      columns: { productCode: { name: 'SCHEME' }, folio: { name: 'FOLIO' }, units: { name: 'UNITS' }, asOf: { name: 'NAVDATE' } } };`,
    );
    const plugin = await loadPlugin(resolvePluginSpecifier('./franklin.mjs', dir));
    expect(plugin.name).to.equal('franklin');
  });

  it('names the plugin and every problem when a plugin is invalid', async () => {
    await writeFile(
      join(dir, 'broken.mjs'),
      `export default { name: 'broken', description: 'x', dateFormats: ['mm/dd/yy'], columns: { folio: { name: 'F' }, units: {} } };`,
    );
    const err = await loadPlugin(resolvePluginSpecifier('./broken.mjs', dir)).then(
      () => null,
      (e: unknown) => e as ReconError,
    );
    expect(err?.code).to.equal('RECON_PLUGIN_INVALID');
    expect(err?.message)
      .to.contain('broken.mjs')
      .and.contain('columns.productCode.name')
      .and.contain('columns.units.name')
      .and.contain('unknown format "mm/dd/yy"');
  });

  it('reports a plugin package that cannot be imported', async () => {
    const err = await loadPlugin('recon-plugin-that-does-not-exist').then(
      () => null,
      (e: unknown) => e as ReconError,
    );
    expect(err?.code).to.equal('RECON_PLUGIN_INVALID');
    expect(err?.message).to.contain('recon-plugin-that-does-not-exist');
  });
});
