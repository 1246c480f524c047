import type { MergerSeries } from './merger-series.ts';
import { decodePartial, encodePartial, type WindowsSnapshot } from './merger-snapshot.ts';
import { NONE } from './series-table.ts';
import type { PartialAggregate } from './partial.ts';
import type { MergerOptions, MergerWindows } from './window-merger.ts';

/**
 * Stage 2's session windows: per series, sessions of events no more than `gap` apart, merged
 * when a fragment bridges two; a session closes when the watermark passes its last event plus
 * the gap and the allowed lateness, and emits at that end (its cumulative kinds too).
 */
export class SessionWindows implements MergerWindows {
  private readonly sessions = new Map<string, PartialAggregate[]>();

  constructor(
    private readonly gapMs: number,
    private readonly series: MergerSeries,
    private readonly options: Pick<MergerOptions, 'allowedLatenessMs' | 'expireAfterMs'>,
  ) {}

  add(incoming: PartialAggregate, watermark: number): 'ok' | 'late' {
    const known = this.series.isKnown(incoming);
    const partial = this.series.admit(incoming);
    const result = this.addFragment(partial, watermark);
    // A late fragment of a series it just admitted leaves nothing behind: give the budget back.
    if (result === 'late' && !known && partial === incoming) this.series.unadmit(incoming);
    return result;
  }

  private addFragment(partial: PartialAggregate, watermark: number): 'ok' | 'late' {
    const gap = this.gapMs;
    let sessions = this.sessions.get(partial.key);
    if (!sessions) this.sessions.set(partial.key, (sessions = []));
    let target: PartialAggregate | undefined;
    for (let i = 0; i < sessions.length; i++) {
      const session = sessions[i]!;
      if (partial.end < session.start - gap || partial.start > session.end + gap) continue;
      if (!target) {
        target = session;
        this.series.mergeAccs(target, partial);
        target.start = Math.min(target.start, partial.start);
        target.end = Math.max(target.end, partial.end);
      } else {
        this.series.mergeAccs(target, session);
        target.start = Math.min(target.start, session.start);
        target.end = Math.max(target.end, session.end);
        sessions.splice(i--, 1);
      }
    }
    if (!target) {
      if (partial.end + gap + this.options.allowedLatenessMs <= watermark) return 'late';
      sessions.push(partial);
    }
    return 'ok';
  }

  /** Sessions are not stepped: a catch-up fires them in one jump (their stale markers are stamped by the order of the watermark's steps). */
  nextFireAt(): number {
    return Number.POSITIVE_INFINITY;
  }

  fire(watermark: number): void {
    const gap = this.gapMs;
    const all = this.series;
    const closing: { key: string; session: PartialAggregate }[] = [];
    for (const [key, sessions] of this.sessions) {
      for (let i = 0; i < sessions.length; i++) {
        const session = sessions[i]!;
        if (session.end + gap + this.options.allowedLatenessMs <= watermark) {
          closing.push({ key, session });
          sessions.splice(i--, 1);
        }
      }
      if (sessions.length === 0) this.sessions.delete(key);
    }
    closing.sort((a, b) => a.session.end - b.session.end || (a.key < b.key ? -1 : 1));
    for (const { session } of closing) {
      const end = session.end + gap;
      const series = all.seriesFor(session);
      all.setLastDataEnd(series, end);
      all.table.addTouched(series, session.touched);
      const out = all.emission.out(session.tenant);
      const seconds = (end - session.start) / 1000;
      const emitCumulative = (m: number): void => {
        if (!(session.touched & (1 << m)) && !(all.table.touched(series) & (1 << m))) return;
        all.mergeCumulative(series, m, session.accs[m]);
        let start = all.emission.startOf(series, m);
        if (start === undefined) all.emission.setStart(series, m, (start = session.start));
        all.emission.emitCumulative(series, m, end, seconds, start, out);
      };
      all.table.addTouched(series, all.emission.emitWindowed(series, session.key, session.accs, session.touched, session.start, end, emitCumulative));
    }
    const table = all.table;
    for (let series = table.first, next = NONE; series !== NONE; series = next) {
      next = table.next(series);
      const expiry = all.lastDataEnd(series) + this.options.expireAfterMs;
      if (expiry > watermark) continue;
      const key = table.key(series);
      if (!this.sessions.has(key)) {
        all.emission.emitStale(series, expiry);
        all.expire(series, key, false); // no session of it waits (checked above)
      }
    }
  }

  *waiting(): Iterable<PartialAggregate> {
    for (const sessions of this.sessions.values()) yield* sessions;
  }

  snapshot(): WindowsSnapshot {
    const groups = this.series.groups;
    return {
      // Sessions fire per series, not up to a point in time: nothing to keep of the time windows'.
      firedThrough: Number.NEGATIVE_INFINITY,
      nextEnd: null,
      panes: [],
      sessions: [...this.sessions.values()].flatMap((sessions) => sessions.map((p) => encodePartial(groups, p))),
    };
  }

  restore(wire: WindowsSnapshot): void {
    this.sessions.clear();
    for (const encoded of wire.sessions) {
      const partial = decodePartial(this.series.groups, encoded);
      const list = this.sessions.get(partial.key) ?? [];
      list.push(partial);
      this.sessions.set(partial.key, list);
    }
  }
}
