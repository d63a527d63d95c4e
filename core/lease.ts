/**
 * A run lease in MongoDB, so two daemons on two hosts never run the same job at once.
 *
 * The lease is one document: holder, expiry and a fencing token that increases on every
 * acquisition. Acquire is one atomic findOneAndUpdate that matches only an expired lease or our own;
 * a live lease held by someone else makes the upsert collide on _id, which means "held". The holder
 * renews while it runs. At publish, `fence()` is a compare-and-set on (holder, token): a holder
 * whose lease expired and was taken over has a stale token and cannot publish, whatever it thinks.
 * The fence demands that a third of the lease time is still left (the holder renews every third),
 * so a publish never starts on a lease about to lapse.
 *
 * Residual window, honestly: the fence and the run's commit are two writes to two documents (no
 * multi-document transactions on FerretDB or a standalone MongoDB), so a process that stalls for
 * longer than that third of the lease between them (a long GC pause, a frozen VM, a partition) may
 * still commit after another daemon took over. What limits the damage: the other daemon's run
 * started later, readers take the latest committed run by start time, and the store's supersede
 * step deletes only rows of runs that started earlier, so a late stale commit can neither hide nor
 * erase the newer results; it leaves one extra committed run that the next commit cleans up.
 *
 * "At once" is not enough for a schedule: with clocks a second apart, host A can finish the 07:30
 * job and release before host B's 07:30 tick fires, and B would run it again. So a scheduled
 * acquisition names its job (the tick's nominal time, which every host computes alike from the
 * cron pattern), and a release after a finished run records it in `done_job`; the same job cannot
 * be taken again. A holder that dies mid-run never records it, so after expiry a late daemon may
 * still take that job over.
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
  /** The job last taken, and the last one that finished (see the module comment). */
  job?: string | null;
  done_job?: string | null;
}

export interface HeldLease {
  holder: string;
  token: number;
  job?: string;
}

export class Lease {
  readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private held: HeldLease | null = null;

  constructor(private readonly collection: () => Promise<Collection<LeaseDoc>>, private readonly name: string, private readonly ttlMs: number, private readonly now: () => Date = () => new Date()) {}

  get current(): HeldLease | null {
    return this.held;
  }

  /**
   * Takes the lease if it is free or expired; null when another holder has it, or when `job` is
   * given and that job already finished under some holder.
   */
  async acquire(job?: string): Promise<HeldLease | null> {
    const col = await this.collection();
    const now = this.now();
    const filter = { _id: this.name, $or: [{ expires_at: { $lt: now } }, { holder: this.holder }], ...(job === undefined ? {} : { done_job: { $ne: job } }) };
    try {
      const doc = await col.findOneAndUpdate(
        filter,
        { $set: { holder: this.holder, expires_at: new Date(now.getTime() + this.ttlMs), job: job ?? null }, $inc: { token: 1 } },
        { upsert: true, returnDocument: 'after' },
      );
      if (!doc || doc.holder !== this.holder) return null;
      this.held = { holder: this.holder, token: doc.token, job };
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

  /**
   * The fencing check at publish, called right before the commit write: fails unless our token is
   * still the current one and at least a third of the lease time is left.
   */
  async fence(runId: string): Promise<void> {
    const col = await this.collection();
    const token = this.held?.token ?? -1;
    const res = await col.updateOne(
      { _id: this.name, holder: this.holder, token, expires_at: { $gt: new Date(this.now().getTime() + Math.floor(this.ttlMs / 3)) } },
      { $set: { last_fenced_run: runId } },
    );
    if (res.matchedCount !== 1) {
      throw new ReconError('RECON_LEASE_LOST', `run ${runId} lost its lease (token ${token}) before publishing; another daemon holds the job now, so nothing was published`);
    }
  }

  /** Frees the lease; `finished` records the held job as done, so no daemon takes it again. */
  async release(options: { finished?: boolean } = {}): Promise<void> {
    if (!this.held) return;
    const col = await this.collection();
    const done = options.finished && this.held.job !== undefined ? { done_job: this.held.job } : {};
    await col.updateOne({ _id: this.name, holder: this.holder, token: this.held.token }, { $set: { expires_at: new Date(0), ...done } });
    this.held = null;
  }
}
