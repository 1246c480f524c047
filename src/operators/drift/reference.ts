/**
 * How a `drift` metric's reference follows a series, window by window. Each strategy sees every
 * window of the series that had data, in window order, and says what that window is compared
 * with (nothing while the reference is still being collected). Its state is plain data, so it
 * goes into the stage-2 checkpoint and a replay rebuilds the same reference.
 */
import { readFileSync } from 'node:fs';
import type { SeriesStateParts } from '../aggregations/series-state.ts';
import type { DriftReferenceConfig } from './config.ts';
import { CountsUnion } from './counts-union.ts';
import type { DriftSample } from './sample.ts';
import type { SortedCounts } from './sorted-counts.ts';
import { resolveOptions, type DriftWindowOptions, type DriftWindowSnapshot } from './window-options.ts';
import { DriftWindow } from './window.ts';

/** One series' reference state: the windows collected so far (already merged where that is the rule) and a count. */
export interface ReferenceState {
  /** first_windows / range: the one merged reference; trailing_windows: the last N windows, oldest first. */
  windows: DriftWindow[];
  /** first_windows: windows taken so far; trailing_windows: windows taken so far (numbers the checkpoint parts). */
  taken: number;
  /** Checkpoint parts changed since the last incremental checkpoint (`allChanged`: every part). */
  changedParts?: number[] | undefined;
  allChanged?: boolean | undefined;
  /** Restored from parts and not yet put in order: the windows by part, and the ring they were written with. */
  restored?: { readonly slots: (DriftWindow | undefined)[]; readonly ring: number } | undefined;
  /** The encoded state until the next window changes it (checkpoints far outnumber windows). */
  wire?: ReferenceWire | undefined;
  /**
   * trailing_windows: the union of `windows`, kept across windows instead of merged afresh each
   * time (derived, not checkpointed: rebuilt after a restore): as counts per whole value where
   * they fit (`counts`), else as a merged window (`union`). `owed` is the slide it still owes: the
   * union was handed out as the reference, which is scored after `next` returns.
   */
  counts?: CountsUnion | undefined;
  union?: DriftWindow | undefined;
  owed?: { readonly removed: DriftWindow; readonly added: DriftWindow } | undefined;
}

/** What a window is scored against: a reference window, or a trailing union (valid until the strategy's next call). */
export interface ReferenceView {
  readonly size: number;
  sample(): DriftSample;
}

/** Each window as DriftWindow.wire() writes it (version 1 wrote whole snapshots, options included; still read). */
export type ReferenceWire = [unknown[], number];

export interface ReferenceStrategy {
  /** How many checkpoint parts a series' reference has: one per trailing window, one merged reference, or none (a file). */
  readonly parts: number;
  create(): ReferenceState;
  /**
   * The reference to score `current` against (undefined: none yet), then takes `current` in as the
   * rule says. A trailing union stays as handed out until the call after next (it slides in place).
   */
  next(state: ReferenceState, current: DriftWindow, windowStartMs: number, windowEndMs: number): ReferenceView | undefined;
}

export function referenceStrategy(config: DriftReferenceConfig, options: DriftWindowOptions): ReferenceStrategy {
  switch (config.type) {
    case 'first_windows':
      return firstWindows(config.windows);
    case 'trailing_windows':
      return trailingWindows(config.windows, options);
    case 'range':
      return eventTimeRange(config.from, config.to);
    case 'file':
      return fixedReference(loadReferenceFile(config.path, options));
  }
}

const create = (): ReferenceState => ({ windows: [], taken: 0 });

function firstWindows(count: number): ReferenceStrategy {
  return {
    parts: 1,
    create,
    next(state, current) {
      putInOrder(state, 1);
      if (state.taken >= count) return state.windows[0];
      if (state.windows.length === 0) state.windows.push(copy(current));
      else state.windows[0]!.merge(current);
      state.taken++;
      markChanged(state, 0);
      return undefined;
    },
  };
}

