/**
 * How a `drift` metric's reference follows a series, window by window. Each strategy sees every
 * window of the series that had data, in window order, and says what that window is compared
 * with (nothing while the reference is still being collected). Its state is plain data, so it
 * goes into the stage-2 checkpoint and a replay rebuilds the same reference.
 */
import { readFileSync } from 'node:fs';
import type { DriftReferenceConfig } from './config.ts';
import type { DriftWindowOptions, DriftWindowSnapshot } from './window-options.ts';
import { DriftWindow } from './window.ts';

/** One series' reference state: the windows collected so far (already merged where that is the rule) and a count. */
export interface ReferenceState {
  /** first_windows / range: the one merged reference; trailing_windows: the last N windows, oldest first. */
  windows: DriftWindow[];
  /** first_windows: windows taken so far. */
  taken: number;
  /** The encoded state until the next window changes it (checkpoints far outnumber windows). */
  wire?: ReferenceWire | undefined;
  /**
   * trailing_windows: the union of `windows`, kept across windows instead of merged afresh each
   * time (derived, not checkpointed: rebuilt after a restore). `owed` is the slide it still owes:
   * the union was handed out as the reference, which is scored after `next` returns.
   */
  union?: DriftWindow | undefined;
  owed?: { readonly removed: DriftWindow; readonly added: DriftWindow } | undefined;
}

/** Each window as DriftWindow.wire() writes it (version 1 wrote whole snapshots, options included; still read). */
export type ReferenceWire = [unknown[], number];

export interface ReferenceStrategy {
  create(): ReferenceState;
  /** The reference to score `current` against (undefined: none yet), then takes `current` in as the rule says. */
  next(state: ReferenceState, current: DriftWindow, windowStartMs: number, windowEndMs: number): DriftWindow | undefined;
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
    create,
    next(state, current) {
      if (state.taken >= count) return state.windows[0];
      if (state.windows.length === 0) state.windows.push(copy(current));
      else state.windows[0]!.merge(current);
      state.taken++;
      return undefined;
    },
  };
}

function trailingWindows(count: number, options: DriftWindowOptions): ReferenceStrategy {
  return {
    create,
    next(state, current) {
      if (state.owed !== undefined) {
        if (!state.union!.slide(state.owed.removed, state.owed.added, state.windows)) state.union = undefined;
        state.owed = undefined;
      }
      if (state.windows.length > count) {
        // Restored from a longer trailing reference (the configuration changed): keep the newest.
        state.windows.splice(0, state.windows.length - count);
        state.union = undefined;
      }
      const added = copy(current);
      if (state.windows.length < count) {
        state.windows.push(added);
        return undefined;
      }
      const reference = (state.union ??= merged(state.windows, options));
      const removed = state.windows.shift()!;
      state.windows.push(added);
      state.owed = { removed, added };
      return reference;
    },
  };
}

/** Windows wholly inside [from, to) build the reference; windows starting at or after `to` are scored. */
function eventTimeRange(from: number, to: number): ReferenceStrategy {
  return {
    create,
    next(state, current, start, end) {
      if (start >= to) return state.windows[0];
      if (start >= from && end <= to) {
        if (state.windows.length === 0) state.windows.push(copy(current));
        else state.windows[0]!.merge(current);
      }
      return undefined;
    },
  };
}

function fixedReference(reference: DriftWindow): ReferenceStrategy {
  return { create, next: () => reference };
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

export function encodeReference(state: ReferenceState): ReferenceWire {
  state.wire ??= [state.windows.map((w) => w.wire()), state.taken];
  return state.wire;
}

/** `options`: the metric's window options (version-2 windows do not carry them). */
export function decodeReference(wire: unknown, options: DriftWindowOptions): ReferenceState {
  const [windows, taken] = wire as ReferenceWire;
  const full = new DriftWindow(options).options;
  return { windows: windows.map((w) => (isSnapshot(w) ? DriftWindow.restore(w) : DriftWindow.fromWire(w, full))), taken };
}

function isSnapshot(wire: unknown): wire is DriftWindowSnapshot {
  return typeof wire === 'object' && wire !== null && 'options' in wire;
}
