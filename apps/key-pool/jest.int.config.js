// Integration tests of key-pool (*.int-spec.ts, real Redis at REDIS_URL and SQLite in a temp dir): `nx int key-pool`.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'key-pool:int',
  roots: ['<rootDir>/apps/key-pool'],
  testMatch: ['**/*.int-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
