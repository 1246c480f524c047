/** What the bar writes to: a terminal gets one line redrawn in place, anything else a line per 10 %. */
export interface ProgressOutput {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

/** A terminal redraws at most this often. */
const REDRAW_MS = 200;

/**
 * A progress bar with rate and ETA for long CLI runs (`sluice replay`), written to stderr so
 * stdout keeps only the result. On a terminal it redraws one line (`\r`); piped to a file or CI
 * log it prints a plain line at each tenth, so logs do not fill with control characters.
 */
export class ProgressBar {
  private readonly startedAt: number;
  private drawnAt = 0;
  private tenth = -1;

  constructor(
    private readonly out: ProgressOutput,
    private readonly total: number,
    private readonly unit: string,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  update(done: number): void {
    const now = this.now();
    if (this.out.isTTY) {
      if (now - this.drawnAt < REDRAW_MS && done < this.total) return;
      this.drawnAt = now;
      this.out.write(`\r\x1b[2K${this.line(done, now, Math.max(10, Math.min(40, (this.out.columns ?? 80) - 60)))}`);
      return;
    }
    const tenth = this.total === 0 ? 10 : Math.floor((done / this.total) * 10);
    if (tenth <= this.tenth) return;
    this.tenth = tenth;
    this.out.write(`${this.line(done, now, 20)}\n`);
  }

  /** Ends the bar's line on a terminal. */
  finish(): void {
    if (this.out.isTTY) this.out.write('\n');
  }

  /** `[#####---------------]  25% 2500/10000 records  830/s  ETA 9s` */
  line(done: number, now: number, width: number): string {
    const fraction = this.total === 0 ? 1 : Math.min(1, done / this.total);
    const filled = Math.round(fraction * width);
    const seconds = (now - this.startedAt) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 && done < this.total ? formatSeconds((this.total - done) / rate) : done >= this.total ? 'done' : '?';
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent} ${done}/${this.total} ${this.unit}  ${Math.round(rate)}/s  ETA ${eta}`;
  }
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}
