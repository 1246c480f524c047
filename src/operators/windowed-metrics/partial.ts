/**
 * A partial aggregate: what stage 1 knows of one series in one pane (or one session fragment)
 * since its last flush. Stage 2 merges partials from every source partition.
 * For panes, [start, end) is the pane; for sessions, [start, end] spans the fragment's first
 * and last event times.
 */
export interface PartialAggregate {
  readonly group: number;
  readonly key: string;
  readonly tenant: string;
  readonly labelValues: readonly (string | undefined)[];
  start: number;
  end: number;
  readonly accs: unknown[];
  /**
   * Bit m is set once metric m took a record. A metric's series appears only after it has data,
   * so a filtered metric sharing a group with others does not show up as zeros everywhere.
   */
  touched: number;
}
