// Integration tests of auth (*.int-spec.ts, real Redis at REDIS_URL and SQLite in a temp dir): `nx int auth`.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'auth:int',
  roots: ['<rootDir>/apps/auth'],
  testMatch: ['**/*.int-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
