/**
 * A run lease in MongoDB, so two daemons on two hosts never run the same job, nor two jobs at once.
 *
 * Only one kind of write is atomic on both FerretDB 1.24 and MongoDB: an insert that collides on a
 * unique _id (FerretDB applies a filtered update or findOneAndUpdate as read-then-write, so two
 * concurrent compare-and-sets on one expired lease both succeed). So the lease is a sequence of
 * documents, one per acquisition, `_id = <name>|<token>`: the document with the highest token is
 * the current lease. To acquire, a daemon reads the current one; when it is free (released or
 * expired) it inserts the next token. Of two daemons racing for the same token exactly one insert
 * succeeds; the other gets a duplicate key, which means "held". The token is the fencing token.
 *
 * The holder renews its document while it runs. At publish, `fence()` checks that no later token
 * exists and that a third of the lease time is left (the holder renews every third), so a holder
 * whose lease expired and was taken over cannot publish. Residual window, honestly: that check and
 * the run's commit are two writes to two documents, so a process that stalls longer than a third of
 * the lease between them may still commit after a take-over; the store's conditional publish
 * (core/store/mongodb.ts) then refuses the earlier-started run if the later one committed first,
 * and its cleanup never removes a later run's rows.
 *
 * "At once" is not enough for a schedule: with clocks a second apart, host A can finish the 07:30
 * job and release before host B's 07:30 tick fires, and B would run it again. So a scheduled
 * acquisition names its job (the tick's nominal time, which every host computes alike from the
 * cron pattern), and a release after a finished run marks its document `done`; a job with a done
 * document is never taken again. A holder that dies mid-run never marks it, so after expiry another
 * daemon may still take that job over.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Collection } from 'mongodb';
import { ReconError } from './errors.js';
import { isDriverError } from './mongo-client.js';

export interface LeaseDoc {
  /** `<name>|<token>`. */
  _id: string;
  name: string;
  token: number;
  holder: string;
  expires_at: Date;
  taken_at: Date;
  /** The job taken (a tick's nominal time), or null for an unnamed run. */
  job: string | null;
  /** The job finished: no daemon takes it again. */
  done?: boolean;
  last_fenced_run?: string;
}

export interface HeldLease {
  holder: string;
  token: number;
  job?: string;
}

/** Why a lease was not taken: who holds it, or that the job is done. */
export interface LeaseRefusal {
  reason: 'held' | 'done';
  holder: string;
  token: number;
  job: string | null;
  expiresAt: Date | null;
}

export class Lease {
  readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private held: HeldLease | null = null;
  /** Why the last acquire() returned null. */
  refusal: LeaseRefusal | null = null;

  constructor(
    private readonly collection: () => Promise<Collection<LeaseDoc>>,
    private readonly name: string,
    private readonly ttlMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get current(): HeldLease | null {
    return this.held;
  }

  private docId(token: number): string {
    return `${this.name}|${token}`;
  }

  private async latest(col: Collection<LeaseDoc>): Promise<LeaseDoc | null> {
    return (await col.find({ name: this.name }).sort({ token: -1 }).limit(1).toArray())[0] ?? null;
  }

  /**
   * Takes the lease if it is free or expired; null (and `refusal` says why) when another holder has
   * it, when `job` is given and that job already finished, or when another daemon took it first.
   */
  async acquire(job?: string): Promise<HeldLease | null> {
    const col = await this.collection();
    await col.createIndex({ name: 1, token: -1 }, { name: 'name_token' });
    const now = this.now();
    this.refusal = null;
    if (job !== undefined) {
      const done = await col.findOne({ name: this.name, job, done: true });
      if (done) return this.refuse('done', done);
    }
    const current = await this.latest(col);
    if (current && current.expires_at > now && current.holder !== this.holder)
      return this.refuse('held', current);
    const token = (current?.token ?? 0) + 1;
    try {
      await col.insertOne({
        _id: this.docId(token),
        name: this.name,
        token,
        holder: this.holder,
        expires_at: new Date(now.getTime() + this.ttlMs),
        taken_at: now,
        job: job ?? null,
      });
    } catch (err) {
      if (isDriverError(err, 'MongoServerError') && err.code === 11000) {
        const winner = await col.findOne({ _id: this.docId(token) });
        return this.refuse(
          'held',
          winner ?? { holder: 'unknown', token, job: job ?? null, expires_at: null },
        );
      }
      throw err;
    }
    this.held = { holder: this.holder, token, job };
    return this.held;
  }

  private refuse(
    reason: LeaseRefusal['reason'],
    doc: Pick<LeaseDoc, 'holder' | 'token' | 'job'> & { expires_at: Date | null },
  ): null {
    this.refusal = {
      reason,
      holder: doc.holder,
      token: doc.token,
      job: doc.job,
      expiresAt: doc.expires_at,
    };
    return null;
  }

  /** True while our token is the latest: nobody took the lease over. */
  private async stillLatest(col: Collection<LeaseDoc>, token: number): Promise<boolean> {
    return (
      (await col.countDocuments({ name: this.name, token: { $gt: token } }, { limit: 1 })) === 0
    );
  }

  /** Extends the lease; false when it was lost (expired and taken over). */
  async renew(): Promise<boolean> {
    if (!this.held) return false;
    const col = await this.collection();
    if (!(await this.stillLatest(col, this.held.token))) return false;
    const res = await col.updateOne(
      { _id: this.docId(this.held.token), holder: this.holder },
      { $set: { expires_at: new Date(this.now().getTime() + this.ttlMs) } },
    );
    return res.matchedCount === 1 && (await this.stillLatest(col, this.held.token));
  }

  /**
   * The fencing check at publish, called right before the commit write: fails unless our token is
   * still the latest and at least a third of the lease time is left.
   */
  async fence(runId: string): Promise<void> {
    const col = await this.collection();
    const token = this.held?.token ?? -1;
    const mine = await col.findOne({ _id: this.docId(token), holder: this.holder });
    const enough = new Date(this.now().getTime() + Math.floor(this.ttlMs / 3));
    if (!mine || mine.expires_at <= enough || !(await this.stillLatest(col, token))) {
      throw new ReconError(
        'RECON_LEASE_LOST',
        `run ${runId} lost its lease (token ${token}) before publishing; another daemon holds the job now, so nothing was published`,
      );
    }
    await col.updateOne(
      { _id: this.docId(token), holder: this.holder },
      { $set: { last_fenced_run: runId } },
    );
  }

  /** Frees the lease; `finished` marks the held job done, so no daemon takes it again. */
  async release(options: { finished?: boolean } = {}): Promise<void> {
    if (!this.held) return;
    const col = await this.collection();
    const done = options.finished && this.held.job !== undefined ? { done: true } : {};
    await col.updateOne(
      { _id: this.docId(this.held.token), holder: this.holder },
      { $set: { expires_at: new Date(0), ...done } },
    );
    this.held = null;
  }
}
