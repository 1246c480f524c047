/**
 * What the status page, `/status.json` and `sluice top` show of a running instance: one plain,
 * JSON-ready shape, so the three views cannot disagree. Rates are per second over the last few
 * seconds; totals are since the process started.
 */

export interface StatusSnapshot {
  readonly version: 1;
  /** When the snapshot was taken (ISO 8601). */
  readonly at: string;
  readonly uptime_s: number;
  /** Hash of every pipeline's config hash, in order: changes whenever any pipeline's config does. */
  readonly config_hash: string;
  readonly pipelines: readonly PipelineStatus[];
  readonly tenants: readonly TenantStatus[];
}

export interface PipelineStatus {
  readonly name: string;
  /** First 16 hex digits of the SHA-256 of the validated config, environment values shown as their `${NAME}`. */
  readonly config_hash: string;
  readonly file: string;
  readonly sources: readonly string[];
  readonly codec: string;
  readonly partials_topic: string;
  readonly partials_partitions: number;
  readonly dead_letter_topic: string;
  /** Tenants the config declares (a default route adds tenants as they appear). */
  readonly tenants: readonly string[];
  readonly default_route: boolean;
  readonly stage1: {
    readonly records_in_total: number;
    readonly records_in_per_s: number;
    readonly filtered_per_s: number;
    readonly dead_letters_per_s: number;
    /** Records between the consumer position and the partition ends, over the owned partitions. */
    readonly consumer_lag: number;
  };
  readonly stage2: {
    /** The lowest stage-2 watermark (ISO 8601), or null before one is known. */
    readonly watermark: string | null;
    readonly watermark_delay_s: number | null;
    readonly active_series: number;
    readonly paused_partitions: number;
    readonly checkpoints_per_s: number;
    readonly late_partials_total: number;
  };
  /** Per reason, the records rejected since start, per second now, and in the last RECENT_S seconds; most recent first. */
  readonly dead_letters: readonly DeadLetterStatus[];
}

export interface DeadLetterStatus {
  readonly reason: string;
  readonly total: number;
  readonly per_s: number;
  readonly recent: number;
}

export interface TenantStatus {
  readonly tenant: string;
  readonly pipelines: readonly string[];
  readonly samples_in_per_s: number;
  readonly samples_sent_per_s: number;
  readonly samples_sent_total: number;
  /** Samples queued or in flight (`sluice_remote_write_samples_pending`). */
  readonly backlog: number;
  readonly failed_total: number;
  readonly failed_per_s: number;
  /** The failure reason whose count rose last, and when. */
  readonly last_error: { readonly reason: string; readonly at: string } | null;
  readonly overflow_total: number;
  readonly overflow_per_s: number;
  readonly active_series: number;
  readonly blocked: boolean;
}

/** The window `recent` dead-letter counts cover. */
export const RECENT_S = 300;