function trailingWindows(count: number, options: DriftWindowOptions): ReferenceStrategy {
  return {
    parts: count,
    create,
    next(state, current) {
      putInOrder(state, count);
      if (state.owed !== undefined) {
        slideUnion(state, state.owed.removed, state.owed.added);
        state.owed = undefined;
      }
      if (state.windows.length > count) {
        // Restored from a longer trailing reference (the configuration changed): keep the newest.
        state.windows.splice(0, state.windows.length - count);
        dropUnion(state);
      }
      const added = copy(current);
      markChanged(state, state.taken++ % count);
      if (state.windows.length < count) {
        state.windows.push(added);
        return undefined;
      }
      const reference = unionOf(state, options);
      const removed = state.windows.shift()!;
      state.windows.push(added);
      state.owed = { removed, added };
      return reference;
    },
  };
}

/** Slides the trailing union by the window that left and the one that came (dropped where it cannot: rebuilt at its next use). */
function slideUnion(state: ReferenceState, removed: DriftWindow, added: DriftWindow): void {
  if (state.counts !== undefined) {
    const gone = removed.exactForm();
    const come = added.exactForm();
    if (gone === undefined || come === undefined || !state.counts.slide(gone, come)) state.counts = undefined;
  } else if (state.union !== undefined && !state.union.slide(removed, added, state.windows)) {
    state.union = undefined;
  }
}

function dropUnion(state: ReferenceState): void {
  state.counts = undefined;
  state.union = undefined;
}

/** The trailing union, built when there is none: counts per value where the windows' values allow, else merged. */
function unionOf(state: ReferenceState, options: DriftWindowOptions): ReferenceView {
  if (state.counts !== undefined) return state.counts;
  if (state.union !== undefined) return state.union;
  const forms: SortedCounts[] = [];
  for (const window of state.windows) {
    const form = window.exactForm();
    if (form === undefined) return (state.union = merged(state.windows, options));
    forms.push(form);
  }
  return (state.counts = CountsUnion.of(forms, resolveOptions(options).maxExactValues)) ?? (state.union = merged(state.windows, options));
}

/** Windows wholly inside [from, to) build the reference; windows starting at or after `to` are scored. */
function eventTimeRange(from: number, to: number): ReferenceStrategy {
  return {
    parts: 1,
    create,
    next(state, current, start, end) {
      putInOrder(state, 1);
      if (start >= to) return state.windows[0];
      if (start >= from && end <= to) {
        if (state.windows.length === 0) state.windows.push(copy(current));
        else state.windows[0]!.merge(current);
        markChanged(state, 0);
      }
      return undefined;
    },
  };
}

function fixedReference(reference: DriftWindow): ReferenceStrategy {
  return { parts: 0, create, next: () => reference };
}

function markChanged(state: ReferenceState, part: number): void {
  const changed = (state.changedParts ??= []);
  if (!changed.includes(part)) changed.push(part);
}

/**
 * Checkpointed in parts (an incremental checkpoint's entries), the reference's windows are written
 * only when they change: a trailing reference's one new window per window, a merged reference
 * while it is collected, never after. Was: every window of the reference (6 × ~1.5 KB in
 * scores-bench) packed again at every window of the series. The series entry keeps
 * `['parts', taken, parts]`; part p holds the window taken as number t with t mod parts = p
 * (a merged reference: part 0).
 */
export function referenceParts(strategy: ReferenceStrategy, options: DriftWindowOptions): SeriesStateParts<ReferenceState> {
  const ring = strategy.parts;
  const full = new DriftWindow(options).options;
  const partOf = (state: ReferenceState, i: number): number => (ring === 1 ? 0 : (state.taken - state.windows.length + i) % ring);
  return {
    encodeMain(state) {
      putInOrder(state, ring);
      return [PARTS, state.taken, ring] satisfies PartsMain;
    },
    count: () => ring,
    changed(state, all, put) {
      putInOrder(state, ring);
      // A reference restored from a whole checkpoint (or another ring) has no parts written yet.
      const every = all || state.allChanged === true;
      const changed = state.changedParts ?? [];
      state.windows.forEach((window, i) => {
        const part = partOf(state, i);
        if (every || changed.includes(part)) put(part, window.wire());
      });
      state.changedParts = undefined;
      state.allChanged = undefined;
    },
    restore(state, part, wire) {
      if (state.restored === undefined || !Number.isInteger(part) || part < 0 || part >= state.restored.ring) return;
      state.restored.slots[part] = decodeWindow(wire, full);
    },
  };
}

