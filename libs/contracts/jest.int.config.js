// Integration tests of contracts (*.int-spec.ts, real Redis at REDIS_URL and SQLite in a temp dir): `nx int contracts`.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'contracts:int',
  roots: ['<rootDir>/libs/contracts'],
  testMatch: ['**/*.int-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
