/**
 * The package as installed in production (`npm ci --omit=dev`), checked from package.json and the
 * lockfile: the tests never install anything, so this is what can be checked without a registry.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const json = <T>(path: string) => JSON.parse(readFileSync(join(root, path), 'utf8')) as T;

interface LockEntry {
  version?: string;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  peer?: boolean;
  hasInstallScript?: boolean;
}
interface Pkg {
  engines: { node: string };
  allowScripts: Record<string, boolean>;
  scripts: Record<string, string>;
  overrides: Record<string, string>;
}

describe('the production install (package.json and package-lock.json)', () => {
  const pkg = json<Pkg>('package.json');
  const lock = json<{ packages: Record<string, LockEntry> }>('package-lock.json').packages;
  const entries = Object.entries(lock).filter(([path]) => path !== '');
  const name = (path: string) =>
    path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

  it('names every dependency that has an install script in allowScripts', () => {
    const withScripts = [
      ...new Set(entries.filter(([, e]) => e.hasInstallScript).map(([path]) => name(path))),
    ].sort();
    expect(withScripts).to.deep.equal(Object.keys(pkg.allowScripts).sort());
  });

  it('keeps TypeScript and the other build tools out of the production tree', () => {
    for (const tool of ['typescript', 'eslint', 'mocha', 'json-schema-to-ts']) {
      const e = lock[`node_modules/${tool}`];
      expect(e, tool).to.not.equal(undefined);
      expect(e.dev, `${tool} is installed by npm ci --omit=dev`).to.equal(true);
    }
    expect(pkg.scripts.prepare, 'a prepare script runs tsc on npm ci --omit=dev').to.equal(
      undefined,
    );
  });

  it('resolves uuid (under exceljs) to a release without the published advisory (11.1.1 or newer)', () => {
    const uuids = entries.filter(([path]) => name(path) === 'uuid').map(([, e]) => e.version!);
    expect(uuids).to.not.deep.equal([]);
    for (const v of uuids) {
      const [major, minor, patch] = v.split('.').map(Number);
      expect(
        major > 11 || (major === 11 && (minor > 1 || (minor === 1 && patch >= 1))),
        v,
      ).to.equal(true);
    }
  });

  it('builds the product only with `npm run build`, and tests against the Node that engines names as the oldest', () => {
    const build = json<{ include: string[] }>('tsconfig.build.json');
    expect(build.include).to.deep.equal(['core', 'sources', 'config']);
    expect(pkg.scripts.build).to.equal('tsc -b tsconfig.build.json');
    const ci = readFileSync(join(root, '.ci/run'), 'utf8');
    expect(ci).to.contain('bash scripts/with-node.sh "$version" bash scripts/test.sh');
    expect(pkg.engines.node).to.match(/^\^22\.\d+ \|\| >=24$/);
  });
});