const PARTS = 'parts';
type PartsMain = [typeof PARTS, number, number];

/** A reference restored from parts: its windows, oldest first, from the ring they were written with. */
function putInOrder(state: ReferenceState, ring: number): void {
  const restored = state.restored;
  if (restored === undefined) {
    // A whole checkpoint of a trailing reference did not number its windows.
    if (ring > 1 && state.taken < state.windows.length) state.taken = state.windows.length;
    return;
  }
  state.restored = undefined;
  dropUnion(state);
  const { slots, ring: written } = restored;
  const windows: DriftWindow[] = [];
  if (written === 1) {
    if (slots[0] !== undefined) windows.push(slots[0]);
  } else {
    for (let t = Math.max(0, state.taken - written); t < state.taken; t++) {
      const window = slots[t % written];
      if (window !== undefined) windows.push(window);
    }
  }
  state.windows = windows;
  if (written !== ring) state.allChanged = true;
}

function merged(windows: readonly DriftWindow[], options: DriftWindowOptions): DriftWindow {
  const union = new DriftWindow(options);
  for (const window of windows) union.merge(window);
  return union;
}

function copy(window: DriftWindow): DriftWindow {
  return window.copy();
}

/** A JSON array of values, or one value per line (blank lines skipped). Numbers are parsed for numerical features. */
export function loadReferenceFile(path: string, options: DriftWindowOptions): DriftWindow {
  const text = readFileSync(path, 'utf8');
  const trimmed = text.trimStart();
  const raw: unknown[] = trimmed.startsWith('[') ? (JSON.parse(trimmed) as unknown[]) : text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (!Array.isArray(raw)) throw new Error(`drift reference ${path}: expected a JSON array or one value per line`);
  const window = new DriftWindow(options);
  raw.forEach((value, i) => {
    if (options.featureType === 'categorical') {
      if (value === null || typeof value === 'object') throw new Error(`drift reference ${path}: value ${i + 1} is not a scalar`);
      window.add(String(value));
      return;
    }
    const v = typeof value === 'number' ? value : Number(String(value).trim());
    if (!Number.isFinite(v)) throw new Error(`drift reference ${path}: value ${i + 1} is not a finite number`);
    window.add(v);
  });
  if (window.size === 0) throw new Error(`drift reference ${path} holds no values`);
  return window;
}

/** The whole reference (a full snapshot; `parts`: the strategy's, to order a reference restored from parts). */
export function encodeReference(state: ReferenceState, parts = 0): ReferenceWire {
  putInOrder(state, parts);
  state.wire ??= [state.windows.map((w) => w.wire()), state.taken];
  return state.wire;
}

/**
 * `options`: the metric's window options (version-2 windows do not carry them). A whole reference,
 * or the series entry of one checkpointed in parts (its windows follow through `restore`).
 */
export function decodeReference(wire: unknown, options: DriftWindowOptions): ReferenceState {
  const full = new DriftWindow(options).options;
  if (Array.isArray(wire) && wire[0] === PARTS) {
    const [, taken, ring] = wire as PartsMain;
    if (!Number.isInteger(taken) || taken < 0 || !Number.isInteger(ring) || ring < 0) throw new TypeError('a drift reference checkpoint entry is malformed');
    return { windows: [], taken, restored: { slots: new Array<DriftWindow | undefined>(ring), ring } };
  }
  const [windows, taken] = wire as ReferenceWire;
  return { windows: windows.map((w) => decodeWindow(w, full)), taken, allChanged: true };
}

function decodeWindow(wire: unknown, options: Required<DriftWindowOptions>): DriftWindow {
  return isSnapshot(wire) ? DriftWindow.restore(wire) : DriftWindow.fromWire(wire, options);
}

function isSnapshot(wire: unknown): wire is DriftWindowSnapshot {
  return typeof wire === 'object' && wire !== null && 'options' in wire;
}
