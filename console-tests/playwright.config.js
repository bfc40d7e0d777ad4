// Browser journeys through the console (issue 13), in Debian's Chromium: no browser is downloaded.
// The harness starts `freeport serve` on a fresh data directory; FREEPORT_BIN names the binary
// (default: the release build), CHROMIUM the browser (default: /usr/bin/chromium).
const { defineConfig } = require('@playwright/test');
const os = require('os');
const path = require('path');
const fs = require('fs');

const port = Number(process.env.FREEPORT_CONSOLE_PORT || 18480);
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'freeport-console-'));
const bin = process.env.FREEPORT_BIN || path.join(__dirname, '..', 'target', 'release', 'freeport');

module.exports = defineConfig({
  testDir: 'tests',
  timeout: 60_000,
  workers: 1,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: { executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] },
    locale: 'zh-CN',
  },
  webServer: {
    command: `${bin} serve`,
    url: `http://127.0.0.1:${port}/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: {
      FREEPORT_DATA_DIR: data,
      FREEPORT_LISTEN: `127.0.0.1:${port}`,
      FREEPORT_METRICS_LISTEN: `127.0.0.1:${port + 1}`,
      FREEPORT_ADMIN_PASSWORD: 'console-admin-password',
    },
  },
});
