/**
 * How the benchmark drives a peer package manager on a fresh root: set up its
 * empty database, then install, list, find the owner of a path and remove.
 */
import type { FormatKey } from './common.js';

export interface Cmd {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export interface PeerTool {
  tool: 'dpkg' | 'pacman' | 'rpm';
  /** The package format it installs. */
  format: FormatKey;
  /** Commands installing and querying need. */
  installTools: string[];
  /** Untimed: an empty database under the root (and anything the tool keeps beside it). */
  setupRoot(root: string): void;
  /** Install all `files` (absolute paths, in dependency order) in one invocation. */
  install(root: string, files: string[]): Cmd;
  list(root: string): Cmd;
  /** `path` relative to the root. */
  owns(root: string, path: string): Cmd;
  remove(root: string, names: string[]): Cmd;
  /** Paths under the root (relative) that are the tool's own, not the packages'. */
  own(path: string): boolean;
}
