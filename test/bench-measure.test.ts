// The benchmark's count of what a removal left behind (bench/measure.ts countLeft).
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { countLeft } from '../bench/measure.js';

const kilnOwn = (path: string) => path === 'var' || path === 'etc/kiln';

test("countLeft: a directory around the tool's own files is not counted, what else it holds is", () => {
  const root = mkdtempSync(join(tmpdir(), 'kiln-countleft-'));
  try {
    mkdirSync(join(root, 'var/lib/kiln'), { recursive: true });
    writeFileSync(join(root, 'var/lib/kiln/kiln.db'), '');
    mkdirSync(join(root, 'etc/kiln'), { recursive: true });
    writeFileSync(join(root, 'etc/kiln/config.toml'), '');
    assert.deepEqual(countLeft(root, kilnOwn), { files: 0, dirs: 0 });

    writeFileSync(join(root, 'etc/left.conf'), '');
    mkdirSync(join(root, 'etc/left.d'));
    mkdirSync(join(root, 'usr/share'), { recursive: true });
    symlinkSync('nowhere', join(root, 'usr/share/link'));
    assert.deepEqual(countLeft(root, kilnOwn), { files: 2, dirs: 3 });
    // Without the tool's own paths skipped, everything counts.
    assert.deepEqual(countLeft(root), { files: 4, dirs: 8 });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
