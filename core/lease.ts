/**
 * A run lease in MongoDB, so two daemons on two hosts never run the same job at once.
 *
 * The lease is one document: holder, expiry and a fencing token that increases on every
 * acquisition. Acquire is one atomic findOneAndUpdate that matches only an expired lease or our own;
 * a live lease held by someone else makes the upsert collide on _id, which means "held". The holder
 * renews while it runs. At publish, `fence()` is a compare-and-set on (holder, token): a holder
 * whose lease expired and was taken over has a stale token and cannot publish, whatever it thinks.
 * The fence and the run's commit are two writes (no transactions here), so a run fenced just before
 * its lease lapses may still commit right after; the newer holder's run then commits later and is
 * the latest committed run, which is what readers take.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Collection } from 'mongodb';
import { MongoServerError } from 'mongodb';
import { ReconError } from './errors.js';

export interface LeaseDoc {
  _id: string;
  holder: string;
  token: number;
  expires_at: Date;
  last_fenced_run?: string;
}

export interface HeldLease {
  holder: string;
  token: number;
}

export class Lease {
  readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private held: HeldLease | null = null;

  constructor(private readonly collection: () => Promise<Collection<LeaseDoc>>, private readonly name: string, private readonly ttlMs: number, private readonly now: () => Date = () => new Date()) {}

  get current(): HeldLease | null {
    return this.held;
  }

  /** Takes the lease if it is free or expired; null when another holder has it. */
  async acquire(): Promise<HeldLease | null> {
    const col = await this.collection();
    const now = this.now();
    try {
      const doc = await col.findOneAndUpdate(
        { _id: this.name, $or: [{ expires_at: { $lt: now } }, { holder: this.holder }] },
        { $set: { holder: this.holder, expires_at: new Date(now.getTime() + this.ttlMs) }, $inc: { token: 1 } },
        { upsert: true, returnDocument: 'after' },
      );
      if (!doc || doc.holder !== this.holder) return null;
      this.held = { holder: this.holder, token: doc.token };
      return this.held;
    } catch (err) {
      if (err instanceof MongoServerError && err.code === 11000) return null;
      throw err;
    }
  }

  /** Extends the lease; false when it was lost (expired and taken). */
  async renew(): Promise<boolean> {
    if (!this.held) return false;
    const col = await this.collection();
    const res = await col.updateOne({ _id: this.name, holder: this.holder, token: this.held.token }, { $set: { expires_at: new Date(this.now().getTime() + this.ttlMs) } });
    return res.matchedCount === 1;
  }

  /** The fencing check at publish: fails unless our token is still the current one and unexpired. */
  async fence(runId: string): Promise<void> {
    const col = await this.collection();
    const token = this.held?.token ?? -1;
    const res = await col.updateOne(
      { _id: this.name, holder: this.holder, token, expires_at: { $gt: this.now() } },
      { $set: { last_fenced_run: runId } },
    );
    if (res.matchedCount !== 1) {
      throw new ReconError('RECON_LEASE_LOST', `run ${runId} lost its lease (token ${token}) before publishing; another daemon holds the job now, so nothing was published`);
    }
  }

  async release(): Promise<void> {
    if (!this.held) return;
    const col = await this.collection();
    await col.updateOne({ _id: this.name, holder: this.holder, token: this.held.token }, { $set: { expires_at: new Date(0) } });
    this.held = null;
  }
}
