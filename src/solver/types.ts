/**
 * The vocabulary of planning, used without synonyms everywhere else:
 *
 * - **Request**: what a person asked for — a package name, a version range
 *   and option settings.
 * - **Candidate**: one package file a remote offers (its index entry, the
 *   remote's name and priority, and where to fetch it).
 * - **Installed**: a package recorded in the prefix's database.
 * - **Plan**: the ordered actions that take the prefix from what is installed
 *   to what is wanted. Computing a plan changes nothing; `install/` carries
 *   it out.
 *
 * A `Resolver` turns the inputs into a plan; `pubgrubResolver` is the one
 * the client uses (it builds the solver's problem, see problem.ts).
 */
import type { InstalledPackage, InstallReason } from '../db/types.js';
import type { IndexEntry } from '../repo/indexFormat.js';
import type { BuildPolicy, SolverConfig } from './problem.js';

export interface Request {
  name: string;
  /** Canonical version range; '' for any version. */
  range: string;
  /** Option settings asked for with the name (`nginx[+uwsgi,-ssl]`). */
  options?: Record<string, boolean>;
}

export interface Candidate {
  remote: string;
  priority: number;
  entry: IndexEntry;
  /** URL of the package file. */
  url: string;
  /** The same file on the remote's mirrors, tried in order when `url` fails. */
  mirrors?: string[];
  /** Open advisories of its remote that affect it (advisory/findAdvisories.ts). */
  advisories?: CandidateAdvisory[];
}

/** An advisory that affects a candidate: its id, and the version that fixes it when known. */
export interface CandidateAdvisory {
  id: string;
  fixed?: string;
  summary?: string;
}

/** What the host can run. */
export interface HostTarget {
  arch: string;
  libc: string;
  libcVersion: string;
  /** CPU levels the host supports, lowest first (`x86-64`, `x86-64-v2`, …). */
  cpuLevels: string[];
}

export type PlanAction = (
  | { kind: 'install'; name: string; candidate: Candidate; reason: InstallReason }
  | {
      kind: 'upgrade' | 'downgrade' | 'reinstall';
      name: string;
      candidate: Candidate;
      installed: InstalledPackage;
      reason: InstallReason;
    }
  | { kind: 'remove'; name: string; installed: InstalledPackage }
) & {
  /** Why, in words ("nginx needs it; binary from remote main for x86-64-v2"). */
  why?: string;
};

/** A recipe the client can build: what the resolver needs to know of it. */
export interface RecipeOffer {
  /** `CATEGORY/NAME`. */
  id: string;
  name: string;
  /** Version with its revision (`1.22.1-r1`). */
  version: string;
  /** Its options and their defaults. */
  options: Record<string, boolean>;
  /** Run-time dependencies declared by the recipe (the built package adds those found in its files). */
  depends: readonly { name: string; range: string; when?: { option: string; enabled: boolean } }[];
  license: string;
  /** Open advisories of the remotes against this version, each with the option settings of the builds it affects. */
  advisories?: { id: string; fixed?: string; when?: Record<string, boolean> }[];
}

/** A recipe the plan builds before it installs: its package then comes from the prefix's local repository. */
export interface PlannedBuild {
  name: string;
  recipe: string;
  version: string;
  options: Record<string, boolean>;
  why: string;
}

export interface Plan {
  /** Recipes to build first, in order (providers first). */
  builds: PlannedBuild[];
  /** In the order they are carried out: providers before consumers; removals consumers first. */
  actions: PlanAction[];
  /** Installed packages that become `requested` because they were asked for by name. */
  reasonChanges: { name: string; reason: InstallReason }[];
}

export interface ResolveInput {
  installed: readonly InstalledPackage[];
  available: readonly Candidate[];
  host: HostTarget;
  /** Packages to install (or to bring into the range given). */
  install: readonly Request[];
  /** Installed packages to move to their newest candidate; 'all' for every one. */
  upgrade: readonly string[] | 'all';
  /** Installed packages to remove. */
  remove: readonly string[];
  /** Also remove every installed package that needs one being removed. */
  cascade: boolean;
  /** Reinstall requested packages even when the installed one already satisfies the request. */
  reinstall?: boolean;
  /** Also remove packages pulled in as dependencies that nothing requested needs any more. */
  autoremove?: boolean;
  /** Recipes that may be built where no binary will do (see `buildPolicy`). */
  recipes?: readonly RecipeOffer[];
  /** `never` (default without recipes), `missing` (default with), `always`. */
  buildPolicy?: BuildPolicy;
  /** The prefix's solver settings (options, respect-options, allow/deny lists, licenses, protected). */
  settings?: Partial<
    Pick<
      SolverConfig,
      | 'options'
      | 'packageOptions'
      | 'respectOptions'
      | 'binaryAllow'
      | 'binaryDeny'
      | 'acceptLicenses'
      | 'protected'
      | 'allowAdvisories'
    >
  >;
}

export interface Resolver {
  resolve(input: ResolveInput): Plan;
}

/** True when the action puts a new package file in place. */
export function isPlacing(action: PlanAction): action is Exclude<PlanAction, { kind: 'remove' }> {
  return action.kind !== 'remove';
}
