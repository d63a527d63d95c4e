/**
 * Notes, owners and states that follow a break. A note is an annotation with its time and author
 * against the break's identity (source, product code, folio); it is never rewritten. What a break
 * shows is folded from its notes in time order: the latest text, and the latest owner and state
 * anyone set (a note that leaves them out keeps the earlier ones).
 */
import { breakId } from './lifecycle.js';

export const DESK_STATES = ['open', 'investigating', 'raised', 'accepted'] as const;
export type DeskState = (typeof DESK_STATES)[number];

export interface BreakNote {
  source: string | null;
  product_code: string;
  folio_no: string;
  text: string;
  owner: string | null;
  state: DeskState | null;
  author: string;
  at: Date;
}

/** What a break shows from its notes. */
export interface DeskView {
  note: string | null;
  note_at: string | null;
  note_author: string | null;
  owner: string | null;
  state: DeskState | null;
  notes: number;
}

export function noteId(n: Pick<BreakNote, 'source' | 'product_code' | 'folio_no'>): string {
  return breakId(n.source, n.product_code, n.folio_no);
}

/** Folds notes (any order) into what each break shows, by break id. */
export function deskViews(notes: Iterable<BreakNote>): Map<string, DeskView> {
  const sorted = [...notes].sort((a, b) => a.at.getTime() - b.at.getTime());
  const out = new Map<string, DeskView>();
  for (const n of sorted) {
    const id = noteId(n);
    const v = out.get(id) ?? {
      note: null,
      note_at: null,
      note_author: null,
      owner: null,
      state: null,
      notes: 0,
    };
    v.note = n.text;
    v.note_at = n.at.toISOString();
    v.note_author = n.author;
    if (n.owner !== null) v.owner = n.owner;
    if (n.state !== null) v.state = n.state;
    v.notes++;
    out.set(id, v);
  }
  return out;
}
