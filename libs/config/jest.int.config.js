// Integration tests of config (*.int-spec.ts, real Redis at REDIS_URL and SQLite in a temp dir): `nx int config`.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'config:int',
  roots: ['<rootDir>/libs/config'],
  testMatch: ['**/*.int-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
