#!/usr/bin/env python3
"""Compare the engine's DBF decoder with dbfread over every DBF file in a folder.

Usage: python3 scripts/dbf-corpus-check.py FOLDER [--json]   (after `npm run build`)

For each *.dbf under FOLDER (any case, recursively) it runs dist/scripts/dbf-dump.js (the layout
and every record as the engine decodes them) and dbfread (Debian python3-dbfread) on the same
file, and sorts the file into one of:
  agree     every field name, live and deleted record count and every value the engine reads
            (C, N, F, D, L) equals dbfread's; values the engine leaves unread (more than four
            decimals, text in a number field) are listed, never counted as agreement silently
  refused   the engine raises a coded error on the file (the reason is printed)
  disagree  some name, count or value differs (each difference is printed)
  reference dbfread itself cannot read the file (its error is printed) and the engine can
Memo, binary and other field types the engine never reads are not compared. Exit status 1 when any
file disagrees, else 0. Needs nothing but the folder: a test runs it on generated files.
"""
import datetime
import decimal
import json
import os
import subprocess
import sys

try:
    import dbfread
except ImportError:
    sys.exit('dbfread is not installed (Debian: apt-get install python3-dbfread)')

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DUMP = os.path.join(ROOT, 'dist', 'scripts', 'dbf-dump.js')
COMPARED = set('CNFDL')


def dbf_files(folder):
    for root, _dirs, files in os.walk(folder):
        for f in sorted(files):
            if f.lower().endswith('.dbf'):
                yield os.path.join(root, f)


def ours(paths):
    if not os.path.exists(DUMP):
        sys.exit('%s is missing: run `npm run build` first' % DUMP)
    out = subprocess.run(['node', DUMP] + paths, check=True, capture_output=True, text=True).stdout
    return {d['file']: d for d in (json.loads(line) for line in out.split('\n') if line)}


def reference(path, encoding):
    # The engine decodes by the language driver or falls back to latin1 (saying so); dbfread by its
    # own table, falling back to ascii. Give dbfread the engine's code page so text compares.
    table = dbfread.DBF(path, encoding=encoding, ignore_missing_memofile=True, char_decode_errors='strict')
    return table, list(table.records), sum(1 for _ in table.deleted)


def same_value(field_type, mine, theirs):
    """(equal, note): note is set for values the engine leaves unread on purpose."""
    if field_type == 'C':
        theirs = theirs.strip(' \0') if isinstance(theirs, str) else theirs
        return mine == theirs, None
    if isinstance(mine, dict) and 'unreadable' in mine:
        if theirs is None:
            return True, None
        return True, 'unread: %r (dbfread %r)' % (mine['unreadable'], theirs)
    if field_type in 'NF':
        if mine is None or theirs is None:
            return mine is None and theirs is None, None
        return decimal.Decimal(mine['number']) == decimal.Decimal(repr(theirs)), None
    if field_type == 'D':
        if mine is None or theirs is None:
            return mine is None and theirs is None, None
        return isinstance(theirs, datetime.date) and mine['date'] == theirs.isoformat(), None
    if field_type == 'L':
        return mine == theirs, None
    return True, None


def compare(path, mine):
    if not mine['ok']:
        return 'refused', ['%s: %s' % (mine['error']['code'], mine['error']['message'])]
    undecodable = sum(1 for r in mine['records'] for v in r['values'] if isinstance(v, str) and '\ufffd' in v)
    undecodable_note = ('%d text value(s) have bytes with no character in %s (a run refuses such a key: RECON_DBF_KEY)'
                        % (undecodable, mine['encoding'])) if undecodable else None
    try:
        table, live, deleted = reference(path, mine['encoding'] if mine['encoding'] != 'latin1' else 'latin-1')
    except Exception as err:  # dbfread's own refusal
        return 'reference', ['dbfread: %s: %s' % (type(err).__name__, err)] + ([undecodable_note] if undecodable_note else [])
    problems, notes = [], []
    if mine['countProblem']:
        notes.append('header count: ' + mine['countProblem']['message'])
    if mine['encodingNote']:
        notes.append(mine['encodingNote'])
    if undecodable_note:
        notes.append(undecodable_note)
    names = [f['name'] for f in mine['fields']]
    if names != table.field_names:
        problems.append('field names: ours %r, dbfread %r' % (names, table.field_names))
    my_live = [r for r in mine['records'] if not r['deleted'] and 'badFlag' not in r]
    my_deleted = sum(1 for r in mine['records'] if r['deleted'])
    if len(my_live) != len(live) or my_deleted != deleted:
        problems.append('records: ours %d live + %d deleted, dbfread %d + %d' % (len(my_live), my_deleted, len(live), deleted))
    unread = 0
    for mine_rec, theirs_rec in zip(my_live, live):
        # dbfread keeps only the last of fields with the same name: compare that one.
        last = {f['name']: i for i, f in enumerate(mine['fields'])}
        for i, f in enumerate(mine['fields']):
            if f['type'] not in COMPARED or f['name'] not in theirs_rec or last[f['name']] != i:
                continue
            equal, note = same_value(f['type'], mine_rec['values'][i], theirs_rec[f['name']])
            if note:
                unread += 1
                if unread <= 3:
                    notes.append('record %d %s %s' % (mine_rec['record'], f['name'], note))
            if not equal and len(problems) < 10:
                problems.append('record %d field %s: ours %r, dbfread %r' % (mine_rec['record'], f['name'], mine_rec['values'][i], theirs_rec[f['name']]))
    if unread > 3:
        notes.append('%d values unread in all' % unread)
    return ('disagree', problems) if problems else ('agree', notes)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    if len(args) != 1 or not os.path.isdir(args[0]):
        sys.exit(__doc__)
    paths = list(dbf_files(args[0]))
    mine = ours(paths) if paths else {}
    results = []
    for p in paths:
        verdict, details = compare(p, mine[p])
        results.append({'file': os.path.relpath(p, args[0]), 'verdict': verdict, 'details': details})
    if '--json' in sys.argv:
        print(json.dumps(results, indent=1))
    else:
        for r in results:
            print('%-9s %s' % (r['verdict'], r['file']))
            for d in r['details']:
                print('          - %s' % d)
        counts = {}
        for r in results:
            counts[r['verdict']] = counts.get(r['verdict'], 0) + 1
        print('files: %d; %s' % (len(results), ', '.join('%s %d' % kv for kv in sorted(counts.items()))))
    return 1 if any(r['verdict'] == 'disagree' for r in results) else 0


if __name__ == '__main__':
    sys.exit(main())
