// What the end-to-end tests against real processes share: loopback ports,
// waiting for a condition, one plexd process, and headless Chromium.
//   PLEXD      the plexd binary (ci.sh builds it)
//   CHROMIUM   the browser (default /usr/bin/chromium)

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const PLEXD = process.env.PLEXD ?? '../../_build/e2e/plexd';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

// freePort returns a TCP port free on 127.0.0.1 now.
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// waitFor polls cond until it returns a truthy value (returned), failing
// with what after ms.
export async function waitFor(cond, what, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// Plexd is one plexd process on loopback ports, with auth none, warn logs
// and a data directory of its own (kept across restart(); not the
// checkout's default) plus the flags given. restart() stops it (SIGTERM:
// graceful shutdown, /disconnect 3000) and starts it again on the same
// ports. log holds its output; url is its HTTP API.
export class Plexd {
  constructor(flags = [], prefix = 'plex-e2e-') {
    this.flags = flags;
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  async start() {
    this.addr ??= `127.0.0.1:${await freePort()}`;
    this.http ??= `127.0.0.1:${await freePort()}`;
    const ready = join(this.dir, 'ready.json');
    rmSync(ready, { force: true });
    this.log = '';
    this.proc = spawn(
      PLEXD,
      ['-addr', this.addr, '-http', this.http, '-auth', 'none', '-log-level', 'warn', '-ready-file', ready,
        '-data-dir', join(this.dir, 'data'), ...this.flags],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc.stdout.on('data', (b) => (this.log += b));
    this.proc.stderr.on('data', (b) => (this.log += b));
    this.exited = new Promise((r) => this.proc.on('exit', r));
    await waitFor(() => existsSync(ready), `plexd ready (log: ${this.log})`);
    this.url = `http://${this.http}`;
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    await this.exited;
  }

  async restart() {
    await this.stop();
    await this.start();
  }
}

// launchChromium starts headless Chromium as the tests run it: as root,
// with no network beyond loopback (docs/web.md).
export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}
