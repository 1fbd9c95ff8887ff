/**
 * Terms and incompatibilities (vocabulary in ../problem.ts). A term is a
 * name and a candidate set over that name's slots, the last slot being
 * "absent"; it is positive when the set leaves "absent" out. An
 * incompatibility forbids the partial solution from satisfying all its terms
 * at once; its cause records where it came from, so that a failure can be
 * explained.
 */
import type { Bits } from './bits.js';

export interface Term {
  /** Index into the model's names. */
  readonly name: number;
  readonly bits: Bits;
}

export type Cause =
  /** The root of the problem must be present. */
  | { readonly kind: 'root' }
  /** `request.install`: `text` is the requirement as written canonically. */
  | { readonly kind: 'request'; readonly text: string }
  /** An installed package not asked to be removed stays installed. */
  | { readonly kind: 'keep'; readonly package: string; readonly version: string }
  /** `request.remove`. */
  | { readonly kind: 'remove'; readonly package: string }
  /** `package version` depends on `text`. */
  | { readonly kind: 'dependency'; readonly package: string; readonly version: string; readonly text: string }
  /** `package version` conflicts with `text` (`via` names the provider when the conflict reaches it through `provides`). */
  | {
      readonly kind: 'conflict';
      readonly package: string;
      readonly version: string;
      readonly text: string;
      readonly via: string | undefined;
    }
  /** Satisfying `text` through provider `provider` needs that provider. */
  | { readonly kind: 'provider'; readonly text: string; readonly provider: string }
  /** Learned by conflict resolution from two earlier incompatibilities. */
  | { readonly kind: 'derived'; readonly conflict: Incompatibility; readonly other: Incompatibility };

export interface Incompatibility {
  readonly id: number;
  readonly terms: readonly Term[];
  readonly cause: Cause;
}
