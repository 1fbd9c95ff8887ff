#!/usr/bin/env node
/**
 * The `kilnd` command (package.json "bin"): `kiln daemon` under its own name,
 * for unit files and process lists. `kilnd --prefix / --policy FILE` is
 * `kiln daemon --prefix / --policy FILE` (docs/kilnd.md).
 */
import { start } from './kiln.cjs';

void start(['daemon', ...process.argv.slice(2)]);
