/**
 * Which wire protocol a tenant's requests use now. `v1` and `v2` are fixed; `auto` starts with
 * 2.0 and falls back to 1.0 for good (for this sender's life) the first time the receiver shows
 * it speaks 1.0 only: a 415, or a 2xx that confirms nothing written.
 */
import type { Protocol } from './request-encoder.ts';

export type ProtocolSetting = Protocol | 'auto';

export class ProtocolChoice {
  private protocol: Protocol;

  constructor(readonly setting: ProtocolSetting) {
    this.protocol = setting === 'v1' ? 'v1' : 'v2';
  }

  get current(): Protocol {
    return this.protocol;
  }

  /** Whether a request sent as `sentAs` may still fall back (auto, sent as 2.0). */
  canFallBack(sentAs: Protocol): boolean {
    return this.setting === 'auto' && sentAs === 'v2';
  }

  /** Switches to 1.0; true only for the call that switched (so the caller logs and counts once). */
  fallBack(): boolean {
    if (this.protocol === 'v1') return false;
    this.protocol = 'v1';
    return true;
  }
}
