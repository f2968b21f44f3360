// Integration tests of admin (*.int-spec.ts, real Redis at REDIS_URL and SQLite in a temp dir): `nx int admin`.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'admin:int',
  roots: ['<rootDir>/apps/admin'],
  testMatch: ['**/*.int-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
