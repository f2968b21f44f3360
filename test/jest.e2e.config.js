// End-to-end tests (test/e2e, test/browser): real processes started from the built apps (GG_DIST_DIR, default
// dist/out-tsc), two files at a time (test/run-e2e.sh): `nx e2e e2e` builds what they start first.
const preset = require('../jest.preset');

module.exports = {
  ...preset,
  displayName: 'e2e',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 60000,
};
