import { expect } from 'chai';
import unnamedTask, * as worker from '../../core/worker.js';

describe('the pool threads’ entry module', () => {
  it('has a default export, so that piscina starting a thread finds one without importing the module again', () => {
    // Without it piscina import()s the module beside its require(); on Node 22.18 the two in
    // flight together can abort the process.
    expect(unnamedTask).to.be.a('function');
    expect(() => unnamedTask()).to.throw(/run by name: decode, merge, ledgerRange or sha256/);
    for (const name of ['decode', 'merge', 'ledgerRange', 'sha256'] as const)
      expect(worker[name], name).to.be.a('function');
  });
});
